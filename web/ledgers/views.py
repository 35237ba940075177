"""Ledger pages: the list, the record table, a record with its history, edit, import, export.

Every view: parse → load or 404 → check access → call one runtime function → render the page,
or only its fragment for htmx. Scope always comes from the logged-in viewer; every value that
leaves goes through `runtime.masking.present` (or `reveal`, which is audited).
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path
from typing import Any

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_htmx import make_response
from flask_login import current_user

from builder.catalog.specs import Ledger
from runtime.ledgers.blank_template import blank_template
from runtime.ledgers.store import (
    SOURCE_LABELS,
    OutOfScope,
    StaleRecord,
    count,
    get,
    history,
    ledger_counts,
    page,
    value_sources,
)
from runtime.masking import hidden_names, masked_names, present, reveal, search_hint
from runtime.models import utcnow
from runtime.permissions import Action
from runtime.sharing.edits import edit_record, reviewers
from runtime.sharing.queue import for_record
from web import database
from web.auth.guard import requires
from web.edge import int_arg
from web.i18n import gettext as _
from web.jobs import views as jobs
from web.ledgers import record_form, record_table
from web.proposals.present import edited_message, pending_lines
from web.site import COUNT_CAP, htmx, local_time

bp = Blueprint("ledgers", __name__, template_folder="templates", url_prefix="/ledgers")


def _fragment() -> bool:
    """Tell whether to answer with the fragment only (an htmx request, not a history restore)."""
    return bool(htmx) and not htmx.history_restore_request


def _ledger(code: str) -> Ledger:
    ledger = database.specs().ledgers.get(code)
    if ledger is None:
        abort(404)
    return ledger


def _conn():
    return database.session().connection()


def _record(ledger: Ledger, record_id: int) -> dict[str, Any]:
    """Return a record within the viewer's scope; 404 otherwise, whether or not it exists."""
    record = get(_conn(), ledger, record_id)
    if record is None or not current_user.viewer.sees(record["_township"], record["_village"]):
        abort(404)
    return record


def _pending(ledger: Ledger, rec: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the record's proposals waiting for their owners, masked as the record is for the viewer."""
    proposals = for_record(_conn(), rec["_id"])
    return pending_lines(ledger, rec, proposals, current_user.viewer, database.specs().org_units)


# --- list and table --------------------------------------------------------------------------


@bp.get("")
@requires(Action.LEDGER_READ)
def index():
    """List the ledgers with the number of records the viewer may see."""
    counts = ledger_counts(_conn(), current_user.viewer.scope)
    ledgers = record_table.ordered(database.specs().ledgers.values())
    return render_template("ledgers/index.html", ledgers=ledgers, counts=counts)


def _table_page(ledger: Ledger, req: record_table.TableRequest) -> dict[str, Any]:
    """Load one page of the table (one query) and shape it for `_records.html`."""
    size = record_table.PAGE_SIZE
    rows = page(_conn(), req.query, after=req.after, before=req.before, limit=size + 1)
    if req.before is not None:
        has_prev, has_next = len(rows) > size, True
        rows = rows[-size:]
    else:
        has_prev, has_next = req.after is not None, len(rows) > size
        rows = rows[:size]
    viewer = current_user.viewer
    cols = record_table.columns(ledger, viewer)
    units = database.specs().org_units
    shown = present(ledger, rows, viewer)
    return {
        "columns": cols,
        "rows": [
            {"id": r["_id"], "cells": [record_table.display(c, r.get(c.name), units) for c in cols]}
            for r in shown
        ],
        "prev": record_table.cursor(rows[0]) if rows and has_prev else None,
        "next": record_table.cursor(rows[-1]) if rows and has_next else None,
    }


@bp.get("/<code>")
@requires(Action.LEDGER_READ)
def table(code: str):
    """Show the record table of a ledger; htmx gets only the records fragment."""
    ledger = _ledger(code)
    specs = database.specs()
    viewer = current_user.viewer
    req = record_table.read_request(request.args, ledger, specs, viewer)
    context = {
        "ledger": ledger,
        "selected": req.selected,
        "notice": req.notice,
        "can_export": viewer.can_export,
        **_table_page(ledger, req),
    }
    if _fragment():
        # Push a clean address (no empty filters) for the back button and for sharing.
        position = (
            {"after": request.args["after"]}
            if req.after
            else ({"before": request.args["before"]} if req.before else {})
        )
        clean = url_for("ledgers.table", code=code, **req.selected, **position)
        return make_response(
            render_template("ledgers/_records.html", oob_notice=True, **context),
            push_url=clean if request.headers.get("HX-Target") == "records" else None,
        )
    return render_template(
        "ledgers/table.html",
        **context,
        filters=[(f, record_table.filter_options(f)) for f in record_table.filter_fields(ledger, viewer)],
        townships=record_table.townships_for(viewer, specs),
        villages=record_table.villages_for(viewer, specs, req.selected.get("township")),
        search_hint=search_hint(ledger, viewer),
    )


@bp.get("/<code>/count")
@requires(Action.LEDGER_READ)
def count_records(code: str):
    """Return the lazily loaded number of matching records (capped at 10万)."""
    ledger = _ledger(code)
    req = record_table.read_request(request.args, ledger, database.specs(), current_user.viewer)
    total = count(_conn(), req.query, cap=COUNT_CAP)
    return render_template("ledgers/_count.html", total=total, cap=COUNT_CAP)


@bp.get("/<code>/villages")
@requires(Action.LEDGER_READ)
def villages(code: str):
    """Return the village options of the chosen township for the filter or edit form."""
    ledger = _ledger(code)
    if not ledger.village_field:
        abort(404)
    township = request.args.get("township") or request.args.get(ledger.township_field)
    units = record_table.villages_for(current_user.viewer, database.specs(), township)
    return render_template(
        "ledgers/_village_options.html", villages=units, selected_village=request.args.get("village", "")
    )


# --- one record ------------------------------------------------------------------------------


def _changes(ledger: Ledger, rec: dict[str, Any], version: dict[str, Any]) -> list[dict[str, str]]:
    """Return a version's changed fields as masked, displayable old → new pairs.

    Masked as the record is: a version holds only the fields it changed (a birth date without
    the ID number beside it), but the page shows it next to the rest of the record.
    """
    viewer = current_user.viewer
    units = database.specs().org_units
    old = present(ledger, [version["old"] or {}], viewer, record=rec)[0]
    new = present(ledger, [version["new"]], viewer, record=rec)[0]
    unseen = hidden_names(ledger, viewer, rec)
    out = []
    for name in version["new"]:
        field = ledger.by_name.get(name)
        if field is None or name in unseen:  # a field the spec no longer has, or one not shown to the viewer
            continue
        out.append(
            {
                "title": field.title,
                "old": record_table.display(field, old.get(name), units),
                "new": record_table.display(field, new.get(name), units),
            }
        )
    return out


def _versions(ledger: Ledger, rec: dict[str, Any], versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        v
        | {
            "changes": _changes(ledger, rec, v),
            "created": v["old"] is None,
            "source_label": SOURCE_LABELS.get(v["source"], v["source"]),
        }
        for v in versions
    ]


@bp.get("/<code>/records/<int:record_id>")
@requires(Action.LEDGER_READ)
def record(code: str, record_id: int):
    """Show every field of a record with the source of its value, and its version history."""
    ledger = _ledger(code)
    rec = _record(ledger, record_id)
    viewer = current_user.viewer
    versions = history(_conn(), record_id)
    sources = value_sources(versions)
    shown = present(ledger, [rec], viewer)[0]
    masked = masked_names(ledger, viewer, rec)
    unseen = hidden_names(ledger, viewer, rec)
    units = database.specs().org_units
    fields = [
        {
            "field": f,
            "value": record_table.display(f, shown.get(f.name), units),
            "masked": f.name in masked and shown.get(f.name) not in (None, ""),
            "source": sources.get(f.name),
        }
        for f in ledger.fields
        if f.name not in unseen
    ]
    return render_template(
        "ledgers/record.html",
        ledger=ledger,
        record=rec,
        fields=fields,
        title=record_table.display(ledger.by_name[ledger.label], shown.get(ledger.label), units),
        versions=_versions(ledger, rec, versions),
        source_labels=SOURCE_LABELS,
        can_reveal=viewer.can_reveal,
        can_edit=viewer.can_edit_records,
        pending=_pending(ledger, rec),
    )


@bp.post("/<code>/records/<int:record_id>/reveal/<name>")
@requires(Action.REVEAL)
def reveal_value(code: str, record_id: int, name: str):
    """Return one masked value in clear (audited), as a fragment replacing the masked one."""
    ledger = _ledger(code)
    field = ledger.by_name.get(name)
    if field is None:
        abort(404)
    rec = _record(ledger, record_id)
    try:
        value = reveal(_conn(), ledger, rec, name, current_user.viewer)
    except PermissionError:
        abort(403)
    text = record_table.display(field, value, database.specs().org_units)
    return render_template("ledgers/_revealed.html", value=text)


# --- edit ------------------------------------------------------------------------------------


def _edit_page(
    ledger: Ledger,
    rec: dict[str, Any],
    version: int,
    status: int = 200,
    *,
    typed=None,
    errors=None,
    message: str = "",
    newer=(),
):
    shown = present(ledger, [rec], current_user.viewer)[0]
    pending = _pending(ledger, rec)
    reviewed = reviewers(_conn(), ledger, current_user.viewer)
    waiting = {line["field"].name: line["proposed"] for line in pending}
    rows = record_form.build(ledger, shown, current_user.viewer, typed, errors, reviewed, waiting)
    key_field = ledger.by_name[ledger.key]
    specs = database.specs()
    units = specs.org_units
    scope = current_user.viewer.scope
    # A writer bound to an org unit is offered only her own (the store refuses any other anyway).
    return render_template(
        "ledgers/edit.html",
        ledger=ledger,
        record=rec,
        rows=rows,
        version=version,
        message=message,
        newer=newer,
        key_value=record_table.display(key_field, shown.get(ledger.key), units),
        title=record_table.display(ledger.by_name[ledger.label], shown.get(ledger.label), units),
        township_villages=[v for v in specs.villages(rec["_township"]) if scope.village in (None, v.code)],
        townships=[t for t in specs.townships() if scope.township in (None, t.code)],
        reviewed=bool(reviewed),
        evidence=(typed or {}).get("evidence", ""),
    ), status


@bp.route("/<code>/records/<int:record_id>/edit", methods=["GET", "POST"])
@requires(Action.RECORD_EDIT)
def edit(code: str, record_id: int):
    """Show the edit form of a record, or save it: a new version (手工修改, or 日常走访) of what the
    editor may change at once, and proposals to their owners of the rest."""
    ledger = _ledger(code)
    rec = _record(ledger, record_id)
    if request.method == "GET":
        return _edit_page(ledger, rec, rec["_version"])
    version = int_arg("version", values=request.form)
    if version is None:
        abort(400)
    viewer = current_user.viewer
    changes, errors = record_form.parse(ledger, database.specs(), rec, request.form, viewer)
    if errors:
        return _edit_page(
            ledger,
            rec,
            version,
            422,
            typed=request.form,
            errors=errors,
            message=_("有 %(n)s 处填写有误，请按提示修改后再保存", n=len(errors)),
        )
    try:
        edited = edit_record(
            _conn(),
            database.specs(),
            ledger,
            rec,
            version,
            changes,
            viewer,
            evidence=request.form.get("evidence", "").strip(),
        )
    except OutOfScope as refused:
        return _edit_page(
            ledger,
            rec,
            version,
            422,
            typed=request.form,
            errors=refused.errors,
            message=_("有 %(n)s 处填写有误，请按提示修改后再保存", n=len(refused.errors)),
        )
    except StaleRecord:
        newer = [v for v in _versions(ledger, rec, history(_conn(), record_id)) if v["version"] > version]
        return _edit_page(
            ledger,
            rec,
            rec["_version"],
            409,
            typed=request.form,
            newer=newer,
            message=_("该记录已被他人修改。您填写的内容已保留；请对照下方最新的修改，确认后再次保存。"),
        )
    flash(edited_message(ledger, edited))
    return redirect(url_for("ledgers.record", code=code, record_id=record_id))


@bp.post("/<code>/records/<int:record_id>/check/<name>")
@requires(Action.RECORD_EDIT)
def check_field(code: str, record_id: int, name: str):
    """Validate one field as the user leaves it; return only its message (empty when fine)."""
    ledger = _ledger(code)
    if name not in ledger.by_name:
        abort(404)
    rec = _record(ledger, record_id)
    errors = record_form.parse(ledger, database.specs(), rec, request.form, current_user.viewer, only=name)[1]
    return render_template("ledgers/_field_error.html", name=name, error=errors.get(name, ""))


# --- import and export -----------------------------------------------------------------------


@bp.get("/import")
@requires(Action.LEDGER_IMPORT)
def import_index():
    """List the ledgers a keeper can import into."""
    return render_template(
        "ledgers/import_index.html", ledgers=record_table.ordered(database.specs().ledgers.values())
    )


def _job_response(job_id: int):
    """Answer a started job: its progress fragment for htmx, else a redirect to its page."""
    if _fragment():
        job = jobs.load(job_id)
        return make_response(render_template("jobs/_job.html", job=job, state=jobs.job_state(job)))
    return redirect(url_for("jobs.show", job_id=job_id))


@bp.route("/<code>/import", methods=["GET", "POST"])
@requires(Action.LEDGER_IMPORT)
def import_upload(code: str):
    """Show the upload form, or save the upload and import it as a job with progress."""
    ledger = _ledger(code)
    if request.method == "GET":
        return render_template("ledgers/import.html", ledger=ledger)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return render_template("ledgers/import.html", ledger=ledger, error=_("请选择要导入的文件")), 422
    filename = Path(upload.filename.replace("\\", "/")).name
    folder = jobs.upload_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}{Path(filename).suffix.lower()[:10]}"
    try:
        upload.save(folder / stored)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: free it now, not at exit
    params = {
        "ledger": ledger.code,
        "upload": stored,
        "filename": filename,
        "user_id": current_user.id,
        "max_bytes": current_app.config["MAX_UPLOAD_BYTES"],
    }
    title = _("导入%(ledger)s：%(file)s", ledger=ledger.title, file=filename)
    return _job_response(jobs.submit("import", title, "runtime.jobs.work:import_upload", params))


@bp.get("/<code>/template")
@requires(Action.LEDGER_IMPORT)
def import_template(code: str):
    """Download the ledger's blank import template (.xlsx)."""
    ledger = _ledger(code)
    return send_file(
        io.BytesIO(blank_template(ledger)),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"{ledger.title}-导入模板.xlsx",
    )


@bp.post("/<code>/export")
@requires(Action.EXPORT)
def export(code: str):
    """Export the records matching the table's filters (masked) as a job with progress."""
    ledger = _ledger(code)
    fmt = request.form.get("fmt", "xlsx")
    if fmt not in ("xlsx", "csv"):
        abort(400)
    specs = database.specs()
    query = record_table.read_request(request.form, ledger, specs, current_user.viewer).query
    params = {
        "ledger": ledger.code,
        "fmt": fmt,
        "target": f"{ledger.code}-{uuid.uuid4().hex}.{fmt}",
        "filename": f"{ledger.title}-{local_time(utcnow(), '%Y%m%d%H%M')}.{fmt}",
        "user_id": current_user.id,
        "filters": query.filters,
        "search": query.search,
    }
    title = _("导出%(ledger)s（%(fmt)s）", ledger=ledger.title, fmt=fmt.upper())
    return _job_response(jobs.submit("export", title, "runtime.jobs.work:export_records", params))

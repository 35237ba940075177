"""Turn the Excel templates departments already use into draft reports; consolidate several.

Step 1 uploads a template and shows a proposed binding for every column with its confidence and
reason; step 2 posts the admin's confirmed bindings and creates the draft. The columns travel
between the steps in the form itself, so nothing is kept on the server in between.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from builder.admission.analysis import DraftColumn, draft_document, match_template, matcher_for
from builder.problems import ImportRefused
from builder.templates.consolidation import consolidate
from builder.templates.reader import MAX_COLUMNS, read_template
from runtime import config
from runtime.errors import ErrorCode
from runtime.models import Department
from runtime.permissions import Action
from runtime.reports.store import ReportError, create_report, next_code
from web import database
from web.auth.guard import requires
from web.auth.views import current_actor
from web.i18n import gettext as _

bp = Blueprint("report_import", __name__, template_folder="templates", url_prefix="/reports")
#: How many templates one consolidation takes.
MAX_TEMPLATES = 20
#: The longest report title the spec language takes (its captions).
MAX_TITLE = 100
#: The longest column header and group caption a posted review may carry, and how many captions.
MAX_LABEL = 500
MAX_PARENTS = 3
#: Candidate elements shown per column.
MAX_CANDIDATES = 10
_ACCEPT = ".xlsx,.xlsm,.xls,.ods,.csv"


def _read(upload) -> tuple[object | None, str | None]:
    """Return (template, None) or (None, the Chinese reason the file cannot be read)."""
    if upload is None or not upload.filename:
        return None, _("请选择一个 Excel 模板文件")
    try:
        data = upload.read(current_app.config["MAX_UPLOAD_BYTES"] + 1)
        limits = replace(config.read_limits("template"), max_bytes=current_app.config["MAX_UPLOAD_BYTES"])
        return read_template(data, Path(upload.filename).name, limits=limits), None
    except ImportRefused as refused:
        return None, refused.message


@bp.route("/import", methods=["GET", "POST"])
@requires(Action.REPORT_AUTHOR)
def import_template():
    """Upload a template and review the proposed bindings."""
    specs = database.specs()
    if request.method == "GET":
        return render_template("reports/import.html", ledgers=specs.ledgers, error=None, accept=_ACCEPT)
    template, error = _read(request.files.get("file"))
    ledger = request.form.get("ledger") or None
    if template is None:
        return render_template("reports/import.html", ledgers=specs.ledgers, error=error, accept=_ACCEPT), 422
    ledger = ledger if ledger in specs.ledgers else None
    result = match_template(template, matcher_for(specs.elements), ledger)
    columns = [
        {
            "label": m.label,
            "parents": list(m.parents),
            "kind": m.kind,
            "element": m.element,
            "value_type": m.value_type,
            "letter": c.letter,
            "samples": [str(s) for s in c.samples[:3]],
            "confidence": m.confidence,
            "reason": m.reason,
            "proposal": m.proposal,
            "candidates": [cand.element for cand in m.candidates],
            "subject": m.subject,
        }
        for c, m in zip(template.columns, result.fields, strict=True)
    ]
    return render_template(
        "reports/import_review.html",
        template=template,
        columns=columns,
        ledger=result.ledger,
        ledgers=specs.ledgers,
        elements=specs.elements,
        payload=json.dumps(columns, ensure_ascii=False),
        errors={},
    )


def _text(value: Any, limit: int) -> str | None:
    """Return a posted text of at most `limit` characters, or None for anything else."""
    return value if isinstance(value, str) and len(value) <= limit else None


def _element(value: Any, elements: Mapping[str, Any]) -> str | None:
    """Return a posted element code the catalog knows, or None."""
    return value if isinstance(value, str) and value in elements else None


def _posted_column(item: Any, elements: Mapping[str, Any]) -> dict[str, Any] | None:
    """Return one posted column as the review page shows it, or None when it is not one.

    The label and its group captions are checked (they become the report's fields); what only
    informs the admin (samples, reason …) is cut to size; unknown elements are dropped.
    """
    if not isinstance(item, dict):
        return None
    label, parents = _text(item.get("label"), MAX_LABEL), item.get("parents") or []
    if not label or not label.strip() or not isinstance(parents, list) or len(parents) > MAX_PARENTS:
        return None
    if not all(_text(p, MAX_LABEL) for p in parents) or not isinstance(item.get("element"), str | None):
        return None
    confidence, samples, candidates = item.get("confidence"), item.get("samples"), item.get("candidates")
    if isinstance(confidence, bool) or not isinstance(confidence, int | float) or not 0 <= confidence <= 1:
        confidence = 0
    samples = [s[:100] for s in samples[:3] if isinstance(s, str)] if isinstance(samples, list) else []
    candidates = [c for c in candidates if _element(c, elements)] if isinstance(candidates, list) else []
    return {
        "label": label,
        "parents": parents,
        "kind": "layout" if item.get("kind") == "layout" else "data",
        "element": _element(item.get("element"), elements),
        "proposal": _element(item.get("proposal"), elements),
        "candidates": candidates[:MAX_CANDIDATES],
        "value_type": _text(item.get("value_type"), 20),
        "letter": _text(item.get("letter"), 3) or "",
        "samples": samples,
        "confidence": confidence,
        "reason": (_text(item.get("reason"), 10_000) or "")[:300],
        "subject": _text(item.get("subject"), 100),
    }


def _posted_columns(text: str) -> tuple[list[dict[str, Any]] | None, str]:
    """Return the columns the review page posted back, checked as the upload checked them.

    The columns travel in the form, so a post may hold anything: it is refused (None and the
    Chinese reason) unless it is a list of at most MAX_COLUMNS well-formed columns.
    """
    malformed = _("提交的字段绑定无法读取（页面可能已过期或被改动），请重新上传模板")
    try:
        posted = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nested thousands of levels deep
        return None, malformed
    if not isinstance(posted, list) or not posted:
        return None, malformed
    if len(posted) > MAX_COLUMNS:
        return None, _(
            "模板有 %(n)s 列，超过了 %(limit)s 列的上限；请把模板拆分成几张表分别导入",
            n=f"{len(posted):,}",
            limit=MAX_COLUMNS,
        )
    columns = [_posted_column(item, database.specs().elements) for item in posted]
    return (None, malformed) if None in columns else (columns, "")


@bp.post("/import/confirm")
@requires(Action.REPORT_AUTHOR)
def confirm_import():
    """Create a draft report from the confirmed bindings."""
    specs = database.specs()
    columns, refused = _posted_columns(request.form.get("columns", ""))
    if columns is None:
        return render_template(
            "reports/import.html", ledgers=specs.ledgers, error=refused, accept=_ACCEPT
        ), 400
    title = request.form.get("title", "").strip()
    ledger = request.form.get("ledger") or None
    ledger = ledger if ledger in specs.ledgers else None
    chosen, errors = [], {}
    seen: dict[str, str] = {}
    for index, column in enumerate(columns):
        element = request.form.get(f"bind-{index}", "")
        kind = "layout" if request.form.get(f"layout-{index}") else "data"
        if element and element not in specs.elements:
            element = ""
        if element and kind == "data":
            if element in seen:
                errors[f"bind-{index}"] = _(
                    "“%(a)s”和“%(b)s”绑定了同一个数据元，请只保留一个", a=seen[element], b=column["label"]
                )
            seen[element] = column["label"]
        chosen.append(
            DraftColumn(
                label=column["label"],
                parents=tuple(column.get("parents") or ()),
                kind=kind,
                element=element or None,
                value_type=column.get("value_type"),
            )
        )
        column["element"], column["kind"] = element or None, kind
    if not title:
        errors["title"] = _("请填写报表名称")
    elif len(title) > MAX_TITLE:
        errors["title"] = _("报表名称最长 %(n)s 个字符", n=MAX_TITLE)
    if errors:
        return render_template(
            "reports/import_review.html",
            template={"title": title, "filename": request.form.get("filename")},
            columns=columns,
            ledger=ledger,
            ledgers=specs.ledgers,
            elements=specs.elements,
            payload=json.dumps(columns, ensure_ascii=False),
            errors=errors,
        ), 422
    db = database.session()
    department = db.get(Department, current_user.department_id) if current_user.department_id else None
    if department is None:
        flash(ErrorCode.NOT_DEPARTMENT_ADMIN.format(), "error")
        return redirect(url_for("reports.index"))
    document = draft_document(
        title, ledger, chosen, specs.elements, code=next_code(db), department=department.code
    )
    try:
        report = create_report(db, current_actor(), document)
    except ReportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("report_import.import_template"))
    flash(
        _(
            "已由模板生成报表草稿，共 %(n)s 个字段；请补充目的、依据和截止日期后提交审核",
            n=len(document["properties"]),
        )
    )
    return redirect(url_for("editor.edit", code=report.code))


@bp.route("/consolidate", methods=["GET", "POST"])
@requires(Action.REPORT_AUTHOR)
def consolidate_templates():
    """Upload several templates and show the deduplicated union of their fields."""
    specs = database.specs()
    if request.method == "GET":
        return render_template(
            "reports/consolidate.html", result=None, errors=[], accept=_ACCEPT, ledgers=specs.ledgers
        )
    uploads = [f for f in request.files.getlist("files") if f and f.filename][:MAX_TEMPLATES]
    templates, errors = [], []
    for upload in uploads:
        template, error = _read(upload)
        if template is None:
            errors.append(f"{upload.filename}：{error}")
        else:
            templates.append(template)
    if not uploads:
        errors.append(_("请至少选择两个模板文件"))
    result = None
    if templates:
        ledger = request.form.get("ledger") or None
        result = consolidate(
            templates, matcher_for(specs.elements), ledger=ledger if ledger in specs.ledgers else None
        )
    return render_template(
        "reports/consolidate.html",
        result=result,
        errors=errors,
        accept=_ACCEPT,
        ledgers=specs.ledgers,
        elements=specs.elements,
    ), (200 if result else 422)

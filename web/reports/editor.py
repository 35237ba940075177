"""The report editor (低代码设计器): metadata, row source, fields and formulas, catalog picker, preview.

The whole editor is one form. Every button (add, move, remove, save) posts the whole form, so
nothing typed is lost; the draft is saved through `runtime.reports.store.save_draft` whenever what was
typed makes a valid draft, and otherwise comes back with the messages next to the inputs. htmx
swaps the editor fragment; without JavaScript the same form posts and redirects.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.routing import BuildError

from builder.admission.gatekeeping import Holding
from builder.reports.diff import diff_reports
from builder.reports.editing.draft import (
    KINDS,
    ConditionDraft,
    EditRefused,
    FieldDraft,
    ReportDraft,
    add_custom,
    add_element,
    apply_draft,
    draft_from_document,
    move,
    remove,
)
from builder.reports.editing.formula import MAX_WHERE, FormulaDraft, formula_ledger, group_of
from builder.reports.spec import ROW_UNITS, check_report
from runtime.ledgers.holdings import ledger_holdings
from runtime.models import Report, ReportVersion
from runtime.permissions import Action
from runtime.reports.store import EDITABLE, STATUS_LABELS, StaleDraft, latest_version, save_draft
from web import database
from web.auth.guard import requires
from web.auth.views import current_actor
from web.edge import int_arg, parse_id
from web.i18n import gettext as _
from web.reports import editor_context as ctx
from web.reports.views import load_owned
from web.site import htmx, local_time

bp = Blueprint("editor", __name__, template_folder="templates", url_prefix="/reports")

_FIELD = re.compile(r"^f-(\d+)-name$")
_ACTION = re.compile(r"^(add|up|down|remove|remove_condition|add_where|remove_where):(.+)$")


def _fragment() -> bool:
    return bool(htmx) and not htmx.history_restore_request


def _url(endpoint: str, **values: Any) -> str | None:
    """Return the URL of an endpoint another blueprint may provide, or None if it is not there."""
    try:
        return url_for(endpoint, **values)
    except BuildError:
        return None


# --- reading the posted form -----------------------------------------------------------------


def _conditions(form: MultiDict, prefix: str) -> tuple[ConditionDraft, ...]:
    """Return the conditions posted as `<prefix><i>-element`, `-op`, `-value` (row filter or formula)."""
    pattern = re.compile(rf"^{re.escape(prefix)}(\d+)-op$")

    def get(i: int, key: str, default: str = "") -> str:
        """Return one posted setting of condition `i`."""
        return form.get(f"{prefix}{i}-{key}", default)

    return tuple(
        ConditionDraft(element=get(i, "element"), op=get(i, "op", "present"), value=get(i, "value"))
        for i in _indices(form, pattern)
    )


def _formula(form: MultiDict, prefix: str) -> FormulaDraft | None:
    """Return the formula posted with a field (None when the field is filled in by townships)."""
    op = form.get(f"{prefix}formula-op", "")
    if not op:
        return None
    element = form.get(f"{prefix}formula-element", "")
    # A sum's ledger is its element's: kept so that switching to a count starts from it.
    ledger = group_of(element) if op == "sum" and element else form.get(f"{prefix}formula-ledger", "")
    return FormulaDraft(op=op, ledger=ledger, element=element, where=_conditions(form, f"{prefix}w-"))


def _field_draft(form: MultiDict, prefix: str, name: str) -> FieldDraft:
    def get(key: str) -> str:
        return form.get(f"{prefix}{key}", "")

    return FieldDraft(
        name=name,
        title=get("title"),
        element=get("element") or None,
        kind=get("kind"),
        required=bool(get("required")),
        writeback=bool(get("writeback")),
        help=get("help"),
        widget=get("widget"),
        options=get("options"),
        minimum=get("minimum"),
        maximum=get("maximum"),
        min_length=get("min_length"),
        max_length=get("max_length"),
        parents=get("parents"),
        formula=_formula(form, prefix),
    )


def _indices(form: MultiDict, pattern: re.Pattern[str]) -> list[int]:
    """Return the row numbers of the inputs named like `pattern`, in order."""
    return sorted(int(m.group(1)) for m in map(pattern.match, form) if m)


def read_form(form: MultiDict) -> tuple[ReportDraft, FieldDraft]:
    """Return the report draft and the “add a custom field” draft the form holds."""
    fields, seen = [], set()
    for i in _indices(form, _FIELD):
        name = form[f"f-{i}-name"].strip()
        if name and name not in seen:
            seen.add(name)
            fields.append(_field_draft(form, f"f-{i}-", name))
    unit = form.get("unit", "")
    draft = ReportDraft(
        title=form.get("title", ""),
        purpose=form.get("purpose", ""),
        basis=form.get("basis", ""),
        description=form.get("description", ""),
        frequency=form.get("frequency", "once"),
        deadline=form.get("deadline", ""),
        all_targets=form.get("targets_mode") != "some",
        targets=tuple(form.getlist("targets")),
        justification=form.get("justification", ""),
        ledger=form.get("ledger", ""),
        conditions=_conditions(form, "c-"),
        fields=tuple(fields),
        unit=unit if unit in ROW_UNITS else "",
    )
    return draft, _field_draft(form, "new-", "")


@dataclass
class Outcome:
    """What an action did: the new drafts, a note for the user, problems of the new-field form."""

    draft: ReportDraft
    new: FieldDraft
    notice: str = ""
    refused: str = ""
    new_problems: dict[str, str] | None = None
    #: Where a page without JavaScript scrolls to after the redirect (an element id).
    anchor: str = ""
    #: The element htmx focuses after the swap (moves keep focus on their button by its id).
    focus: str = ""


def act(action: str, draft: ReportDraft, new: FieldDraft) -> Outcome:
    """Apply one editor button to the drafts."""
    elements = database.specs().elements
    fields, conditions = list(draft.fields), list(draft.conditions)
    out = Outcome(draft, new)
    match = _ACTION.match(action)
    verb, arg = (match.group(1), match.group(2)) if match else (action, "")
    try:
        if verb == "add":
            element = elements.get(arg)
            if element is None:
                raise EditRefused(_("目录里没有这个数据项，请重新搜索"))
            fields = add_element(fields, element, draft.ledger or None)
            out.notice = _("已添加“%(n)s”", n=element.name)
            out.anchor, out.focus = f"field-{fields[-1].name}", "catalog-q"
        elif verb == "add_custom":
            fields, problems = add_custom(fields, new, elements)
            if problems:
                out.new_problems = problems
                out.refused = _("自定义字段还没有添加：请按提示补全后再点“添加字段”")
            else:
                out.new, out.anchor, out.focus = FieldDraft(name=""), f"field-{fields[-1].name}", "new-title"
                out.notice = _("已添加自定义字段“%(n)s”", n=new.title.strip())
        elif verb in ("up", "down", "remove"):
            index = next((i for i, f in enumerate(fields) if f.name == arg), -1)
            if verb == "remove":
                gone = fields[index] if index >= 0 else None
                fields = remove(fields, index)
                out.notice = _("已删除字段“%(n)s”", n=ctx.field_title(gone, elements))
            else:
                fields = move(fields, index, -1 if verb == "up" else 1)
                out.anchor = f"field-{arg}"
        elif verb == "add_condition":
            # Start from a complete condition (the ledger's first field “不为空”), so it saves as is.
            ledger = database.specs().ledgers.get(draft.ledger)
            if ledger is None:
                raise EditRefused(_("请先选择行来自哪个台账，再添加筛选条件"))
            conditions.append(ConditionDraft(element=ledger.fields[0].element.code, op="present"))
            out.anchor = out.focus = f"c-{len(conditions) - 1}-element"
        elif verb == "remove_condition":
            conditions = remove(conditions, -1 if (number := parse_id(arg)) is None else number)
        elif verb in ("add_where", "remove_where"):
            fields = _edit_where(fields, verb, arg, out)
    except EditRefused as exc:
        out.refused = str(exc)
    out.draft = replace(draft, fields=tuple(fields), conditions=tuple(conditions))
    return out


def _edit_where(fields: list[FieldDraft], verb: str, arg: str, out: Outcome) -> list[FieldDraft]:
    """Add a condition to a field's formula (`add_where:<name>`) or remove one (`remove_where:<name>:<i>`)."""
    name, _sep, number = arg.rpartition(":") if verb == "remove_where" else (arg, "", "")
    index = next((i for i, f in enumerate(fields) if f.name == name and f.formula), -1)
    if index < 0:
        raise EditRefused(_("要修改的统计字段不存在，请刷新页面"))
    field = fields[index]
    where = list(field.formula.where)
    if verb == "remove_where":
        where = remove(where, -1 if (index := parse_id(number)) is None else index)
    else:
        ledger = database.specs().ledgers.get(formula_ledger(field.formula))
        if ledger is None:
            raise EditRefused(_("请先选择要统计的台账或求和的数据项，再添加条件"))
        if len(where) >= MAX_WHERE:
            raise EditRefused(_("每个统计字段最多 %(n)s 个条件", n=MAX_WHERE))
        # Start from a complete condition (the ledger's first field “不为空”), as the row filter does.
        where.append(ConditionDraft(element=ledger.fields[0].element.code, op="present"))
        out.anchor = out.focus = f"f-{index}-w-{len(where) - 1}-element"
    fields[index] = replace(field, formula=replace(field.formula, where=tuple(where)))
    return fields


# --- rendering -------------------------------------------------------------------------------


def _holdings() -> dict[str, Holding]:
    return ledger_holdings(database.session().connection(), database.specs())


def _render(
    report: Report,
    current: ReportVersion,
    draft: ReportDraft,
    *,
    status: int = 200,
    new: FieldDraft | None = None,
    problems: Mapping[str, str] | None = None,
    new_problems: Mapping[str, str] | None = None,
    message: str = "",
    notice: str = "",
    saved: bool = False,
    changes=(),
    focus: str = "",
    query: str | None = None,
):
    """Render the editor page, or only its fragment for htmx."""
    specs = database.specs()
    document, _problems = apply_draft(current.document, draft, specs.elements)
    findings = check_report(document, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    holdings = _holdings()
    query = request.values.get("q", "") if query is None else query
    context = ctx.editor_context(
        specs,
        draft,
        document,
        findings,
        holdings,
        problems or {},
        query,
        [f.element for f in draft.fields if f.element],
    )
    readonly = report.status not in EDITABLE
    if readonly and not message:
        message = _("报表当前状态为“%(s)s”，只能查看，不能修改。", s=STATUS_LABELS[report.status])
    context.update(
        report=report,
        version=current.version,
        edits=current.edits,
        readonly=readonly,
        status_label=STATUS_LABELS[report.status],
        new=new or FieldDraft(name=""),
        new_problems=new_problems or {},
        message=message,
        notice=notice,
        changes=changes,
        saved_at=local_time(current.updated_at, "%H:%M") if current.edits else "",
        just_saved=saved,
        focus=focus,
        kinds=KINDS,
        edit_url=url_for("editor.edit", code=report.code),
        preview_url=url_for("editor.preview", code=report.code),
        catalog_url=url_for("editor.catalog", code=report.code),
        overview_url=_url("reports.overview", code=report.code),
        index_url=_url("reports.index"),
    )
    template = "reports/_editor.html" if _fragment() else "reports/edit.html"
    return render_template(template, **context), status


def same_document(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Tell whether two report documents are the same, including the order of their fields."""
    order = orjson.OPT_SORT_KEYS
    return orjson.dumps(a, option=order) == orjson.dumps(b, option=order) and list(
        a.get("properties") or ()
    ) == list(b.get("properties") or ())


@bp.route("/<code>/edit", methods=["GET", "POST"])
@requires(Action.REPORT_AUTHOR)
def edit(code: str):
    """Show the editor, or apply one of its buttons to the posted form and save the draft."""
    report = load_owned(code)
    db = database.session()
    current = latest_version(db, report)
    if request.method == "GET":
        return _render(report, current, draft_from_document(current.document))
    version, edits = int_arg("version", values=request.form), int_arg("edits", values=request.form)
    if version is None or edits is None:
        abort(400)
    draft, new = read_form(request.form)
    if report.status not in EDITABLE:
        return _render(report, current, draft, status=409, new=new)
    action = request.form.get("action", "save")
    out = act(action, draft, new)
    document, problems = apply_draft(current.document, out.draft, database.specs().elements)
    if problems or out.refused:
        message = out.refused or _(
            "有 %(n)s 处填写有误，改正后才能保存。页面上的内容都还在，尚未保存。", n=len(problems)
        )
        return _render(
            report,
            current,
            out.draft,
            status=422,
            new=out.new,
            problems=problems,
            new_problems=out.new_problems,
            message=message,
            notice=out.notice,
            focus=out.focus,
        )
    saved = False
    if not same_document(document, current.document) or (version, edits) != (current.version, current.edits):
        try:
            current = save_draft(db, report, current_actor(), document, version=version, edits=edits)
        except StaleDraft:
            fresh = latest_version(db, report)
            return _render(
                report,
                fresh,
                out.draft,
                status=409,
                new=out.new,
                focus=out.focus,
                changes=diff_reports(fresh.document, document),
                message=_(
                    "这份草稿在您打开之后已在别处（可能是另一个窗口或同事）保存过，您这次的修改尚未保存。"
                    "您填写的内容都还在下方；请对照下面列出的不同之处，确认后再点“保存草稿”，"
                    "将以本页内容为准。"
                ),
            )
        saved = True
    if not _fragment():
        if out.notice:
            flash(out.notice)
        if saved:
            flash(_("已保存 %(t)s", t=local_time(current.updated_at, "%H:%M")))
        elif action == "save":
            flash(_("没有需要保存的修改"))
        anchor = f"#{out.anchor}" if out.anchor else ""
        query = {"q": request.form["q"]} if request.form.get("q") else {}
        return redirect(url_for("editor.edit", code=code, **query) + anchor)
    shown = draft_from_document(current.document)
    if shown.unit:  # an aggregate document holds no ledger or filter: keep those typed, to switch back to
        shown = replace(shown, ledger=out.draft.ledger, conditions=out.draft.conditions)
    return _render(report, current, shown, new=out.new, notice=out.notice, saved=saved, focus=out.focus)


@bp.post("/<code>/edit/preview")
@requires(Action.REPORT_AUTHOR)
def preview(code: str):
    """Return the form as townships will see it, from the posted editor state (nothing is saved)."""
    report = load_owned(code)
    current = latest_version(database.session(), report)
    draft, _new = read_form(request.form)
    specs = database.specs()
    document, _problems = apply_draft(current.document, draft, specs.elements)
    return render_template("reports/_preview.html", **ctx.preview_context(specs, document))


@bp.get("/<code>/edit/catalog")
@requires(Action.REPORT_AUTHOR)
def catalog(code: str):
    """Return the catalog search results for the picker."""
    load_owned(code)
    have = [v for k, v in request.args.items() if re.match(r"^f-\d+-element$", k) and v]
    context = ctx.catalog_context(
        database.specs(), request.args.get("q", ""), request.args.get("ledger", ""), _holdings(), have
    )
    return render_template("reports/_catalog.html", **context)

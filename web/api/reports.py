"""GET the reports the calling client's department owns: metadata, task progress, submitted rows."""

from __future__ import annotations

from runtime.exchange.reports import line_of, owned_report, owned_reports, report_detail, summary_page
from runtime.permissions import Action
from web import database
from web.api import blueprint
from web.api.auth import caller, endpoint
from web.api.responses import json_response, problems
from web.api.schemas import (
    ReportDetailSchema,
    ReportsPageSchema,
    ReportsQuerySchema,
    SummaryPageSchema,
    SummaryQuerySchema,
)

bp = blueprint("api_reports", "/reports", "按需调用：本部门报表的元数据、任务进度与已提交的汇总数据")


@bp.route("")
@bp.doc(
    operationId="listReports",
    summary="本部门的报表",
    description=(
        "令牌所属部门的报表（按编码排序、分页）：名称、版本、状态（含中文名称）、截止日期、依据、用途、"
        "行来源台账、下派时间和各状态的任务数。用应答中的 next 作为 after 读下一页，直到 next 为 null。"
    ),
)
@bp.arguments(ReportsQuerySchema, location="query")
@bp.response(200, ReportsPageSchema)
@problems(bp, 403, 422)
@endpoint(Action.SUMMARY)
def reports(args):
    """Return a page of the reports the calling client's department owns."""
    who = caller()
    found = owned_reports(
        database.session().connection(),
        who.identity.department_id,
        after=args.get("after"),
        limit=args["limit"],
    )
    return json_response({"reports": found.reports, "next": found.next})


@bp.route("/<string:code>")
@bp.doc(
    operationId="getReport",
    summary="报表详情与任务进度",
    description=(
        "一份本部门报表的元数据、字段（名称、标题、绑定的数据元、类型），以及各单位任务的进度"
        "（状态、截止日期、提交时间、行数、尚待填写的行数）。其他部门的报表与不存在的报表一样应答 404。"
    ),
)
@bp.response(200, ReportDetailSchema)
@problems(bp, 403, 404)
@endpoint(Action.SUMMARY)
def report(code):
    """Return one report of the department with its fields and its tasks' progress."""
    conn = database.session().connection()
    found = owned_report(conn, caller().identity.department_id, code)
    return json_response(report_detail(conn, database.specs(), found))


@bp.route("/<string:code>/summary")
@bp.doc(
    operationId="getReportSummary",
    summary="已提交的汇总数据",
    description=(
        "一份本部门已下派报表的汇总：只含已提交任务的数据（未提交任务的行不出现），与汇总页和报表导出相同——"
        "逐行为镇街提交的值（台账值之上是镇街填写的值，标为不适用的行不含，镇街新增的行在每个任务之末），"
        "按本部门人员看到的样子脱敏；totals 为汇总页的合计。行按单位分页：用应答中的 next 作为 after "
        "读下一页，直到 next 为 null，各页行数之和等于 totals.total.rows。通过授权读到的明文记入审计日志。"
        "未下派的报表没有行，totals 为 null。"
    ),
)
@bp.arguments(SummaryQuerySchema, location="query")
@bp.response(200, SummaryPageSchema)
@problems(bp, 403, 404, 422)
@endpoint(Action.SUMMARY)
def summary(args, code):
    """Return a page of a report's submitted rows as the department sees them, with the totals."""
    who = caller()
    conn = database.session().connection()
    found = owned_report(conn, who.identity.department_id, code)
    result = summary_page(
        conn, database.specs(), found, who.viewer, after=args.get("after"), limit=args["limit"]
    )
    totals = (
        {"by_unit": [line_of(line) for line in result.by_unit], "total": line_of(result.total)}
        if result.total is not None
        else None
    )
    return json_response(
        {
            "report": found.code,
            "title": found.title,
            "submitted": result.submitted,
            "tasks": result.tasks,
            "measures": [{"name": m.name, "title": m.title} for m in result.measures],
            "totals": totals,
            "rows": result.rows,
            "next": result.next,
        }
    )

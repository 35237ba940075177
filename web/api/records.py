"""GET the records of a ledger, keyset-paged, as the calling client's department sees them."""

from __future__ import annotations

from flask import request

from runtime.exchange.records import chosen_fields, ledger_of, log_feed, pull_page, records_query
from runtime.permissions import Action
from web import database
from web.api import blueprint
from web.api.auth import caller, endpoint
from web.api.responses import json_response, problems
from web.api.schemas import RecordsPageSchema, RecordsQuerySchema

bp = blueprint("api_records", "/ledgers", "按需调用：分页读取台账记录")

#: Query parameters of the view itself; every other one is a filter (`filter[字段]` or `字段`).
PARAMETERS = frozenset({"limit", "after", "fields", "township"})


def filters_of(args) -> dict[str, str]:
    """Return the filters of the query string: `filter[name]=value` or `name=value`, name → value."""
    found = {}
    for name, value in args.items(multi=True):
        if name in PARAMETERS:
            continue
        if name.startswith("filter[") and name.endswith("]"):
            name = name[7:-1]
        found[name.strip()[:100]] = value
    return found


@bp.route("/<string:ledger>/records")
@bp.doc(
    operationId="listRecords",
    summary="读取台账记录",
    description=(
        "按（镇街, 记录编号）顺序分页读取一本台账的记录。每个值按令牌所属部门的授权给出："
        "明文、脱敏值，或（不可见时）不出现。筛选写作 filter[字段名]=值 或 字段名=值，只能按对您明文"
        "可见的字段筛选；按镇街授权明文的字段须同时给出 township。读到的每条明文授权数据都记入审计日志。"
        "用应答中的 next 作为 after 读下一页，直到 next 为 null。"
    ),
)
@bp.arguments(RecordsQuerySchema, location="query")
@bp.response(200, RecordsPageSchema)
@problems(bp, 403, 404, 422)
@endpoint(Action.LEDGER_READ)
def records(args, ledger):
    """Return one page of a ledger's records as the calling client sees them."""
    who = caller()
    the_ledger = ledger_of(database.specs(), ledger)
    names = args.get("fields_")
    fields = chosen_fields(the_ledger, who.viewer, names.split(",") if names is not None else None)
    query = records_query(
        the_ledger, who.viewer, filters_of(request.args), args.get("township"), database.specs()
    )
    conn = database.session().connection()
    found = pull_page(conn, query, who.viewer, fields, after=args.get("after"), limit=args["limit"])
    log_feed(conn, who.identity.client_id, the_ledger.code, "pull", len(found.records))
    return json_response({"ledger": the_ledger.code, "records": found.records, "next": found.next})

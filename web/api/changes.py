"""GET the changes of a ledger after a cursor (incremental sync), and the cursor of now."""

from __future__ import annotations

from runtime.exchange.changes import decode, head, read_changes
from runtime.exchange.records import ledger_of, log_feed
from runtime.permissions import Action
from web import database
from web.api import blueprint
from web.api.auth import caller, endpoint
from web.api.responses import json_response, problems
from web.api.schemas import ChangesHeadSchema, ChangesPageSchema, ChangesQuerySchema

bp = blueprint("api_changes", "/ledgers", "按需调用：增量同步（变更游标）")

#: The cursor that means "from now on".
NOW = "now"


@bp.route("/<string:ledger>/changes")
@bp.doc(
    operationId="listChanges",
    summary="读取变更",
    description=(
        "一本台账在游标之后的变更（记录的版本），按提交顺序，不漏不重。每条变更给出这次写入的值，"
        "按授权明文、脱敏或不出现；没有可见字段的变更略过，游标照样越过它。不带 cursor 从头读起"
        "（完整镜像）；cursor=now 从现在起。保存应答的 next_cursor，下次原样传回；more 为 true 时可立即再读。"
    ),
)
@bp.arguments(ChangesQuerySchema, location="query")
@bp.response(200, ChangesPageSchema)
@problems(bp, 403, 404, 422)
@endpoint(Action.LEDGER_READ)
def changes(args, ledger):
    """Return the changes of a ledger after the given cursor, as the calling client sees them."""
    who = caller()
    the_ledger = ledger_of(database.specs(), ledger)
    conn = database.session().connection()
    cursor = args.get("cursor")
    after = None if cursor is None else head(conn) if cursor == NOW else decode(conn, cursor)
    found = read_changes(conn, the_ledger, who.viewer, after, args["limit"])
    log_feed(conn, who.identity.client_id, the_ledger.code, "changes", len(found.changes))
    return json_response(
        {
            "ledger": the_ledger.code,
            "changes": found.changes,
            "next_cursor": found.next.encode(),
            "more": found.more,
        }
    )


@bp.route("/<string:ledger>/changes/head")
@bp.doc(
    operationId="getChangesHead",
    summary="当前变更位置",
    description=(
        "返回现在的游标：刚读完全部记录的对接系统从这里接着读变更"
        "（可能重复收到少数已读到的版本，按 version 判断即可）。"
    ),
)
@bp.response(200, ChangesHeadSchema)
@problems(bp, 403, 404)
@endpoint(Action.LEDGER_READ)
def changes_head(ledger):
    """Return the cursor of now for a ledger."""
    the_ledger = ledger_of(database.specs(), ledger)
    return json_response(
        {"ledger": the_ledger.code, "cursor": head(database.session().connection()).encode()}
    )

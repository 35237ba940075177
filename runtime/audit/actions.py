"""The actions the code writes to the audit log: their Chinese names, kinds, and the shape of targets.

Targets follow the conventions of issue 12: a clear read `{owner}/{ledger}`, a grant's step
`grant/{owner}/{grantee}/{id}`, a proposed change `proposal/{owner}/{ledger}/{key}`; the older
actions name a ledger (`export`, `import`), a record (`reveal`: `{ledger}/{key}`), a report's code,
a task's id or a user name. `tests/runtime/test_audit_log.py` checks every action written has a
name here.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Every action the code writes → what the audit page calls it.
ACTION_LABELS = {
    "read.clear": "明文读取",
    "reveal": "查看单项明文",
    "record.reveal": "查看单项明文",
    "grant.apply": "申请授权",
    "grant.approve": "批准授权",
    "grant.refuse": "拒绝授权",
    "grant.revoke": "撤销授权",
    "grant.withdraw": "撤回授权申请",
    "proposal.create": "提出修改建议",
    "proposal.accept": "采纳修改建议",
    "proposal.reject": "驳回修改建议",
    "export": "导出台账",
    "report.export": "下载汇总数据",
    "report.extract": "从台账直接提取",
    "task.download": "下载预填表格",
    "audit.export": "导出审计日志",
    "import": "导入台账",
    "task.upload": "上传填报表格",
    "report.create": "新建报表",
    "report.revise": "开始修订（新版本）",
    "admission.submit": "提交准入审核",
    "admission.admit": "准入",
    "admission.reject": "不予准入",
    "admission.return": "退回修改",
    "task.dispatch": "下派任务",
    "task.submit": "镇街提交任务",
    "task.return": "退回任务",
    "summary.open": "查看汇总",
    "login": "登录",
    "logout": "退出登录",
    "login_failed": "登录失败",
    "password_changed": "修改密码",
    "password_change_failed": "修改密码失败",
    "client.register": "登记对接系统",
    "client.update": "修改对接系统",
    "token.issue": "签发接口令牌",
    "token.revoke": "吊销接口令牌",
    "api.push": "接口推送",
}


@dataclass(frozen=True)
class Kind:
    """A kind of action the filter offers: its code, its label and the actions it holds."""

    code: str
    label: str
    actions: tuple[str, ...]


READS = Kind("read", "明文读取", ("read.clear", "reveal", "record.reveal"))
GRANTS = Kind(
    "grant", "授权", ("grant.apply", "grant.approve", "grant.refuse", "grant.revoke", "grant.withdraw")
)
PROPOSALS = Kind("proposal", "修改建议", ("proposal.create", "proposal.accept", "proposal.reject"))
REPORTS = Kind(
    "report",
    "报表与准入",
    (
        "report.create",
        "report.revise",
        "admission.submit",
        "admission.admit",
        "admission.reject",
        "admission.return",
    ),
)
TASKS = Kind("task", "下派与汇总", ("task.dispatch", "task.submit", "task.return", "summary.open"))
#: The kinds of action, in the order the filter lists them; every named action is in one.
KINDS = (
    READS,
    GRANTS,
    PROPOSALS,
    Kind(
        "export", "导出与提取", ("export", "report.export", "report.extract", "task.download", "audit.export")
    ),
    Kind("data", "导入与上传", ("import", "task.upload")),
    REPORTS,
    TASKS,
    Kind(
        "exchange",
        "对接系统",
        ("client.register", "client.update", "token.issue", "token.revoke", "api.push"),
    ),
    Kind(
        "account",
        "登录与账号",
        ("login", "logout", "login_failed", "password_changed", "password_change_failed"),
    ),
)
#: The kinds a department's part of the log holds (the others never reach it).
DEPARTMENT_KINDS = (READS, GRANTS, PROPOSALS)

#: How values left the system (`via` of a clear read) → Chinese.
VIA_LABELS = {"page": "页面", "export": "导出", "extract": "提取", "api": "接口"}
#: How an action that does not say it in `via` reads data.
ACTION_VIA = {
    "reveal": "page",
    "record.reveal": "page",
    "summary.open": "page",
    "export": "export",
    "report.export": "export",
    "task.download": "export",
    "audit.export": "export",
    "report.extract": "extract",
}
#: Actions whose target is a ledger's code.
LEDGER_ACTIONS = ("export", "import")
#: Actions whose target is a report's code.
REPORT_ACTIONS = (*REPORTS.actions, *TASKS.actions, "report.export", "report.extract")
#: Actions whose target is a task's id.
TASK_ACTIONS = ("task.download", "task.upload")
#: Actions whose target is a user name.
ACCOUNT_ACTIONS = KINDS[-1].actions
#: The target of the entry an export of the log writes (administrators read it).
EXPORT_TARGET = "audit_log"
#: The owner code of a grant's target when no department owns the elements (an administrator decides).
NO_OWNER = "admin"

#: Why a login was refused (`reason` of login_failed) → Chinese.
LOGIN_REASONS = {
    "wrong_password": "密码错误",
    "unknown_user": "无此用户",
    "inactive": "账号已停用",
    "throttled": "失败次数过多，暂时锁定",
}

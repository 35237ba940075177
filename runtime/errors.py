"""Coded reasons why the runtime refuses an operation, with the Chinese message the user must act on.

Modelled on pyxform's error codes, like `builder.problems.FileProblem`: each member of `ErrorCode`
is a stable code and a message template written for the person at the keyboard, not a developer.
Raise sites name a code and its parameters (`raise ReportError(ErrorCode.REPORT_CODE_TAKEN,
code=code)`); callers show `str(exc)` and may tell errors apart by `exc.code`. The exception
classes callers catch (`ReportError`, `StaleRow`, `StaleRecord`, `OutOfScope` …) all derive from
`OperationRefused`; `NotAllowed`, `InvalidRequest` and `NotFound` also derive from the built-in
exception they replaced, so existing `except PermissionError` sites keep working.
"""

from __future__ import annotations

from enum import Enum
from string import Formatter
from typing import Any


class ErrorCode(Enum):
    """Why an operation is refused: `(code, message template)`; the template's fields are its params."""

    # Concurrency: someone else saved first.
    #: A cell save that came after someone else's; what she typed stays in its input.
    STALE_ROW = ("stale_row", "这一行刚被别人保存过，请看最新的内容后再改；您输入的内容还在输入框里")
    STALE_ROW_MARK = ("stale_row_mark", "这一行刚被别人保存过，请看最新的内容后再改")
    STALE_ROW_DELETE = ("stale_row_delete", "这一行刚被别人保存过，请看最新的内容后再删除")
    STALE_RECORD = ("stale_record", "该记录已被他人修改，请刷新后重试")
    RECORD_CHANGED_DURING_IMPORT = (
        "record_changed_during_import",
        "台账记录在导入过程中被他人修改，请重新导入",
    )
    #: What a township reads when the ledger kept changing under its submission.
    WRITEBACK_BUSY = ("writeback_busy", "台账记录在提交过程中不断被他人修改，请稍后重新提交")
    STALE_DRAFT = (
        "stale_draft",
        "这份草稿已在别处保存过（可能是另一个窗口），请刷新后再改；你这次的修改没有保存到服务器",
    )

    # Who may: accounts, roles and scope.
    NO_ADMIN_PASSWORD = (
        "no_admin_password",
        "未创建管理员：请设置环境变量 YIBIAOTONG_ADMIN_PASSWORD（管理员 admin 的初始密码，"
        "至少 {min_length} 个字符），或在终端中运行 yibiaotong init 按提示输入密码。",
    )
    USER_NOT_FOUND = ("user_not_found", "用户 {user} 不存在")
    CLI_USER_NOT_FOUND = ("cli_user_not_found", "用户 {user} 不存在（可用 --user 指定导入导出所用的账号）")
    EXPORT_NOT_ALLOWED = ("export_not_allowed", "“{role}”不能批量导出台账")
    PLAINTEXT_NOT_ALLOWED = ("plaintext_not_allowed", "无权查看该字段明文")
    OTHER_TOWNSHIP_WARNINGS = ("other_township_warnings", "无权查看其他镇街的预警")
    #: The field messages of a write outside the writer's scope, joined.
    OUT_OF_SCOPE = ("out_of_scope", "{reasons}")

    # Passwords.
    PASSWORD_TOO_SHORT = ("password_too_short", "新密码至少需要 {min_length} 个字符")
    PASSWORD_IS_USERNAME = ("password_is_username", "新密码不能与用户名相同")
    PASSWORD_MISMATCH = ("password_mismatch", "两次输入的新密码不一致")
    PASSWORD_WRONG = ("password_wrong", "当前密码不正确")
    PASSWORD_UNCHANGED = ("password_unchanged", "新密码不能与当前密码相同")

    # Reports: drafting and admission.
    NOT_DEPARTMENT_ADMIN = ("not_department_admin", "只有部门管理员可以新建报表")
    BAD_REPORT_CODE = (
        "bad_report_code",
        "报表编码“{code}”不合规：应以小写字母开头，只含小写字母、数字和下划线，3–60 个字符",
    )
    REPORT_CODE_TAKEN = ("report_code_taken", "报表编码“{code}”已被使用，请换一个")
    REPORT_NOT_EDITABLE = ("report_not_editable", "报表当前状态为“{status}”，不能修改")
    NO_SUCH_VERSION = ("no_such_version", "没有这个版本")
    REPORT_HAS_NO_VERSION = ("report_has_no_version", "报表没有第 {version} 版")
    NOT_REPORT_OWNER = ("not_report_owner", "只有报表所属部门可以修改或提交这份报表")
    ALREADY_FILED = ("already_filed", "这份报表已提交或已有结论，不能重复提交")
    RESUBMIT_UNCHANGED = ("resubmit_unchanged", "退回后请先修改报表（会生成新版本），再重新提交")
    SPEC_NOT_READY = ("spec_not_ready", "报表还有问题，不能提交审核：{findings}")
    NOT_A_REVIEWER = ("not_a_reviewer", "只有准入审核员可以作出审核结论")
    UNKNOWN_VERDICT = ("unknown_verdict", "未知的审核结论")
    VERDICT_REASON_REQUIRED = (
        "verdict_reason_required",
        "请填写理由：准入、不予准入和退回修改都需要写明理由",
    )
    ALREADY_DECIDED = ("already_decided", "这份申请已处理（{status}），不能再次审核")
    ADMISSION_BLOCKED = ("admission_blocked", "自动检查有阻断项，不能准入：{blocks}。请退回修改或不予准入")

    # Reports: dispatch, extraction and export.
    OUTSIDE_TARGETS = ("outside_targets", "{names} 不在本报表准入时确定的下发范围内")
    CANNOT_DISPATCH = ("cannot_dispatch", "只有已准入、且不属于直接提取的报表才能下派")
    EXTRACT_NOT_ADMITTED = ("extract_not_admitted", "只有已准入的报表才能从台账直接提取")
    NOT_DISPATCHED = ("not_dispatched", "这份报表还没有下派，没有可导出的汇总数据")
    NO_ROW_LEDGER = ("no_row_ledger", "这份报表没有指定行来源台账，不能按行导出或提取")
    EXPORTER_GONE = ("exporter_gone", "导出人的账号不存在或已停用")
    NO_SUCH_REPORT = ("no_such_report", "没有这份报表")
    UNSUPPORTED_FORMAT = ("unsupported_format", "不支持的格式：{fmt}")

    # The audit log.
    AUDIT_NOT_ALLOWED = ("audit_not_allowed", "无权查看审计日志")
    AUDIT_TOO_MANY_FOR_XLSX = (
        "audit_too_many_for_xlsx",
        "符合条件的日志超过 {limit} 条，一张 Excel 表放不下：请缩小日期范围，或导出 CSV",
    )

    # Tasks: filling, adding rows and submitting.
    TASK_NOT_YOURS = ("task_not_yours", "这项任务不属于您的辖区")
    VILLAGE_ON_TOWNSHIP_TASK = ("village_on_township_task", "村（社区）账号不能填报镇街的任务")
    TASK_SUBMITTED = ("task_submitted", "任务已提交，不能再修改；如需更正请联系下发部门退回")
    ROW_NOT_IN_TASK = ("row_not_in_task", "这一行不在本任务中（可能已不符合报表的筛选条件）")
    UNIT_NOT_IN_TASK = ("unit_not_in_task", "这一行不在本任务中")
    UNKNOWN_FIELDS = ("unknown_fields", "报表中没有这些字段：{fields}")
    UNKNOWN_FIELD = ("unknown_field", "报表中没有这个字段：{name}")
    MASKED_FIELDS_FIXED = (
        "masked_fields_fixed",
        "{fields}已脱敏，须与公民身份号码一致，不能单独更正；如确有错误请联系数据管理岗",
    )
    NOT_APPLICABLE_REASON_REQUIRED = (
        "not_applicable_reason_required",
        "请写明不适用的原因，如已迁出、已死亡、不符合条件",
    )
    AGGREGATE_ROWS_ARE_UNITS = (
        "aggregate_rows_are_units",
        "汇总报表的行是组织机构，不是台账记录：请用 runtime.tasks.aggregate 读取它的行",
    )
    NO_KEY_BINDING = ("no_key_binding", "本报表没有绑定台账的主键（如身份证号），不能新增行")
    ADD_REFUSED = ("add_refused", "新增的行有需要改正的地方")
    ROW_ALREADY_ADDED = ("row_already_added", "本任务中已经有这一行")
    ROW_ALREADY_INCLUDED = ("row_already_included", "本任务中已经有这一行，可用表格上方的搜索找到它")
    #: What adding a key of another org unit's record says: the same wherever it is, and never where.
    KEY_OUTSIDE_SCOPE = (
        "key_outside_scope",
        "该{key}不在您的辖区，不能加入本任务；如有出入请联系数据管理岗核实",
    )
    ROW_DELETED = ("row_deleted", "这一行已被删除")
    ADDED_KEY_FIXED = ("added_key_fixed", "新增行的{key}不能修改；填错了请删除这一行后重新新增")
    NOT_TASK_WORKBOOK = (
        "not_task_workbook",
        "这不是本任务下载的表格：找不到“{column}”列。请先下载预填表格，在其中填写后再上传",
    )
    TASK_INVALID = ("task_invalid", "还有 {total} 处填写有误，改正后才能提交")
    RETURN_REASON_REQUIRED = ("return_reason_required", "请写明退回的原因，镇街会看到它")
    ONLY_SUBMITTED_RETURN = ("only_submitted_return", "只有已提交的任务才能退回")

    # Changes proposed to an element's owner (待审变更).
    PROPOSAL_GONE = ("proposal_gone", "有变更已被他人处理或已被更新的变更取代，请刷新后再处理")
    PROPOSAL_NOT_YOURS = ("proposal_not_yours", "这条变更应由{owner}审核，您无权处理")
    PROPOSAL_REASON_REQUIRED = ("proposal_reason_required", "请写明不予采纳的理由，提出变更的人会看到它")

    # Grants (分级授权): applications for other departments' elements, and their owners' decisions.
    #: The problems of an application or a decision, one per form field, joined.
    GRANT_REFUSED = ("grant_refused", "{reasons}")
    GRANT_NO_DEPARTMENT = ("grant_no_department", "只有部门账号可以申请授权")
    GRANT_NO_LEDGER = ("grant_no_ledger", "请选择台账")
    GRANT_UNKNOWN_LEDGER = ("grant_unknown_ledger", "没有“{ledger}”这个台账，请选择台账")
    GRANT_NO_ELEMENTS = ("grant_no_elements", "请至少选择一个数据项")
    GRANT_UNKNOWN_ELEMENTS = ("grant_unknown_elements", "{ledger}中没有这些数据项：{elements}")
    GRANT_OWN_ELEMENT = (
        "grant_own_element",
        "“{element}”是本部门（{department}）所有的数据项，本部门本来就能查看明文，无需申请",
    )
    GRANT_NOT_SHARED = ("grant_not_shared", "“{element}”不予共享，只有所有者和台账管理岗可以查看")
    GRANT_NO_TOWNSHIPS = ("grant_no_townships", "请至少选择一个镇街，或选择全区")
    GRANT_UNKNOWN_TOWNSHIPS = ("grant_unknown_townships", "没有这些镇街：{townships}")
    GRANT_TEXT_REQUIRED = ("grant_text_required", "请写明{what}")
    GRANT_TEXT_TOO_LONG = ("grant_text_too_long", "{what}不能超过 {limit} 个字")
    GRANT_EXPIRY_BEFORE_START = (
        "grant_expiry_before_start",
        "截止日期（{expires_on}）不能早于开始日期（{starts_on}）",
    )
    GRANT_EXPIRY_PASSED = ("grant_expiry_passed", "截止日期（{expires_on}）已经过去")
    GRANT_EXPIRY_TOO_FAR = ("grant_expiry_too_far", "授权期限最长 {years} 年：截止日期不能晚于 {latest}")
    GRANT_NOT_FOUND = ("grant_not_found", "没有这份授权申请")
    GRANT_NOT_YOURS = ("grant_not_yours", "这份申请由{decider}审批，您不能处理")
    GRANT_NOT_APPLICANT = ("grant_not_applicant", "只有申请部门可以撤回这份申请")
    GRANT_NOT_PENDING = ("grant_not_pending", "这份申请已处理（{status}），不能再处理")
    GRANT_NOT_GRANTED = ("grant_not_granted", "只有已授权的申请才能撤销（这份申请{status}）")
    GRANT_ELEMENTS_NOT_APPLIED = (
        "grant_elements_not_applied",
        "只能在申请的数据项中选择，没有申请：{elements}",
    )
    GRANT_TOWNSHIPS_NOT_APPLIED = (
        "grant_townships_not_applied",
        "只能在申请的镇街中选择，没有申请：{townships}",
    )
    GRANT_EXPIRY_LATER_THAN_APPLIED = (
        "grant_expiry_later_than_applied",
        "授权截止日期不能晚于申请的截止日期（{expires_on}）",
    )

    # The exchange API: client systems, tokens, pulls and pushes.
    CLIENT_NAME_MISSING = ("client_name_missing", "请填写对接系统的名称")
    CLIENT_NAME_TAKEN = ("client_name_taken", "已有名为“{name}”的对接系统")
    CLIENT_NOT_FOUND = ("client_not_found", "没有编号为 {client} 的对接系统")
    DEPARTMENT_NOT_FOUND = ("department_not_found", "没有编号为 {department} 的部门")
    TOKEN_NOT_FOUND = ("token_not_found", "没有编号为 {token} 的令牌")
    PUSH_BAD_JSON = ("push_bad_json", "请求体不是合法的 JSON 数组（第 {at} 个字节附近）：{reason}")
    PUSH_NOT_ARRAY = ("push_not_array", "请求体应为 JSON 数组，每个元素是一条记录（字段名 → 值的对象）")
    PUSH_BAD_CSV = ("push_bad_csv", "CSV 无法读取：{reason}")
    PUSH_CSV_EMPTY = ("push_csv_empty", "CSV 没有内容")
    PUSH_CSV_ENCODING = (
        "push_csv_encoding",
        "CSV 编码前后不一致（开头是 UTF-8，后面出现了别的编码），请统一保存为 UTF-8 或 GB18030",
    )
    PUSH_CSV_TOO_WIDE = ("push_csv_too_wide", "CSV 第 {line} 行有 {count} 列，多于上限 {limit} 列")
    PUSH_CSV_TOO_LONG = ("push_csv_too_long", "CSV 超过 {limit} 行的上限，请分批推送")
    IDEMPOTENCY_KEY_REUSED = (
        "idempotency_key_reused",
        "这个 Idempotency-Key 已用于另一个请求；重试请原样重发，新的请求请换一个新键",
    )
    IDEMPOTENCY_KEY_IN_PROGRESS = (
        "idempotency_key_in_progress",
        "使用这个 Idempotency-Key 的请求仍在处理中，请稍后再重试",
    )
    JOB_NOT_FOUND = ("job_not_found", "没有这个任务，或它不是本对接系统发起的")
    # Pulls: records, changes and reports read through the API.
    LEDGER_UNKNOWN = ("ledger_unknown", "没有编码为“{ledger}”的台账")
    CURSOR_INVALID = ("cursor_invalid", "游标“{cursor}”无效：请使用上一次应答给出的游标原样传回")
    FIELDS_UNKNOWN = ("fields_unknown", "台账“{ledger}”没有这些字段，或它们对您不可见：{names}")
    FILTER_NOT_CLEAR = (
        "filter_not_clear",
        "不能按这些字段筛选：{names}。您看到的是脱敏值或看不到它们，按它们筛选会泄露原值"
        "（按镇街授权明文的字段，请同时用 township 指定该镇街）",
    )
    FILTER_VALUE_INVALID = ("filter_value_invalid", "筛选值不合要求：{problems}")
    TOWNSHIP_UNKNOWN = ("township_unknown", "没有代码为“{township}”的镇街")
    REPORT_NOT_FOUND = ("report_not_found", "没有编码为“{code}”的报表，或它不属于您的部门")

    # Early warnings, background jobs and the demo data.
    UNKNOWN_LEDGERS = ("unknown_ledgers", "未知的台账：{ledgers}")
    BAD_FILENAME = ("bad_filename", "文件名不合法：{name}")
    UNKNOWN_JOB_FUNCTION = ("unknown_job_function", "未知的后台任务函数：{name}（应为“包.模块:函数”）")
    DEMO_UNKNOWN_SCALE = ("demo_unknown_scale", "未知的规模：{scale}（可选：{choices}）")
    DEMO_TOO_MANY_TOWNSHIPS = ("demo_too_many_townships", "镇街过多，身份证顺序码不够分配")
    DEMO_NO_TOWNSHIPS = ("demo_no_townships", "规格集中没有镇街，无法生成演示数据")
    DEMO_NO_VILLAGES = ("demo_no_villages", "镇街“{township}”没有村（社区），无法生成演示数据")
    DEMO_VALUES_MISSING = (
        "demo_values_missing",
        "数据元 {element} 的值集中没有演示数据要用的取值：{missing}",
    )
    DEMO_INDUSTRY_MISSING = (
        "demo_industry_missing",
        "数据元 enterprise.industry 的值集中找不到门类 {letter} {name}",
    )

    def __init__(self, code: str, template: str) -> None:
        """Keep the stable code and the message template apart."""
        self.code = code
        self.template = template

    @property
    def params(self) -> frozenset[str]:
        """Return the names of the parameters the template needs."""
        return frozenset(name for _, name, _, _ in Formatter().parse(self.template) if name is not None)

    def format(self, **params: Any) -> str:
        """Return the message with its parameters filled in (a missing one raises KeyError)."""
        return self.template.format(**params)


class OperationRefused(Exception):
    """An operation the runtime will not carry out; `str(exc)` says why in Chinese, `exc.code` is stable."""

    def __init__(self, error: ErrorCode, **params: Any) -> None:
        """Record the code and its parameters, and format the message."""
        self.error = error
        self.code = error.code
        self.params = params
        super().__init__(error.format(**params))

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the state, not the constructor arguments (subclasses take their own)."""
        return _restore, (type(self), self.args, self.__dict__)


def _restore(cls: type[OperationRefused], args: tuple[Any, ...], state: dict[str, Any]) -> OperationRefused:
    """Recreate a pickled OperationRefused without calling its constructor."""
    exc = cls.__new__(cls, *args)
    exc.args = args
    exc.__dict__.update(state)
    return exc


class NotAllowed(OperationRefused, PermissionError):
    """The user may not do or see this."""


class InvalidRequest(OperationRefused, ValueError):
    """A request the runtime cannot carry out as asked."""


class NotFound(OperationRefused, LookupError):
    """What the request names does not exist."""

"""The marshmallow schemas the API document is built from (requests parsed, responses described)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate


class ProblemSchema(Schema):
    """An error (RFC 9457): `code` is stable for programs, `detail` says it in Chinese for people."""

    type = fields.String(metadata={"description": "问题类型（about:blank）"})
    title = fields.String(required=True, metadata={"description": "问题的中文标题"})
    status = fields.Integer(required=True, metadata={"description": "HTTP 状态码"})
    code = fields.String(required=True, metadata={"description": "稳定的错误代码，程序据此判断"})
    detail = fields.String(metadata={"description": "中文说明：出了什么问题、该怎么办"})
    instance = fields.String(metadata={"description": "出错的请求路径"})
    errors = fields.Raw(metadata={"description": "逐项的错误（参数名 → 说明）"})


class FieldSchema(Schema):
    """One field of a ledger, the data element it is bound to, and how the caller may use it."""

    name = fields.String(required=True, metadata={"description": "字段名（记录 values 的键）"})
    element = fields.String(required=True, metadata={"description": "数据元编码，如 person.id_number"})
    title = fields.String(required=True, metadata={"description": "标准名称"})
    aliases = fields.List(fields.String(), metadata={"description": "常见的别名（表头写法）"})
    type = fields.String(allow_none=True, metadata={"description": "JSON Schema 类型"})
    format = fields.String(allow_none=True, metadata={"description": "JSON Schema 格式（date 等）"})
    enum = fields.List(fields.Raw(), allow_none=True, metadata={"description": "可选值"})
    required = fields.Boolean(required=True, metadata={"description": "新建记录时是否必填"})
    owner = fields.String(required=True, metadata={"description": "权威来源部门"})
    source = fields.String(metadata={"description": "数据来源（系统或采集渠道）"})
    update_frequency = fields.String(metadata={"description": "更新频率"})
    sharing = fields.String(
        required=True, metadata={"description": "共享类型：无条件共享、有条件共享、不予共享"}
    )
    sensitivity = fields.String(required=True, metadata={"description": "敏感级别"})
    sight = fields.String(
        required=True,
        metadata={
            "description": "调用方读到的样子：clear 明文、masked 脱敏、hidden 不可见、partly 部分镇街明文"
        },
    )
    write = fields.String(
        required=True,
        metadata={
            "description": "推送时：own 直接写入（本部门权威数据项）；propose 成为交给权威部门审核的变更"
        },
    )


class LedgerSchema(Schema):
    """A ledger: its natural key, its org-unit fields and its fields."""

    code = fields.String(required=True, metadata={"description": "台账编码，如 person"})
    title = fields.String(required=True, metadata={"description": "台账名称"})
    key = fields.String(required=True, metadata={"description": "自然键字段（推送时按它新增或更新）"})
    label = fields.String(required=True, metadata={"description": "显示名称字段"})
    township_field = fields.String(required=True, metadata={"description": "所属镇街字段"})
    village_field = fields.String(allow_none=True, metadata={"description": "所属村（社区）字段"})
    fields_ = fields.List(fields.Nested(FieldSchema), data_key="fields", required=True)


class DepartmentSchema(Schema):
    """A department that owns data elements."""

    code = fields.String(required=True)
    name = fields.String(required=True)


class CatalogSchema(Schema):
    """The catalog as the caller sees it: ledgers, their fields and owners, and the caller itself."""

    client = fields.String(required=True, metadata={"description": "调用方（对接系统）名称"})
    department = fields.String(required=True, metadata={"description": "调用方所属部门"})
    departments = fields.List(fields.Nested(DepartmentSchema), required=True)
    ledgers = fields.List(fields.Nested(LedgerSchema), required=True)


class PushQuerySchema(Schema):
    """Query parameters of a push."""

    dry_run = fields.Boolean(
        load_default=False, metadata={"description": "试运行：只校验并报告结果，不写入任何数据"}
    )
    mode = fields.String(
        load_default="per_row",
        validate=validate.OneOf(["per_row", "all_or_nothing"]),
        metadata={
            "description": "per_row（默认）：好的行写入、坏的行拒绝；"
            "all_or_nothing：有任何一行被拒绝则全部不写入，应答 422"
        },
    )
    async_ = fields.Boolean(
        data_key="async",
        load_default=False,
        metadata={"description": "作为后台任务执行（请求体超过 5 MB 时总是如此），应答 202 与任务地址"},
    )


class RowErrorSchema(Schema):
    """Why one value of a row was not taken."""

    field = fields.String(required=True, metadata={"description": "字段名（整行的问题为空字符串）"})
    code = fields.String(
        required=True,
        metadata={
            "description": "invalid_value 值无效、unknown_field 台账无此字段、key_missing 缺少自然键、"
            "duplicate_key 与前面的行重复、cannot_create 本部门不能新建记录、required_missing 新建缺必填项、"
            "not_an_object 不是对象"
        },
    )
    message = fields.String(required=True, metadata={"description": "中文说明"})


class PushRowSchema(Schema):
    """The outcome of one pushed row."""

    row = fields.Integer(
        required=True, metadata={"description": "行号：JSON 为第几个元素（从 1 起），CSV 为文件中的行"}
    )
    key = fields.String(required=True, allow_none=True, metadata={"description": "自然键"})
    result = fields.String(
        required=True,
        validate=validate.OneOf(["created", "updated", "unchanged", "proposed", "rejected"]),
        metadata={
            "description": "created 新增、updated 更新、unchanged 无变化、"
            "proposed 仅提交权威部门审核、rejected 拒绝"
        },
    )
    errors = fields.List(fields.Nested(RowErrorSchema), required=True)
    proposed = fields.List(
        fields.String(), required=True, metadata={"description": "作为变更提交给权威部门审核的字段"}
    )


class PushSummarySchema(Schema):
    """The counts of a push."""

    total = fields.Integer(required=True)
    created = fields.Integer(required=True)
    updated = fields.Integer(required=True)
    unchanged = fields.Integer(required=True)
    proposed = fields.Integer(required=True, metadata={"description": "只产生待审变更的行数"})
    rejected = fields.Integer(required=True)
    proposals = fields.Integer(required=True, metadata={"description": "提交给权威部门审核的值的个数"})
    dry_run = fields.Boolean(required=True)
    mode = fields.String(required=True)
    written = fields.Boolean(required=True, metadata={"description": "是否写入了数据"})
    rows_listed = fields.String(
        required=True,
        metadata={
            "description": "all：列出了全部行（不超过 1000 行时）；"
            "rejected_and_proposed：只列出被拒绝和产生待审变更的行（至多 1000 行）"
        },
    )
    rows_omitted = fields.Integer(required=True, metadata={"description": "未列出的行数"})
    message = fields.String(required=True)


class PushAnswerSchema(Schema):
    """The answer to a push: summary and rows, like the file import's error report."""

    ledger = fields.String(required=True)
    summary = fields.Nested(PushSummarySchema, required=True)
    rows = fields.List(fields.Nested(PushRowSchema), required=True)


class PushRefusedSchema(ProblemSchema):
    """An all-or-nothing push with rejected rows: nothing was written; the report says why."""

    ledger = fields.String()
    summary = fields.Nested(PushSummarySchema)
    rows = fields.List(fields.Nested(PushRowSchema))


class JobAcceptedSchema(Schema):
    """A push accepted as a background job."""

    job_id = fields.Integer(required=True)
    status = fields.String(required=True)
    status_url = fields.String(required=True, metadata={"description": "查询任务进度与结果的地址"})


class JobSchema(Schema):
    """A push job: its state and progress and, once done, the push's answer."""

    job_id = fields.Integer(required=True)
    status = fields.String(
        required=True,
        validate=validate.OneOf(["queued", "running", "done", "failed"]),
        metadata={"description": "queued 排队中、running 进行中、done 完成、failed 失败"},
    )
    done = fields.Integer(required=True, metadata={"description": "已处理的行数"})
    total = fields.Integer(required=True)
    message = fields.String(required=True)
    http_status = fields.Integer(
        allow_none=True,
        metadata={"description": "完成时推送的结果相当于的 HTTP 状态（200，或全部或全不被拒绝时 422）"},
    )
    result = fields.Nested(PushAnswerSchema, allow_none=True, metadata={"description": "完成时的推送结果"})


# --- pulls: records, changes, reports ---------------------------------------------------------


class RecordsQuerySchema(Schema):
    """The parameters of a records pull (filters come as `filter[字段]=值` or `字段=值`)."""

    limit = fields.Integer(
        load_default=1000,
        validate=validate.Range(min=1, max=5000),
        metadata={"description": "每页条数，1–5000，默认 1000"},
    )
    after = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={"description": "上一页应答中的 next（不透明游标），从它之后读起；不带则从头读"},
    )
    fields_ = fields.String(
        data_key="fields",
        validate=validate.Length(max=4000),
        metadata={"description": "要读的字段名，逗号分隔；不带则为可见的全部字段"},
    )
    township = fields.String(
        validate=validate.Length(min=1, max=20), metadata={"description": "只读这个镇街（代码）的记录"}
    )


class PulledRecordSchema(Schema):
    """One record as the caller sees it."""

    id = fields.Integer(
        required=True, metadata={"description": "记录编号（稳定，不随修改变化），镜像时据此对应"}
    )
    key = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "自然键，按调用方对该字段的可见程度（可能脱敏）"},
    )
    version = fields.Integer(required=True, metadata={"description": "记录的版本号，每次修改加一"})
    township = fields.String(required=True, allow_none=True, metadata={"description": "所属镇街代码"})
    values = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "字段名 → 值：明文或脱敏值；对调用方不可见的字段不出现"},
    )


class RecordsPageSchema(Schema):
    """A page of records and the cursor of the next one."""

    ledger = fields.String(required=True, metadata={"description": "台账编码"})
    records = fields.List(fields.Nested(PulledRecordSchema), required=True)
    next = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "下一页的游标（作为 after 传回）；最后一页为 null"},
    )


class ChangesQuerySchema(Schema):
    """The parameters of a changes pull."""

    cursor = fields.String(
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "上一次应答中的 next_cursor（不透明游标）；不带则从头读起（完整镜像由此开始）；"
            "now 表示从现在起（只要此后的变更）"
        },
    )
    limit = fields.Integer(
        load_default=1000,
        validate=validate.Range(min=1, max=5000),
        metadata={"description": "最多返回的变更条数，1–5000，默认 1000"},
    )


class ChangeSchema(Schema):
    """One version of a record: the values it set, as the caller sees them."""

    id = fields.Integer(required=True, metadata={"description": "记录编号（与 records 的 id 相同）"})
    key = fields.String(required=True, allow_none=True, metadata={"description": "自然键（可能脱敏）"})
    version = fields.Integer(required=True, metadata={"description": "这次变更后记录的版本号"})
    township = fields.String(required=True, allow_none=True, metadata={"description": "所属镇街代码"})
    at = fields.String(required=True, metadata={"description": "变更时间（ISO 8601）"})
    source = fields.String(required=True, metadata={"description": "变更来源（中文），如 台账导入、报表回流"})
    values = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "这次变更写入的值（null 表示清空）；对调用方不可见的字段不出现"},
    )


class ChangesPageSchema(Schema):
    """Changes after a cursor, and the position reached."""

    ledger = fields.String(required=True, metadata={"description": "台账编码"})
    changes = fields.List(fields.Nested(ChangeSchema), required=True)
    next_cursor = fields.String(
        required=True,
        metadata={"description": "读到的位置：保存它，下次作为 cursor 传回（没有新变更时不变）"},
    )
    more = fields.Boolean(required=True, metadata={"description": "是否还有更多变更可立即读取"})


class ChangesHeadSchema(Schema):
    """The current position of a ledger's changes."""

    ledger = fields.String(required=True, metadata={"description": "台账编码"})
    cursor = fields.String(required=True, metadata={"description": "当前位置：此后的变更从这里读起"})


class ReportsQuerySchema(Schema):
    """The parameters of the list of reports."""

    limit = fields.Integer(
        load_default=100,
        validate=validate.Range(min=1, max=500),
        metadata={"description": "每页份数，1–500，默认 100"},
    )
    after = fields.String(
        validate=[validate.Length(min=1, max=60), validate.Regexp(r"^[a-z0-9_]+$")],
        metadata={
            "description": "上一页应答中的 next（即上一页最后一份报表的编码），从它之后读起；不带则从头读"
        },
    )


class TaskCountsSchema(Schema):
    """How many of a report's tasks are in each state."""

    total = fields.Integer(required=True, metadata={"description": "任务总数（下派到的单位数）"})
    new = fields.Integer(required=True, metadata={"description": "新任务"})
    in_progress = fields.Integer(required=True, metadata={"description": "填报中"})
    returned = fields.Integer(required=True, metadata={"description": "已退回"})
    overdue = fields.Integer(required=True, metadata={"description": "已逾期（过了截止日期仍未提交）"})
    submitted = fields.Integer(required=True, metadata={"description": "已提交"})


#: Report statuses as the API gives them.
REPORT_STATUSES = ["draft", "submitted", "returned", "rejected", "admitted", "dispatched"]
#: Task states as the API gives them.
TASK_STATES = ["new", "in_progress", "returned", "overdue", "submitted"]


class ReportSchema(Schema):
    """A report the caller's department owns: what it is, why, and how far its tasks are."""

    code = fields.String(required=True, metadata={"description": "报表编码"})
    title = fields.String(required=True, metadata={"description": "报表名称"})
    version = fields.Integer(required=True, metadata={"description": "当前版本号"})
    status = fields.String(
        required=True,
        validate=validate.OneOf(REPORT_STATUSES),
        metadata={
            "description": "draft 草稿、submitted 待审核、returned 退回修改、rejected 不予准入、"
            "admitted 已准入（未下派）、dispatched 已下派"
        },
    )
    status_label = fields.String(required=True, metadata={"description": "状态的中文名称"})
    mode = fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "准入后的办理方式：dispatch 下派镇街填报、extract 从台账直接提取；未准入为 null"
        },
    )
    deadline = fields.String(
        required=True, allow_none=True, metadata={"description": "截止日期（YYYY-MM-DD），未定为 null"}
    )
    basis = fields.String(required=True, metadata={"description": "法律或政策依据"})
    purpose = fields.String(required=True, metadata={"description": "用途"})
    frequency = fields.String(
        required=True, metadata={"description": "频次：once 一次性、monthly、quarterly、yearly"}
    )
    ledger = fields.String(required=True, allow_none=True, metadata={"description": "行来源台账编码"})
    dispatched_at = fields.String(
        required=True, allow_none=True, metadata={"description": "下派时间（ISO 8601），未下派为 null"}
    )
    updated_at = fields.String(required=True, metadata={"description": "最后修改时间（ISO 8601）"})
    tasks = fields.Nested(TaskCountsSchema, required=True, metadata={"description": "各状态的任务数"})


class ReportsPageSchema(Schema):
    """A page of the caller's department's reports."""

    reports = fields.List(fields.Nested(ReportSchema), required=True)
    next = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "本页最后一份报表的编码（作为 after 传回读下一页）；最后一页为 null"},
    )


class ReportFieldSchema(Schema):
    """One field (column) of a report."""

    name = fields.String(required=True, metadata={"description": "字段名（汇总行 values 的键）"})
    title = fields.String(required=True, metadata={"description": "列标题"})
    element = fields.String(
        required=True, allow_none=True, metadata={"description": "绑定的数据元编码；自定义字段为 null"}
    )
    type = fields.String(required=True, allow_none=True, metadata={"description": "JSON Schema 类型"})
    format = fields.String(required=True, allow_none=True, metadata={"description": "JSON Schema 格式"})
    required = fields.Boolean(required=True, metadata={"description": "是否必填"})
    computed = fields.Boolean(required=True, metadata={"description": "是否由其他字段或台账计算得出"})


class TaskProgressSchema(Schema):
    """The progress of one org unit's task."""

    org_unit = fields.String(required=True, metadata={"description": "单位（镇街或村社区）代码"})
    org_unit_name = fields.String(required=True, metadata={"description": "单位名称"})
    status = fields.String(
        required=True,
        validate=validate.OneOf(TASK_STATES),
        metadata={
            "description": "new 新任务、in_progress 填报中、returned 已退回、overdue 已逾期、submitted 已提交"
        },
    )
    status_label = fields.String(required=True, metadata={"description": "状态的中文名称"})
    deadline = fields.String(
        required=True, allow_none=True, metadata={"description": "截止日期（YYYY-MM-DD）"}
    )
    submitted_at = fields.String(
        required=True, allow_none=True, metadata={"description": "提交时间（ISO 8601），未提交为 null"}
    )
    rows = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "任务的行数（截至最近一次保存或提交）；镇街还未打开过任务时为 null"},
    )
    gaps = fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "尚待填写的行数（截至最近一次保存或提交）；未知时为 null"},
    )


class ReportDetailSchema(ReportSchema):
    """A report with its fields and each task's progress."""

    fields_ = fields.List(fields.Nested(ReportFieldSchema), data_key="fields", required=True)
    progress = fields.List(
        fields.Nested(TaskProgressSchema), required=True, metadata={"description": "各单位任务的进度"}
    )


class SummaryQuerySchema(Schema):
    """The parameters of a summary pull."""

    limit = fields.Integer(
        load_default=500,
        validate=validate.Range(min=1, max=5000),
        metadata={"description": "每页行数，1–5000，默认 500"},
    )
    after = fields.String(
        validate=[validate.Length(min=1, max=400), validate.Regexp(r"^[A-Za-z0-9_-]+$")],
        metadata={"description": "上一页应答中的 next（不透明游标），从它之后读起；不带则从头读"},
    )


class MeasureSchema(Schema):
    """A numeric field the summary adds up."""

    name = fields.String(required=True, metadata={"description": "字段名"})
    title = fields.String(required=True, metadata={"description": "列标题"})


class SummaryLineSchema(Schema):
    """One line of the summary: a township's submitted rows, or all of them."""

    org_unit = fields.String(
        required=True, allow_none=True, metadata={"description": "单位代码；合计行为 null"}
    )
    name = fields.String(required=True, metadata={"description": "单位名称，或“合计”"})
    rows = fields.Integer(required=True, metadata={"description": "行数"})
    sums = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "数值字段名 → 合计"},
    )


class SummaryTotalsSchema(Schema):
    """The summary page's totals over the submitted tasks."""

    by_unit = fields.List(fields.Nested(SummaryLineSchema), required=True)
    total = fields.Nested(SummaryLineSchema, required=True)


class SummaryRowSchema(Schema):
    """One submitted row, as the department sees it."""

    org_unit = fields.String(required=True, metadata={"description": "行所属单位代码"})
    org_unit_name = fields.String(required=True, metadata={"description": "单位名称（村社区带镇街名）"})
    kind = fields.String(
        required=True,
        validate=validate.OneOf(["ledger", "added", "unit"]),
        metadata={
            "description": "ledger 台账中的记录、added 镇街新增（尚未进入台账）、unit 汇总报表的单位行"
        },
    )
    ref = fields.String(required=True, metadata={"description": "行在任务中的编号"})
    values = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(allow_none=True),
        required=True,
        metadata={"description": "字段名 → 值：明文或脱敏值；对本部门不可见的值为 null"},
    )


class SummaryPageSchema(Schema):
    """A page of a report's submitted rows, with the summary's totals."""

    report = fields.String(required=True, metadata={"description": "报表编码"})
    title = fields.String(required=True, metadata={"description": "报表名称"})
    submitted = fields.Integer(required=True, metadata={"description": "已提交的任务数"})
    tasks = fields.Integer(required=True, metadata={"description": "任务总数"})
    measures = fields.List(fields.Nested(MeasureSchema), required=True)
    totals = fields.Nested(
        SummaryTotalsSchema,
        required=True,
        allow_none=True,
        metadata={"description": "已提交任务的合计（与汇总页相同）；未下派时为 null"},
    )
    rows = fields.List(fields.Nested(SummaryRowSchema), required=True)
    next = fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "下一页的游标（作为 after 传回）；最后一页为 null"},
    )

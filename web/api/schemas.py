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

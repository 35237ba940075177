"""The marshmallow schemas the API document is built from (requests parsed, responses described)."""

from __future__ import annotations

from marshmallow import Schema, fields


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

"""The widget table: every input a form can show, registered by name, and the default one per schema.

As in react-jsonschema-form, the schema says what a value is and a widget name says how it is
shown. Ledger record forms and report forms both take their widgets from this table; each name is
rendered by the macro of the same name in `web/templates/forms/_widgets.html`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.schema import choices, schema_type


@dataclass(frozen=True)
class Widget:
    """One input control: its name (what specs and templates call it) and its Chinese label."""

    name: str
    label: str


#: Widget name → widget, filled by `register`.
WIDGETS: dict[str, Widget] = {}


class UnknownWidget(ValueError):
    """A widget name the table does not hold, or a schema type no widget shows."""


def register(name: str, label: str) -> Widget:
    """Add a widget to the table and return it."""
    WIDGETS[name] = Widget(name, label)
    return WIDGETS[name]


register("text", "单行文本框")
register("textarea", "多行文本框")
register("number", "数字框")
register("date", "日期选择")
register("select", "下拉选择")
register("radio", "单选按钮")
register("checkboxes", "复选框")
register("yesno", "是/否按钮")
register("list", "多个取值（用顿号分隔）")
register("township", "镇街下拉框")
register("village", "村（社区）下拉框")

#: What a report form shows a value with when the spec names no widget: by kind (see `kind_of`).
REPORT_DEFAULTS = {
    "boolean": "yesno",
    "array": "checkboxes",
    "choice": "select",
    "date": "date",
    "number": "number",
    "integer": "number",
    "string": "text",
}
#: What a ledger record's edit form shows a value with: a yes/no that may be emptied is a select.
RECORD_DEFAULTS = {
    "boolean": "select",
    "array": "list",
    "choice": "select",
    "date": "date",
    "number": "number",
    "integer": "number",
    "string": "text",
}


def kind_of(schema: Mapping[str, Any]) -> str | None:
    """Return what a value is for choosing its widget: array, boolean, choice, date, or its type."""
    kind = schema_type(schema)
    if kind in ("array", "boolean"):
        return kind
    if choices(schema):
        return "choice"
    if schema.get("format") == "date":
        return "date"
    return kind


def widget(name: str, schema: Mapping[str, Any] | None = None) -> Widget:
    """Return the registered widget `name`; an unknown name is an error naming the schema's type."""
    if name not in WIDGETS:
        kind = schema_type(schema or {})
        raise UnknownWidget(f"没有名为“{name}”的输入控件（字段类型：{kind or '未注明'}）")
    return WIDGETS[name]


def default_widget(schema: Mapping[str, Any], defaults: Mapping[str, str]) -> Widget:
    """Return the widget `defaults` gives a schema's kind; a kind it has none for is an error naming it."""
    kind = kind_of(schema)
    if kind not in defaults:
        raise UnknownWidget(f"字段类型“{kind}”没有对应的输入控件")
    return widget(defaults[kind], schema)

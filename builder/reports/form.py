"""One report field as a township's form shows it: its label, group captions, widget, options, hints.

The editor's live preview and the township form render the same `FieldView`s (the macro in
`web/templates/forms/_field.html`), so what the department admin sees is what townships get.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from builder.catalog.specs import Element, Field
from builder.reports.spec import ReportField
from builder.schema import choices, plain, schema_type
from builder.widgets import REPORT_DEFAULTS, kind_of

#: Custom field kind → the widgets it may use, the default first.
KIND_WIDGETS = {
    "text": ("text", "textarea"),
    "number": ("number",),
    "integer": ("number",),
    "date": ("date",),
    "choice": ("select", "radio"),
    "multi": ("checkboxes",),
    "yesno": ("yesno", "select"),
}
YES, NO = "是", "否"


@dataclass(frozen=True)
class FieldView:
    """What the form macro needs to render one field."""

    name: str
    title: str
    #: One of `builder.reports.spec.WIDGETS`.
    widget: str
    required: bool = False
    help: str = ""
    parents: tuple[str, ...] = ()
    #: The bound element: the value is pre-filled from the ledgers (badge “台账预填”).
    element: str | None = None
    #: (value, label) choices of select, radio, checkboxes and yesno widgets.
    options: tuple[tuple[str, str], ...] = ()
    #: Short Chinese notes on what may be entered (“填整数”, “最多 50 个字” …).
    hints: tuple[str, ...] = ()
    #: Whole numbers only (a numeric keyboard on phones).
    integer: bool = False


def widgets_for(kind: str, schema: Mapping[str, Any] | None = None) -> tuple[str, ...]:
    """Return the widgets a field may use, the default first: by custom kind, else by schema."""
    if kind in KIND_WIDGETS:
        return KIND_WIDGETS[kind]
    # A field of an unfinished document may have no type yet: the preview still shows a text box.
    default = REPORT_DEFAULTS.get(kind_of(schema or {}) or "", "text")
    return next(names for names in KIND_WIDGETS.values() if names[0] == default)


def options_of(schema: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """Return the (value, label) choices a form offers: the schema's choices as text, or yes/no."""
    if schema_type(schema) == "boolean":
        return ((YES, YES), (NO, NO))
    return tuple((plain(value), label) for value, label in choices(schema))


def hints_of(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """Return short notes on the values a schema allows, for the person filling the form."""
    hints = []
    typ = schema_type(schema)
    if typ == "integer":
        hints.append("填整数")
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and high is not None:
        hints.append(f"取值 {plain(low)}–{plain(high)}")
    elif low is not None:
        hints.append(f"不小于 {plain(low)}")
    elif high is not None:
        hints.append(f"不大于 {plain(high)}")
    if schema.get("exclusiveMinimum") is not None:
        hints.append(f"大于 {plain(schema['exclusiveMinimum'])}")
    if schema.get("exclusiveMaximum") is not None:
        hints.append(f"小于 {plain(schema['exclusiveMaximum'])}")
    shortest, longest = schema.get("minLength"), schema.get("maxLength")
    if shortest and longest:
        hints.append(f"{shortest}–{longest} 个字")
    elif longest:
        hints.append(f"最多 {longest} 个字")
    elif shortest:
        hints.append(f"至少 {shortest} 个字")
    if typ == "array":
        hints.append("可多选")
    return tuple(hints)


def field_view(f: ReportField) -> FieldView:
    """Return how the form shows a loaded report field."""
    allowed = widgets_for("", f.schema)
    # A widget the value cannot use (checkboxes for a date) falls back to the type's default.
    widget = f.widget if f.widget in allowed else allowed[0]
    return FieldView(
        name=f.name,
        title=f.title,
        widget=widget,
        required=f.required,
        help=f.help,
        parents=tuple(f.parents),
        element=f.element,
        options=options_of(f.schema),
        hints=hints_of(f.schema),
        integer=schema_type(f.schema) == "integer",
    )


def ledger_field_view(f: Field, *, required: bool = True) -> FieldView:
    """Return how a form shows a ledger field asked outside any report (a new record's household …)."""
    schema = f.schema
    return FieldView(
        name=f.name,
        title=f.title,
        widget=widgets_for("", schema)[0],
        required=required,
        options=options_of(schema),
        hints=hints_of(schema),
        integer=schema_type(schema) == "integer",
    )


def preview_fields(document: Mapping[str, Any], elements: Mapping[str, Element]) -> list[FieldView]:
    """Return the form of a report document as far as it can be shown, even while it is unfinished."""
    props = document.get("properties")
    if not isinstance(props, Mapping):
        return []
    required = set(document.get("required") or ())
    views = []
    for name, prop in props.items():
        if not isinstance(prop, Mapping):
            continue
        element = elements.get(prop.get("x-element") or "")
        schema = {
            **(element.schema if element else {}),
            **{k: v for k, v in prop.items() if not k.startswith("x-")},
        }
        title = str(prop.get("title") or (element.name if element else "") or name)
        parents = prop.get("x-parents")
        views.append(
            field_view(
                ReportField(
                    name=name,
                    title=title,
                    schema=schema,
                    element=element.code if element else None,
                    required=name in required,
                    writeback=bool(element) and prop.get("x-writeback", True),
                    widget=prop.get("x-widget"),
                    help=str(prop.get("x-help", "")),
                    parents=tuple(str(p) for p in parents) if isinstance(parents, list) else (),
                )
            )
        )
    return views

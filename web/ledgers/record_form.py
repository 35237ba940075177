"""The edit form of a ledger record, generated from the ledger's fields.

Each field gets a widget from the widget table (`builder.widgets`) by its schema: org level,
choices, type, format. What the user typed is parsed with the import's own `RowCoercer`, so a form accepts
the same spellings a spreadsheet does, and the merged record is checked by `RowValidator`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from builder.catalog.specs import Field, Ledger, SpecSet
from builder.catalog.validation import RowValidator
from builder.schema import choices, plain, schema_type
from builder.tabular.coercion import RowCoercer
from builder.widgets import RECORD_DEFAULTS, default_widget, widget
from runtime.access import Viewer
from runtime.masking import completed, hidden_names, holder_id, masked_names, replaceable
from runtime.org_scope import outside, parents_of
from web.i18n import gettext as _
from web.ledgers.record_table import as_text, is_boolean

#: Why a masked value that must agree with the key (a birth date) cannot be changed on its own.
FIXED = "%(title)s已脱敏，它须与%(key)s一致，不能单独修改"


def widget_for(field: Field) -> str:
    """Return the widget name of a field, chosen from its schema (an org level picks an org-unit select)."""
    level = field.element.org_level
    if level in ("township", "village"):
        return widget(level).name
    return default_widget(field.schema, RECORD_DEFAULTS).name


@dataclass
class FormField:
    """One labelled row of the form: the field, its widget, what it shows, its error."""

    field: Field
    widget: str
    value: str
    error: str = ""
    #: A masked field: the input starts empty and the masked value is shown as a hint.
    masked: str | None = None
    readonly: bool = False
    #: Why a read-only field cannot be changed.
    note: str = ""
    #: Who decides a change of it (a department's name): empty when the change applies at once.
    reviewer: str = ""
    #: The value already proposed for it and waiting for its owner, as the viewer sees it.
    pending: str = ""

    @property
    def name(self) -> str:
        """Return the input name."""
        return self.field.name

    @property
    def is_date(self) -> bool:
        """Tell whether the value is a real YYYY-MM-DD date (a date input can show it)."""
        try:
            return len(self.value) == 10 and bool(date.fromisoformat(self.value))
        except ValueError:
            return False

    @property
    def options(self) -> list[tuple[str, str]]:
        """Return the (value, label) options of a select widget: the schema's choices, or yes/no."""
        if is_boolean(self.field):
            return [(_("是"), _("是")), (_("否"), _("否"))]
        return [(plain(v), label) for v, label in choices(self.field.schema)]

    @property
    def integer(self) -> bool:
        """Tell whether the field holds whole numbers only (a numeric keyboard on phones)."""
        return schema_type(self.field.schema) == "integer"


def build(
    ledger: Ledger,
    shown: dict[str, Any],
    viewer: Viewer,
    typed: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    reviewers: Mapping[str, str] | None = None,
    pending: Mapping[str, str] | None = None,
) -> list[FormField]:
    """Return the form rows of a record: masked values as hints, typed input kept over stored.

    The key cannot be changed, nor a masked value that must agree with the key (a birth date):
    they are shown, not offered as inputs. `reviewers` names who decides a change of a field the
    viewer may not change at once, `pending` the values already proposed and waiting.
    """
    hidden = masked_names(ledger, viewer, shown)
    unseen = hidden_names(ledger, viewer, shown)
    rows = []
    for field in ledger.fields:
        if field.name in unseen:
            continue
        value = shown.get(field.name)
        masked = field.name in hidden and value not in (None, "")
        fixed = masked and not replaceable(field, viewer)
        text = "" if masked else as_text(value)
        if typed is not None and field.name in typed:
            text = typed[field.name]
        rows.append(
            FormField(
                field=field,
                widget=widget_for(field),
                value=text,
                error=(errors or {}).get(field.name, ""),
                masked=as_text(value) if masked else None,
                readonly=field.name == ledger.key or fixed,
                note=_("（唯一标识，不能修改）")
                if field.name == ledger.key
                else _("（已脱敏，须与%(key)s一致，不能单独修改）", key=ledger.by_name[ledger.key].title)
                if fixed
                else "",
                reviewer=(reviewers or {}).get(field.name, ""),
                pending=(pending or {}).get(field.name, ""),
            )
        )
    return rows


def editable(ledger: Ledger) -> list[Field]:
    """Return the fields a form may change (all but the natural key)."""
    return [f for f in ledger.fields if f.name != ledger.key]


def parse(
    ledger: Ledger,
    specs: SpecSet,
    stored: dict[str, Any],
    form: Mapping[str, str],
    viewer: Viewer,
    only: str | None = None,
) -> tuple[dict[str, Any], dict[str, str]]:
    """Return (changes, errors by field) of what the user typed into the form.

    A field absent from the form is left alone; an empty masked field keeps its stored value
    (its clear value was never shown); any other empty field is cleared. A masked value that must
    agree with the key (a birth date) is refused whatever is typed: whether a guess were accepted
    would tell the hidden digits. `only` parses just one field, for inline validation.
    """
    hidden = masked_names(ledger, viewer, stored)
    unseen = hidden_names(ledger, viewer, stored)
    holder = holder_id(ledger, stored)
    cells: list[str] = []
    columns: dict[int, str] = {}
    fixed: dict[str, str] = {}
    for field in editable(ledger):
        if (
            field.name not in form
            or field.name in unseen
            or (only and field.name not in (only, ledger.township_field))
        ):
            continue
        text = form[field.name].strip()
        if field.name in hidden and not text:
            continue
        if field.name in hidden and not replaceable(field, viewer):
            fixed[field.name] = _(FIXED, title=field.title, key=ledger.by_name[ledger.key].title)
            continue
        columns[len(cells)] = field.name
        cells.append(completed(field, text, holder, viewer) if text else text)
    record, errors = RowCoercer(ledger, specs.org_units).coerce(cells, columns)
    errors.update(fixed)
    changes = {name: record.get(name) for name in columns.values() if name not in errors}
    township = ledger.township_field
    if township in record and township not in columns.values() and ledger.village_field in changes:
        # A village posted without its township moves the record to the village's township too.
        changes[township] = record[township]
    merged = {k: v for k, v in stored.items() if not k.startswith("_")} | changes
    merged = {k: v for k, v in merged.items() if v is not None}
    for name, message in RowValidator(ledger).errors(merged).items():
        errors.setdefault(name, message)
    # The store refuses it too; said here, the message stands next to the field as it is chosen.
    for name, message in outside(ledger, viewer.scope, merged, parents_of(specs.org_units)).items():
        errors.setdefault(name, message)
    if only:
        errors = {only: errors[only]} if only in errors else {}
    return changes, errors

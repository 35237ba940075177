"""Validate and coerce the cells of report rows, with Chinese messages for the township filler.

`ReportRowValidator(spec)` is built once per report spec. It turns what a filler typed or pasted
into each field's JSON value (`coerce`), checks one cell when she leaves it (`cell_error`), and
checks whole rows with every error of every field (`errors`) fast enough for a submission of
100,000 rows: one compiled jsonschema-rs validator, whose slower `iter_errors` runs only on the
rows its `is_valid` refuses.

Empty means None, "" or []: an empty cell is never a type or format error, only “必填” when the
field is required. Computed fields (`x-compute`) are filled by the system and never checked here.
The ledger's cross-field checks (ID number ↔ birth date, gender, disability certificate) apply
when the report binds the elements they compare, whatever the report calls its fields.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

import jsonschema_rs

from builder.catalog.specs import Element, Field
from builder.catalog.validation import FORMATS, ROW_CHECKS, error_message
from builder.reports.spec import ReportField, ReportSpec
from builder.schema import choices
from builder.tabular.cells import CellError
from builder.tabular.coercion import converter_for

__all__ = ["CROSS_CHECKS", "REQUIRED", "ReportRowValidator"]

#: Message of a required field left empty.
REQUIRED = "必填"
#: Cross-field check of `builder.catalog.validation.ROW_CHECKS` → (elements it needs, elements it also reads).
#: The checks speak of ledger field names, i.e. the element code after the dot.
CROSS_CHECKS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "id_matches_birth_date": (("person.id_number", "person.birth_date"), ()),
    "id_matches_gender": (("person.id_number", "person.gender"), ()),
    "disability_cert_matches_id": (
        ("person.disability_cert_no",),
        ("person.id_number", "person.disability_category", "person.disability_grade"),
    ),
}
_SEPARATORS = re.compile(r"[、,，;；\r\n]+")


def _nullable(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return a field schema that also accepts None, so an empty cell is never a type error."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == []


class _CrossChecks:
    """The ledger's cross-field checks that apply to a report, run on its rows by element."""

    __slots__ = ("checks", "pairs", "back")

    def __init__(self, fields: tuple[ReportField, ...]) -> None:
        """Keep the checks whose elements the report binds, and the (ledger name, field) pairs they read."""
        by_element = {f.element: f.name for f in fields if f.element}
        self.checks = tuple(
            ROW_CHECKS[name]
            for name, (needs, _) in CROSS_CHECKS.items()
            if all(code in by_element for code in needs)
        )
        codes = {code for needs, reads in CROSS_CHECKS.values() for code in (*needs, *reads)}
        self.pairs = (
            tuple((code.split(".", 1)[1], by_element[code]) for code in sorted(codes) if code in by_element)
            if self.checks
            else ()
        )
        self.back = {ledger: report for ledger, report in self.pairs}

    def run(self, row: Mapping[str, Any], found: dict[str, str]) -> None:
        """Add the checks' findings on `row` to `found`, under the report's field names."""
        view = {ledger: row.get(report) for ledger, report in self.pairs}
        # Like the ledger's validator, each check sees what earlier ones found.
        seen = {ledger: found[report] for ledger, report in self.pairs if report in found} if found else {}
        for check in self.checks:
            for ledger, message in check(view, seen).items():
                if self.back[ledger] not in found:
                    found[self.back[ledger]] = seen[ledger] = message


class ReportRowValidator:
    """Coerce, check cells and check rows of one report, every message in Chinese."""

    def __init__(self, spec: ReportSpec, elements: Mapping[str, Element] | None = None) -> None:
        """Compile the row and cell validators once; `elements` adds the catalog's codes and synonyms."""
        self.spec = spec
        self.fields = {f.name: f for f in spec.fields}
        self._elements = elements or {}
        schemas = {f.name: (True if f.compute else _nullable(f.schema)) for f in spec.fields}
        self._row = jsonschema_rs.validator_for(
            {"type": "object", "properties": schemas, "additionalProperties": False},
            formats=FORMATS,
            validate_formats=True,
        )
        self._is_valid = self._row.is_valid
        self._cells = {
            name: jsonschema_rs.validator_for(schema, formats=FORMATS, validate_formats=True)
            for name, schema in schemas.items()
        }
        self._required = tuple(f.name for f in spec.fields if f.required and not f.compute)
        self._checks = _CrossChecks(spec.fields)
        self._converters: dict[str, Callable[[Any], Any]] = {}

    # -- rows ------------------------------------------------------------------------------------

    def errors(self, row: Mapping[str, Any]) -> dict[str, str]:
        """Return field name → the first Chinese message of each field in error (empty when valid)."""
        if row.__class__ is not dict:
            row = dict(row)
        found: dict[str, str] = {}
        for name in self._required:
            value = row.get(name)
            if value is None or value == "" or value == []:
                found[name] = REQUIRED
        if not self._is_valid(row):
            for error in self._row.iter_errors(row):
                self._add(found, error)
        if self._checks.checks:
            self._checks.run(row, found)
        return found

    def _add(self, found: dict[str, str], error: Any) -> None:
        if type(error.kind).__name__ == "AdditionalProperties":
            for name in error.kind.unexpected:
                found.setdefault(name, f"报表中没有字段“{name}”")
            return
        path = error.instance_path
        name = str(path[0]) if path else ""
        if name in found or (len(path) == 1 and _empty(error.instance)):
            return
        f = self.fields.get(name)
        found[name] = self._message(error, f, len(path) > 1) if f else error.message

    @staticmethod
    def _message(error: Any, f: ReportField, item: bool) -> str:
        items = f.schema.get("items")
        return error_message(error, items if item and isinstance(items, Mapping) else f.schema)

    # -- cells -----------------------------------------------------------------------------------

    def cell_error(self, field: str, value: Any) -> str | None:
        """Return the Chinese message of one cell checked alone, or None when it is fine."""
        f = self.fields.get(field)
        if f is None:
            return f"报表中没有字段“{field}”"
        if f.compute:
            return None
        if _empty(value):
            return REQUIRED if f.required else None
        validator = self._cells[field]
        if validator.is_valid(value):
            return None
        error = next(iter(validator.iter_errors(value)))
        return self._message(error, f, bool(error.instance_path))

    def coerce(self, field: str, text: Any) -> tuple[Any, str | None]:
        """Return the JSON value of what a filler typed, or (the text unchanged, a Chinese message)."""
        f = self.fields.get(field)
        if f is None:
            return text, f"报表中没有字段“{field}”"
        if text is None or (text.__class__ is str and not text.strip()):
            return None, None
        convert = self._converters.get(field)
        if convert is None:
            convert = self._converters[field] = self._converter(f)
        try:
            return convert(text), None
        except CellError as error:
            return text, str(error)

    def _converter(self, f: ReportField) -> Callable[[Any], Any]:
        """Return the converter of one field: the ledger import's, with report messages for choices."""
        element = self._elements.get(f.element or "")
        base = {k: v for k, v in element.schema.items() if k.startswith("x-")} if element else {}
        schema = {**base, **f.schema}
        if schema.get("type") == "array" and isinstance(schema.get("items"), Mapping):
            return self._multi_converter(f, {**base, **schema["items"], "title": f.title})
        convert = converter_for(self._ledger_field(f, schema, element))
        options = [label for _value, label in choices(schema)]
        if not options:
            return convert

        def choose(value: Any) -> Any:
            """Return the option the text names by label, code or synonym."""
            try:
                return convert(value)
            except CellError:
                raise CellError(_choice_message(value, options)) from None

        return choose

    def _multi_converter(self, f: ReportField, items: dict[str, Any]) -> Callable[[Any], Any]:
        """Return the converter of a multiple choice: options separated by 、,;， or line breaks."""
        choose = converter_for(self._ledger_field(f, items, None))
        options = [label for _value, label in choices(items)]

        def convert(value: Any) -> list[Any] | None:
            """Return the chosen options in the order typed, each once."""
            parts = value if isinstance(value, list) else _SEPARATORS.split(str(value))
            chosen: list[Any] = []
            for part in parts:
                if part is None or (part.__class__ is str and not part.strip()):
                    continue
                try:
                    option = choose(part.strip() if part.__class__ is str else part)
                except CellError:
                    raise CellError(_choice_message(part, options)) from None
                if option not in chosen:
                    chosen.append(option)
            return chosen or None

        return convert

    def _ledger_field(self, f: ReportField, schema: dict[str, Any], element: Element | None) -> Field:
        """Return a report field in the shape the ledger import's converters take."""
        element = element or Element(
            code=f.element or f"report.{f.name}", name=f.title, schema=schema, sensitivity="internal"
        )
        return Field(name=f.name, element=element, schema=schema, required=f.required)


def _choice_message(value: Any, options: Any) -> str:
    labels = [str(o) for o in options if o is not None]
    listed = "、".join(labels[:8]) + ("等" if len(labels) > 8 else "")
    shown = str(value).strip()
    return f"“{shown}”不在可选范围内，请从{listed}中选择"

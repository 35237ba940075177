"""Turn raw spreadsheet cells into typed ledger values, one converter per field chosen once.

A converter takes one non-empty cell and returns the value to store, None to omit it, or raises
`CellError` with a Chinese message for the uploader. Converters of fields whose values repeat
(dates, choices, booleans, org units) cache by cell value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from builder.catalog.org_lookup import OrgIndex
from builder.catalog.specs import Field, Ledger, OrgUnit
from builder.schema import choices
from builder.tabular.cells import WHITESPACE, CellError, parse_date, shown, squeeze

Converter = Callable[[Any], Any]

ID_FORMATS = frozenset({"gb11643", "disability-cert", "gb32100"})
LOST_DIGITS = "被 Excel 存成了数字，后几位已丢失，请将该列设为文本后重新录入"
PLACEHOLDERS = frozenset({"/", "-", "--", "—", "——", "\\", "－", "null", "none", "n/a"})

_SCIENTIFIC = re.compile(r"^[+-]?\d+(?:\.\d+)?e[+-]?\d+$", re.IGNORECASE)
_FIXED_DIGITS = re.compile(r"^\^(?:\\d|\[0-9\])\{(\d+)\}\$$")
_CODE_NAME = re.compile(r"(code|_no|number|phone|account|uscc|cert)$")
_UNIT = re.compile(r"^(.*?\d)\s*(平方米|平米|万元|元|亩|人|户|层|个|名|岁|年|m2|m²|㎡)$")
_TITLE_UNIT = re.compile(r"[（(]\s*(万元|元|亩|平方米)\s*[)）]")
_UNIT_FAMILY = {"元": "money", "万元": "money", "亩": "area", "平方米": "area"}
_UNIT_ALIAS = {"平米": "平方米", "m2": "平方米", "m²": "平方米", "㎡": "平方米"}
_NUMERALS = "一二三四五六七八九十"

_TRUE = ("是", "√", "✓", "✔", "☑", "y", "yes", "true", "t", "1", "有", "对")
_FALSE = ("否", "×", "✗", "✘", "☒", "n", "no", "false", "f", "0", "无", "错")
BOOLEANS = {**{k: True for k in _TRUE}, **{k: False for k in _FALSE}}
_MISSING = object()


class _Fail:
    """A cached failure: the message of the CellError to raise again."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        """Keep the message."""
        self.message = message


def _cached(convert: Converter) -> Converter:
    """Wrap a converter with a per-value cache, failures included."""
    cache: dict[Any, Any] = {}

    def cached(value: Any) -> Any:
        """Return the converted value from the cache, converting it on first sight."""
        if value is True or value is False:  # 1 == True in a dict: keep them apart
            return convert(value)
        try:
            hit = cache[value]
        except KeyError:
            try:
                hit = None if value.__class__ is str and not value.strip() else convert(value)
            except CellError as error:
                hit = _Fail(str(error))
            cache[value] = hit
        if hit.__class__ is _Fail:
            raise CellError(hit.message)
        return hit

    cached.cache = cache  # RowCoercer looks text cells up here without a call
    return cached


# -- text ---------------------------------------------------------------------------------------


def _join_words(words: list[str]) -> str:
    """Join words with one space, or none between two Chinese characters."""
    text = words[0] if words else ""
    for word in words[1:]:
        if "\u3400" <= text[-1] <= "\u9fff" and "\u3400" <= word[0] <= "\u9fff":
            text += word
        else:
            text += " " + word
    return text


def _number_as_text(value: int | float, title: str, pad: int | None) -> str:
    """Return a numeric cell of a text field as its digits, refusing numbers Excel rounded."""
    if value.__class__ is float and not value.is_integer():
        return repr(value)
    if not -1e15 < value < 1e15:  # Excel keeps 15 significant digits
        raise CellError(title + LOST_DIGITS)
    text = str(int(value))
    return text.zfill(pad) if pad and len(text) < pad else text


def _text_converter(f: Field) -> Converter:
    """Build the converter of a free-text or code field."""
    schema = f.schema
    fmt = schema.get("format")
    title = "身份证号" if fmt in ("gb11643", "disability-cert") else f.title
    match = _FIXED_DIGITS.match(schema.get("pattern", ""))
    pad = int(match.group(1)) if match else None
    compact = bool(fmt in ID_FORMATS or pad or "pattern" in schema or _CODE_NAME.search(f.name))
    identifier = fmt in ID_FORMATS

    def convert(value: Any) -> Any:
        """Return the cell as clean text or raise for a number Excel rounded."""
        cls = value.__class__
        if cls is str:
            text = value.strip()
            if not compact:
                if " " in text or not text.isprintable():
                    text = _join_words(text.split())
                return text or None
            if not text.isascii():
                text = unicodedata.normalize("NFKC", text)
            if " " in text or not text.isprintable():
                text = WHITESPACE.sub("", text)
            if identifier:
                text = text.upper()
                if "E" in text and _SCIENTIFIC.match(text):
                    raise CellError(title + LOST_DIGITS)
            return text or None
        if cls is int or cls is float:
            if identifier and cls is float and not value.is_integer():
                raise CellError(title + LOST_DIGITS)
            return _number_as_text(value, title, pad)
        if isinstance(value, dt.datetime):
            return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
        return value.isoformat() if isinstance(value, dt.date | dt.time) else str(value)

    return convert


# -- numbers ------------------------------------------------------------------------------------


def _number_converter(f: Field, integer: bool) -> Converter:
    """Build the converter of an integer or number field."""
    unit_match = _TITLE_UNIT.search(f.title)
    field_unit = unit_match.group(1) if unit_match else None
    kind = "整数" if integer else "数字"

    def from_text(value: Any) -> Any:
        """Parse a number typed as text, with separators, full-width digits and units."""
        text = squeeze(value).replace(",", "")
        if text in PLACEHOLDERS or not text:
            return None
        m = _UNIT.match(text)
        if m:
            text, unit = m.group(1), _UNIT_ALIAS.get(m.group(2), m.group(2))
            family = _UNIT_FAMILY.get(unit)
            if field_unit and family and family == _UNIT_FAMILY[field_unit] and unit != field_unit:
                raise CellError(f"单位应为{field_unit}，填的是“{shown(value)}”")
        try:
            number = float(text)
        except ValueError:
            raise CellError(f"应为{kind}，实际为“{shown(value)}”") from None
        return convert(number)

    parse = _cached(from_text)

    def convert(value: Any) -> Any:
        """Return a numeric cell as int or float, parsing text cells."""
        cls = value.__class__
        if cls is float:
            if value - value != 0.0:  # NaN or infinity
                raise CellError(f"应为{kind}，实际为“{value}”")
            if value.is_integer():
                return int(value) if integer else value
            if integer:
                raise CellError(f"应为整数，实际为“{value:g}”")
            return value
        if cls is int:
            return value if integer else float(value)
        if cls is str:
            return parse(value)
        raise CellError(f"应为{kind}，实际为“{shown(value)}”")

    return convert


# -- booleans and choices -----------------------------------------------------------------------


def _boolean_converter(f: Field) -> Converter:
    """Build the converter of a yes/no field."""

    def convert(value: Any) -> bool:
        """Return the cell as True or False."""
        if value is True or value is False:
            return value
        key = shown(value) if isinstance(value, int | float) else squeeze(str(value))
        if key in BOOLEANS:
            return BOOLEANS[key]
        raise CellError(f"应填“是”或“否”，实际为“{shown(value)}”")

    return _cached(convert)


def _choice_lookup(schema: Mapping[str, Any]) -> dict[str, Any]:
    """Return every accepted spelling of each option → stored value; ambiguous variants dropped."""
    options = choices(schema)
    labels = {label: value for value, label in options}
    exact: dict[str, Any] = {}
    for value, label in options:
        exact.setdefault(label, value)
        exact.setdefault(squeeze(label), value)
        exact.setdefault(squeeze(str(value)), value)
    for synonym, label in schema.get("x-synonyms", {}).items():
        if label in labels:
            exact.setdefault(synonym, labels[label])
            exact.setdefault(squeeze(synonym), labels[label])
    for code, label in schema.get("x-codes", {}).items():
        if label in labels:
            exact.setdefault(squeeze(str(code)), labels[label])
            if str(code).isdigit():
                exact.setdefault(str(int(code)), labels[label])
    variants: dict[str, list[Any]] = {}
    for value, label in options:
        key = squeeze(label)
        found = []
        if len(key) > 1 and key[-1] in "族级类等":
            found.append(key[:-1])
        if len(key) == 2 and key[0] in _NUMERALS and key[1] in "级类等档星":
            found.append(str(_NUMERALS.index(key[0]) + 1) + key[1])
        m = re.match(r"^([a-z])\s*[ .、:]\s*(.+)$", label.strip().lower())
        if m:
            found += [m.group(1), squeeze(m.group(2))]
        for variant in found:
            variants.setdefault(variant, []).append(value)
    for variant, values in variants.items():
        if len(set(map(str, values))) == 1:
            exact.setdefault(variant, values[0])
    return exact


def _choice_message(f: Field, value: Any, options: list[tuple[Any, str]]) -> str:
    """Return the out-of-range message listing up to eight options."""
    labels = [label for _, label in options]
    listed = "、".join(labels[:8]) + (f"…（共{len(labels)}项）" if len(labels) > 8 else "")
    return f"「{f.title}」的值“{shown(value)}”不在可选范围内：{listed}"


def _choice_converter(f: Field, schema: Mapping[str, Any]) -> Converter:
    """Build the converter of a single-choice field."""
    lookup = _choice_lookup(schema)
    options = choices(schema)

    def convert(value: Any) -> Any:
        """Return the option the cell names by label, code or variant."""
        key = shown(value) if isinstance(value, int | float) else str(value)
        if key in lookup:
            return lookup[key]
        key = squeeze(key)
        if key in lookup:
            return lookup[key]
        raise CellError(_choice_message(f, value, options))

    return _cached(convert)


# -- org units ----------------------------------------------------------------------------------


# -- rows ---------------------------------------------------------------------------------------


def converter_for(f: Field, orgs: OrgIndex | None = None) -> Converter:
    """Return the converter of one ledger field, chosen from its schema."""
    schema, kind = f.schema, f.schema.get("type")
    if isinstance(kind, list):  # ["integer", "null"]
        kind = next((k for k in kind if k != "null"), None)
    if f.element.org_level == "township" and orgs is not None:
        return _cached(lambda value: orgs.find("township", value))
    if choices(schema):
        return _choice_converter(f, schema)
    if kind == "boolean":
        return _boolean_converter(f)
    if kind in ("integer", "number"):
        return _number_converter(f, integer=kind == "integer")
    if schema.get("format") == "date":
        return _cached(parse_date)
    return _text_converter(f)


class RowCoercer:
    """Coerce the cells of uploaded rows into records of one ledger."""

    def __init__(
        self, ledger: Ledger, org_units: Mapping[str, OrgUnit] | Iterable[OrgUnit] | None = None
    ) -> None:
        """Choose every field's converter once."""
        self.ledger = ledger
        if isinstance(org_units, Mapping):
            org_units = org_units.values()
        self.orgs = OrgIndex(org_units) if org_units is not None else None
        self.converters = {f.name: converter_for(f, self.orgs) for f in ledger.fields}
        self.village = (
            next((f.name for f in ledger.fields if f.element.org_level == "village"), None)
            if self.orgs
            else None
        )
        self.township = next((f.name for f in ledger.fields if f.element.org_level == "township"), None)
        self._villages: dict[tuple[str | None, Any], Any] = {}
        self._plan_for: tuple[dict[int, str], tuple, int | None] | None = None

    def _plan(self, columns: dict[int, str]) -> tuple[tuple, int | None]:
        """Return the (column, field, converter) steps for a header mapping, cached."""
        if self._plan_for is not None and self._plan_for[0] is columns:
            return self._plan_for[1], self._plan_for[2]
        steps = tuple(
            (index, name, self.converters[name], getattr(self.converters[name], "cache", None))
            for index, name in sorted(columns.items())
            if name in self.converters and name != self.village
        )
        village = next((i for i, n in columns.items() if n == self.village), None)
        self._plan_for = (columns, steps, village)
        return steps, village

    def coerce(self, cells: list[Any], columns: dict[int, str]) -> tuple[dict[str, Any], dict[str, str]]:
        """Return the record of one row (empty cells omitted) and its errors by field name."""
        steps, village_index = self._plan(columns)
        record: dict[str, Any] = {}
        errors: dict[str, str] = {}
        width = len(cells)
        for index, name, convert, cache in steps:
            if index >= width:
                continue
            value = cells[index]
            if not value and (value is None or value == ""):
                continue
            if cache is not None and value.__class__ is str:
                hit = cache.get(value, _MISSING)
                if hit is not _MISSING and hit.__class__ is not _Fail:
                    if hit is not None:
                        record[name] = hit
                    continue
            try:
                value = convert(value)
            except CellError as error:
                errors[name] = str(error)
                continue
            if value is not None:
                record[name] = value
        if village_index is not None and village_index < width:
            value = cells[village_index]
            if value is not None and value != "":
                self._coerce_village(value, record, errors)
        return record, errors

    def _coerce_village(self, value: Any, record: dict[str, Any], errors: dict[str, str]) -> None:
        """Resolve the village within the row's township and fill a missing township."""
        township = record.get(self.township) if self.township else None
        key = (township, value)
        hit = self._villages.get(key)
        if hit is None:
            if isinstance(value, str) and not value.strip():
                return
            try:
                hit = self.orgs.find("village", value, township)
            except CellError as error:
                hit = _Fail(str(error))
            self._villages[key] = hit
        if hit.__class__ is _Fail:
            errors[self.village] = hit.message
            return
        record[self.village] = hit
        if self.township and self.township not in record and self.township not in errors:
            record[self.township] = self.orgs.units[hit].parent

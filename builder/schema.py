"""Reading one JSON Schema fragment: the type it holds and the choices it offers.

Every form, filter, converter and check that asks "which values may this field take?" asks here,
so that a field written with `oneOf`/`anyOf` consts and titles behaves as one written with `enum`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def schema_type(schema: Mapping[str, Any]) -> str | None:
    """Return the type a schema holds, ignoring a "null" alternative (["integer", "null"] → "integer")."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind


def choices(schema: Mapping[str, Any]) -> list[tuple[Any, str]]:
    """Return the (stored value, label) options of a schema: enum, oneOf/anyOf consts, or its items'."""
    if schema_type(schema) == "array" and isinstance(schema.get("items"), Mapping):
        schema = schema["items"]
    if "enum" in schema:
        return [(v, plain(v)) for v in schema["enum"] if v is not None]
    for keyword in ("oneOf", "anyOf"):
        if isinstance(schema.get(keyword), list):
            return [
                (o["const"], str(o.get("title", plain(o["const"]))))
                for o in schema[keyword]
                if isinstance(o, Mapping) and "const" in o and o["const"] is not None
            ]
    return []


def plain(value: Any) -> str:
    """Return a value as text, a whole float without its ".0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

"""Choices read from a JSON Schema fragment, the one reader every form, filter and check uses."""

import pytest

from builder.schema import choices, schema_type

ONE_OF = {"type": "string", "oneOf": [{"const": "1", "title": "城镇"}, {"const": "2", "title": "农村"}]}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "enum": ["男", "女", None]}, [("男", "男"), ("女", "女")]),
        ({"type": "number", "enum": [1.0, 2.5]}, [(1.0, "1"), (2.5, "2.5")]),
        (ONE_OF, [("1", "城镇"), ("2", "农村")]),
        ({"anyOf": [{"const": 3}, {"type": "null"}]}, [(3, "3")]),
        ({"type": "array", "items": ONE_OF}, [("1", "城镇"), ("2", "农村")]),
        ({"type": ["array", "null"], "items": {"enum": ["a"]}}, [("a", "a")]),
        ({"type": "string"}, []),
        ({"type": "boolean"}, []),
    ],
)
def test_choices_of_enum_one_of_any_of_and_arrays(schema, expected):
    assert choices(schema) == expected


def test_schema_type_ignores_null():
    assert schema_type({"type": ["integer", "null"]}) == "integer"
    assert schema_type({"type": "string"}) == "string" and schema_type({}) is None

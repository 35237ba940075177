"""The widget table: widgets registered by name, a default per schema, unknown names refused."""

import pytest

from builder.reports.checks import field_kind
from builder.reports.form import field_view, widgets_for
from builder.reports.spec import WIDGETS as REPORT_WIDGETS
from builder.reports.spec import ReportField, default_widget
from builder.widgets import RECORD_DEFAULTS, REPORT_DEFAULTS, WIDGETS, UnknownWidget, widget
from builder.widgets import default_widget as table_default

ONE_OF = {"type": "string", "oneOf": [{"const": "1", "title": "城镇"}, {"const": "2", "title": "农村"}]}
ANY_OF = {"type": "string", "anyOf": [{"const": "1", "title": "城镇"}, {"const": "2", "title": "农村"}]}


def test_every_widget_a_report_or_a_default_names_is_registered():
    assert set(REPORT_WIDGETS) | set(REPORT_DEFAULTS.values()) | set(RECORD_DEFAULTS.values()) <= set(WIDGETS)


def test_an_unknown_widget_name_is_an_error_naming_the_type():
    with pytest.raises(UnknownWidget, match="slider.*integer"):
        widget("slider", {"type": "integer"})


def test_a_type_without_a_default_widget_is_an_error_naming_it():
    with pytest.raises(UnknownWidget, match="object"):
        table_default({"type": "object"}, RECORD_DEFAULTS)


@pytest.mark.parametrize(
    ("schema", "report", "record"),
    [
        ({"type": "string"}, "text", "text"),
        ({"type": "integer"}, "number", "number"),
        ({"type": "string", "format": "date"}, "date", "date"),
        ({"type": "boolean"}, "yesno", "select"),
        ({"type": "array", "items": {"enum": ["a"]}}, "checkboxes", "list"),
        ({"type": "string", "enum": ["a"]}, "select", "select"),
        (ONE_OF, "select", "select"),
        (ANY_OF, "select", "select"),
    ],
)
def test_defaults_by_schema(schema, report, record):
    assert table_default(schema, REPORT_DEFAULTS).name == report
    assert table_default(schema, RECORD_DEFAULTS).name == record


@pytest.mark.parametrize("schema", [ONE_OF, ANY_OF])
def test_a_one_of_field_is_a_choice_everywhere(schema):
    """A field whose choices are oneOf/anyOf consts is a choice for the checks as for the form.

    The checks read only `enum`, so such a field was a text field to them (a select widget refused)
    while the form showed a select; an anyOf field was shown as a text box.
    """
    assert field_kind(schema) == "choice" and default_widget(schema) == "select"
    assert widgets_for("", schema) == ("select", "radio")
    view = field_view(ReportField(name="area", title="区域", schema=schema))
    assert view.widget == "select" and view.options == (("1", "城镇"), ("2", "农村"))

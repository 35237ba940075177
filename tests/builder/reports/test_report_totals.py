"""Totals of rows: sums, breakdowns by choice values, adding tasks' totals, the JSON kept with a task."""

from builder.reports.spec import load_report, load_reports
from builder.reports.totals import EMPTY, Totals, choice_fields, is_multi, label, measures, options

FIELDS = {
    "properties": {
        "name": {"x-element": "person.name"},
        "category": {"x-element": "person.disability_category"},
        "subsidy": {"title": "补贴金额", "type": "number"},
        "people": {"title": "人口", "type": "integer"},
        "visited": {"title": "是否已走访", "type": "boolean"},
    },
}


def test_totals_add_rows_break_down_by_choices_and_survive_json(specs):
    base = load_reports(specs.root, specs)["disability_survey"].document
    document = {**base, **FIELDS, "required": ["name"], "x-rows": {"ledger": "person"}}
    spec = load_report(document, specs.elements, meta=specs.report_meta)
    sums, choices = measures(spec, specs.elements), choice_fields(spec, specs.elements)
    assert [m.name for m in sums] == ["subsidy", "people"]
    assert [f.name for f in choices] == ["category", "visited"]
    one, two = Totals(), Totals()
    one.add_row({"subsidy": 100, "people": 3, "category": "肢体", "visited": True}, sums, choices)
    one.add_row({"subsidy": "很多", "category": "肢体"}, sums, choices)  # text counts as nothing
    two.add_row({"subsidy": 50.5, "visited": False}, sums, choices)
    one.add(Totals.from_json(two.to_json()))
    assert (one.whole.rows, one.whole.sums) == (3, {"subsidy": 150.5, "people": 3.0})
    assert {value: part.rows for value, part in one.by["category"].items()} == {"肢体": 2, EMPTY: 1}
    assert one.by["visited"]["是"].sums["subsidy"] == 100 and one.by["visited"][EMPTY].rows == 1
    assert (label(True), label("false"), label(""), label(3)) == ("是", "否", EMPTY, "3")


def test_a_multiple_choice_counts_a_row_under_each_option_it_holds(specs):
    base = load_reports(specs.root, specs)["disability_survey"].document
    needs = {
        "title": "需求",
        "type": "array",
        "uniqueItems": True,
        "items": {"type": "string", "enum": ["康复", "辅具", "就业"]},
    }
    document = {
        **base,
        "properties": {**FIELDS["properties"], "needs": needs},
        "required": ["name"],
        "x-rows": {"ledger": "person"},
    }
    spec = load_report(document, specs.elements, meta=specs.report_meta)
    sums, choices = measures(spec, specs.elements), choice_fields(spec, specs.elements)
    multi = next(f for f in choices if f.name == "needs")
    assert is_multi(multi, specs.elements) and options(multi, specs.elements) == ["康复", "辅具", "就业"]
    totals = Totals()
    totals.add_row({"subsidy": 100, "needs": ["康复", "辅具"]}, sums, choices)
    totals.add_row({"subsidy": 10, "needs": ["辅具"]}, sums, choices)
    totals.add_row({"subsidy": 1, "needs": []}, sums, choices)
    totals.add_row({"subsidy": 1000}, sums, choices)
    by = {value: (part.rows, part.sums["subsidy"]) for value, part in totals.by["needs"].items()}
    assert by == {"康复": (1, 100), "辅具": (2, 110), EMPTY: (2, 1001)}
    assert totals.whole.rows == 4, "the whole counts each row once"

"""The report spec language: meta-schema, unsafe specs refused, references checked, loading."""

from __future__ import annotations

import copy
import json
import shutil
from datetime import date

import pytest
from jsonschema import Draft202012Validator

from builder.catalog.check import check_specs
from builder.catalog.regex_safety import regex_problem
from builder.catalog.safety import check_safety
from builder.catalog.specs import OrgUnit
from builder.reports.spec import (
    Condition,
    ReportRefused,
    check_report,
    default_widget,
    describe_condition,
    load_report,
    load_reports,
)


def small(**extra):
    """A minimal valid report: one bound field, one custom single choice."""
    doc = {
        "title": "测试报表",
        "type": "object",
        "x-report": "test_report",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "测试用途",
        "x-basis": "《残疾人保障法》第十一条",
        "x-rows": {"ledger": "person", "filter": [{"element": "person.disability_grade", "op": "present"}]},
        "properties": {
            "name": {"x-element": "person.name"},
            "needs": {"title": "康复需求", "type": "string", "enum": ["有", "无"]},
        },
        "required": ["name"],
    }
    doc.update(extra)
    return doc


def findings(doc, specs, **kw):
    return check_report(
        doc, specs.elements, specs.ledgers, kw.get("org_units", specs.org_units), meta=specs.report_meta
    )


def codes(doc, specs, **kw):
    return [f.code for f in findings(doc, specs, **kw)]


def with_field(name, prop, **extra):
    doc = small(**extra)
    doc["properties"][name] = prop
    return doc


# --- meta-schema -----------------------------------------------------------------------------------


def test_a_small_report_passes(specs):
    assert findings(small(), specs) == []


def test_a_draft_may_leave_purpose_and_basis_empty(specs):
    assert findings(small(**{"x-purpose": "", "x-basis": ""}), specs) == []


def _drop(key):
    return lambda d: d.pop(key)


def _set(**values):
    return lambda d: d.update({k.replace("_", "-"): v for k, v in values.items()})


def _prop(name, **values):
    return lambda d: d["properties"].setdefault(name, {}).update(values)


def _filter(condition):
    return lambda d: d["x-rows"]["filter"].append(condition)


@pytest.mark.parametrize(
    ("mutate", "code", "path", "words"),
    [
        (_drop("title"), "meta_required", "title", "报表规格缺少“名称”"),
        (_drop("x-basis"), "meta_required", "x-basis", "缺少“政策依据”"),
        (_set(x_report="Bad Code"), "meta_pattern", "x-report", "报表编码只能由小写英文字母"),
        (_set(x_version=0), "meta_minimum", "x-version", "版本号不能小于 1"),
        (_set(x_frequency="daily"), "meta_enum", "x-frequency", "填报频次只能是"),
        (_set(x_deadline="2026/12/20"), "meta_pattern", "x-deadline", "YYYY-MM-DD"),
        (_set(x_targets=["5001181"]), "meta_pattern", "x-targets/0", "9 位镇街代码"),
        (_set(x_colour="red"), "meta_additionalProperties", "", "“x-colour”"),
        (_set(properties={}), "meta_minProperties", "properties", "报表至少需要一个字段"),
        (
            _prop("Name", title="姓名", type="string"),
            "meta_property_name",
            "properties/Name",
            "字段名“Name”不合规",
        ),
        (
            _prop("name", type="integer"),
            "meta_additionalProperties",
            "properties/name",
            "类型和格式由数据元决定",
        ),
        (_prop("extra", title="补充"), "meta_required", "properties/extra/type", "字段“补充”缺少“类型”"),
        (_prop("extra", title="补充", type="object"), "meta_enum", "properties/extra/type", "类型只能是"),
        (_prop("needs", **{"x-writeback": True}), "meta_const", "properties/needs/x-writeback", "不能回流"),
        (
            _prop("needs", **{"x-widget": "slider"}),
            "meta_enum",
            "properties/needs/x-widget",
            "显示控件只能是",
        ),
        (
            _filter({"element": "person.gender", "op": "present", "value": "男"}),
            "meta_not",
            "x-rows/filter/1",
            "不需要 value",
        ),
        (
            _filter({"element": "person.gender", "op": "eq"}),
            "meta_required",
            "x-rows/filter/1/value",
            "第 2 个筛选条件缺少“取值”",
        ),
        (
            _filter({"element": "person.gender", "op": "in", "value": "男"}),
            "meta_type",
            "x-rows/filter/1/value",
            "应为列表",
        ),
        (
            _filter({"element": "person.gender", "op": "like", "value": "男"}),
            "meta_enum",
            "x-rows/filter/1/op",
            "运算只能是",
        ),
    ],
)
def test_the_meta_schema_refuses_with_chinese_messages(specs, mutate, code, path, words):
    doc = small()
    mutate(doc)
    found = findings(doc, specs)
    assert (code, path) in [(f.code, f.path) for f in found]
    assert words in next(f.message for f in found if f.path == path)


# --- unsafe specs -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "code"),
    [
        ("$ref", "https://example.com/schema.json", "remote_ref"),
        ("$ref", "other.json#/defs/x", "remote_ref"),
        ("$dynamicRef", "http://10.0.0.1/meta", "remote_ref"),
        ("$id", "https://example.com/report", "remote_id"),
    ],
)
def test_remote_references_are_refused_first(specs, key, value, code):
    doc = with_field("extra", {"title": "补充", "type": "string", key: value}, x_report="BAD")
    found = findings(doc, specs)
    assert [(f.code, f.path) for f in found] == [(code, f"properties/extra/{key}")]  # no meta findings
    assert "外部" in found[0].message


def test_local_references_and_our_own_ids_are_safe():
    assert check_safety({"$id": "urn:yibiaotong:report:x", "a": {"$ref": "#/$defs/b"}}) == []


@pytest.mark.parametrize(
    ("pattern", "code"),
    [
        (r"^(a+)+$", "regex_nested_quantifier"),
        (r"^(a*)*$", "regex_nested_quantifier"),
        (r"^(\d+)*$", "regex_nested_quantifier"),
        (r"^(a?)*$", "regex_nested_quantifier"),
        (r"^(?:[a-z]+|\d+)*$", "regex_nested_quantifier"),
        (r"(.*a){20}", "regex_nested_quantifier"),
        (r"^(_[a-z]+[a-z]*)*$", "regex_nested_quantifier"),
        (r"^(a|)*$", "regex_nested_quantifier"),
        (r"^(a|a)*$", "regex_overlapping_alternation"),
        (r"^(a|ab)*$", "regex_overlapping_alternation"),
        (r"^(\d|\w)+$", "regex_overlapping_alternation"),
        (r"^(?:x(?:1|12))+$", "regex_overlapping_alternation"),
        (r"^(a)\1$", "regex_backreference"),
        (r"^(?:a)\k<n>$", "regex_backreference"),
        (r"^(?=\d)\w+$", "regex_lookaround"),
        (r"^(?!0)\d+$", "regex_lookaround"),
        (r"(?<=a)b", "regex_lookaround"),
        (r"(?<!a)b", "regex_lookaround"),
        ("a" * 501, "regex_too_long"),
        (r"^\d{1001}$", "regex_large_repeat"),
        (r"^(\d+$", "regex_invalid"),
        (r"^[a-z$", "regex_invalid"),
        (r"^\p{Han}+$", "regex_invalid"),
        (r"^a{,5}$", "regex_invalid"),
        (r"^(?P<n>a)$", "regex_invalid"),
        (r"*a", "regex_invalid"),
    ],
)
def test_dangerous_or_broken_patterns_are_refused(specs, pattern, code):
    assert regex_problem(pattern).code == code
    doc = with_field("code", {"title": "编码", "type": "string", "pattern": pattern})
    found = findings(doc, specs)
    assert [(f.code, f.path) for f in found] == [(code, "properties/code/pattern")]
    assert "正则表达式" in found[0].message


@pytest.mark.parametrize(
    "pattern",
    [
        r"^\d{6}$",
        r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$",
        r"^500118\d{3}$",
        r"^[a-z]+(?:_[a-z]+)*$",
        r"^(\d+,)*\d+$",
        r"^(\d{1,3}\.){3}\d{1,3}$",
        r"^[\u4e00-\u9fa5]{2,4}$",
        r"^[A-Z]{2}\d{4}(-\d{2})?$",
        r"^\s*\S.*$",
    ],
)
def test_ordinary_patterns_pass(specs, pattern):
    assert regex_problem(pattern) is None
    assert findings(with_field("code", {"title": "编码", "type": "string", "pattern": pattern}), specs) == []


def test_pattern_properties_are_checked_anywhere():
    found = check_safety({"x": {"patternProperties": {"^(a+)+$": {}}}})
    assert [(f.code, f.path) for f in found] == [("regex_nested_quantifier", "x/patternProperties/^(a+)+$")]


def test_every_shipped_catalog_pattern_is_safe(specs):
    patterns = {e.schema["pattern"] for e in specs.elements.values() if "pattern" in e.schema}
    assert patterns and [p for p in patterns if regex_problem(p)] == []


def _many_fields(doc):
    doc["properties"].update({f"f{i}": {"title": f"字段{i}", "type": "string"} for i in range(200)})


def _deep(doc):
    node = doc["properties"]["needs"]
    for _ in range(8):
        node["x"] = {}
        node = node["x"]


@pytest.mark.parametrize(
    ("mutate", "code", "path"),
    [
        (_many_fields, "too_many_properties", "properties"),
        (_prop("needs", enum=[f"选项{i}" for i in range(1001)]), "too_many_options", "properties/needs/enum"),
        (
            _prop("note", title="说明", type="string", maxLength=100_001),
            "too_large",
            "properties/note/maxLength",
        ),
        (_set(x_purpose="很" * 10_001), "string_too_long", "x-purpose"),
        (_deep, "too_deep", "properties/needs/x/x/x/x/x/x"),
    ],
)
def test_absurd_sizes_are_refused(specs, mutate, code, path):
    doc = small()
    mutate(doc)
    assert [(f.code, f.path) for f in findings(doc, specs)] == [(code, path)]


def test_limits_themselves_are_allowed(specs):
    doc = small()
    doc["properties"]["needs"]["enum"] = [f"选项{i}" for i in range(1000)]
    doc["properties"].update({f"f{i}": {"title": f"字段{i}", "type": "string"} for i in range(198)})
    assert findings(doc, specs) == []
    assert check_safety({"note": "很" * 10_000, "size": {"maxLength": 100_000}}) == []


def test_a_document_over_one_megabyte_is_refused_before_parsing(specs):
    text = json.dumps(small(description="x" * 9_000)).encode()
    padded = text[:-1] + b" " * (1024 * 1024) + b"}"
    found = findings(padded, specs)
    assert [f.code for f in found] == ["too_large"] and "1 MB" in found[0].message


def test_json_text_is_accepted_and_broken_json_explained(specs):
    assert findings(json.dumps(small(), ensure_ascii=False), specs) == []
    found = findings('{"title": "x",', specs)
    assert [f.code for f in found] == ["invalid_json"] and "第 1 行" in found[0].message


# --- references ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "code", "path", "words"),
    [
        (
            _prop("name", **{"x-element": "person.nickname"}),
            "unknown_element",
            "properties/name/x-element",
            "person.nickname 不在数据元目录中",
        ),
        (
            _prop("name2", title="姓名（复核）", **{"x-element": "person.name"}),
            "duplicate_element",
            "properties/name2/x-element",
            "同一个数据元“姓名”",
        ),
        (
            _prop("grade", enum=["一级", "五级"], **{"x-element": "person.disability_grade"}),
            "enum_outside_element",
            "properties/grade/enum",
            "五级 不在数据元“残疾等级”的值集",
        ),
        (_prop("name", maxLength=80), "widens_element", "properties/name/maxLength", "只能收窄取值范围"),
        (_prop("name", minimum=1), "keyword_not_applicable", "properties/name/minimum", "不是数字"),
        (_prop("needs", minimum=1), "keyword_not_applicable", "properties/needs/minimum", "不能设置最小值"),
        (
            _prop("needs", enum=["有", 2]),
            "enum_type_mismatch",
            "properties/needs/enum",
            "2 与字段类型（文字）不符",
        ),
        (
            _prop("count", title="人数", type="integer", minimum=5, maximum=1),
            "empty_range",
            "properties/count/minimum",
            "没有任何值能填",
        ),
        (
            _prop("aids", title="辅具", type="array", uniqueItems=True),
            "options_missing",
            "properties/aids/items",
            "items.enum",
        ),
        (
            _prop("needs", **{"x-widget": "checkboxes"}),
            "widget_mismatch",
            "properties/needs/x-widget",
            "单选字段，不能用“复选框”",
        ),
        (
            _prop("name", **{"x-widget": "yesno"}),
            "widget_mismatch",
            "properties/name/x-widget",
            "字段“姓名”是文本字段",
        ),
        (
            _prop("other", title="康复需求", type="string"),
            "duplicate_title",
            "properties/other/title",
            "镇街无法区分",
        ),
        (_set(required=["name", "phone"]), "unknown_required", "required/1", "phone 不在字段列表中"),
        (_set(x_rows={"ledger": "people"}), "unknown_ledger", "x-rows/ledger", "people 不存在"),
        (
            _set(x_rows={"ledger": None, "filter": [{"element": "person.name", "op": "present"}]}),
            "filter_without_ledger",
            "x-rows/filter",
            "不能设置筛选条件",
        ),
        (
            _filter({"element": "household.size", "op": "gt", "value": 3}),
            "filter_outside_ledger",
            "x-rows/filter/1/element",
            "不是台账 person 的字段",
        ),
        (
            _filter({"element": "person.gender", "op": "in", "value": ["男", "男性"]}),
            "filter_value_invalid",
            "x-rows/filter/1/value",
            "男性 不是“性别”可以取的值，可选：男、女",
        ),
        (
            _filter({"element": "person.is_veteran", "op": "eq", "value": "是"}),
            "filter_value_invalid",
            "x-rows/filter/1/value",
            "“是否退役军人”",
        ),
        (
            _filter({"element": "person.birth_date", "op": "lt", "value": "1960-02-30"}),
            "filter_value_invalid",
            "x-rows/filter/1/value",
            "1960-02-30",
        ),
        (
            _filter({"element": "person.gender", "op": "gt", "value": "男"}),
            "filter_op_mismatch",
            "x-rows/filter/1/op",
            "不能比较大小",
        ),
        (_set(x_deadline="2026-02-30"), "invalid_deadline", "x-deadline", "不是真实存在的日期"),
        (_set(x_targets=["500118001", "500118999"]), "unknown_target", "x-targets/1", "500118999 不存在"),
    ],
)
def test_references_are_checked(specs, mutate, code, path, words):
    doc = small()
    mutate(doc)
    found = findings(doc, specs)
    assert (code, path) in [(f.code, f.path) for f in found]
    assert words in next(f.message for f in found if f.path == path)


def test_targets_must_be_townships_or_villages(specs):
    units = {
        "500118000": OrgUnit("500118000", "测试区", "district", None),
        "500118001": OrgUnit("500118001", "中山路街道", "township", "500118000"),
    }
    doc = small(**{"x-targets": ["500118001", "500118000"]})
    assert codes(doc, specs, org_units=units) == ["target_level"]
    assert codes(doc, specs, org_units=None) == []  # nothing to check them against


@pytest.mark.parametrize(
    "prop",
    [
        {"x-element": "person.disability_grade", "enum": ["一级", "二级"]},
        {"x-element": "land.transfer_area_mu", "exclusiveMinimum": 0, "maximum": 500},
        {"x-element": "person.guardian_name", "maxLength": 20, "minLength": 2, "title": "法定监护人姓名"},
        {"x-element": "person.gender", "x-widget": "radio"},
        {"x-element": "person.is_veteran", "x-widget": "yesno"},
        {"title": "人数", "type": "integer", "minimum": 0, "maximum": 30, "x-widget": "number"},
        {"title": "走访日期", "type": "string", "format": "date", "x-widget": "date"},
        {
            "title": "辅具",
            "type": "array",
            "items": {"type": "string", "enum": ["轮椅", "助听器"]},
            "uniqueItems": True,
            "minItems": 1,
            "x-widget": "checkboxes",
        },
    ],
)
def test_narrowing_and_fitting_widgets_pass(specs, prop):
    assert findings(with_field("extra", prop), specs) == []


def test_filters_on_the_row_ledgers_own_fields_pass(specs):
    doc = small(
        **{
            "x-rows": {
                "ledger": "person",
                "filter": [
                    {"element": "person.assistance_type", "op": "in", "value": ["低保", "特困"]},
                    {"element": "person.birth_date", "op": "lte", "value": "1966-12-31"},
                    {"element": "person.is_veteran", "op": "ne", "value": True},
                    {"element": "person.guardian_name", "op": "absent"},
                ],
            }
        }
    )
    assert findings(doc, specs) == []


# --- loading ---------------------------------------------------------------------------------------


def test_loading_merges_element_schemas_and_drops_x_keywords(specs):
    doc = small(**{"x-deadline": "2026-12-20", "x-targets": ["500118100"], "x-frequency": "monthly"})
    doc["properties"] = {
        "name": {"x-element": "person.name", "x-writeback": False, "x-parents": ["基本信息"]},
        "gender": {"x-element": "person.gender", "title": "性别（本人）", "x-widget": "radio"},
        "grade": {"x-element": "person.disability_grade", "enum": ["一级", "二级"], "x-help": "以证为准"},
        "needs": {
            "title": "康复需求",
            "type": "array",
            "x-widget": "checkboxes",
            "items": {"type": "string", "enum": ["康复训练", "无"]},
        },
    }
    doc["required"] = ["name", "needs"]
    spec = load_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    name, gender, grade, needs = spec.fields
    assert name.schema == {"title": "姓名", "type": "string", "maxLength": 50}
    assert (name.element, name.required, name.writeback) == ("person.name", True, False)
    assert name.parents == ("基本信息",)
    assert gender.title == "性别（本人）" and gender.widget == "radio" and gender.writeback is True
    assert not [k for k in gender.schema if k.startswith("x-")]  # x-codes, x-synonyms, x-widget gone
    assert gender.schema["enum"] == ["男", "女", "未知的性别", "未说明的性别"]
    assert grade.schema["enum"] == ["一级", "二级"] and grade.help == "以证为准" and grade.widget is None
    assert (needs.element, needs.writeback, needs.required) == (None, False, True)
    assert spec.elements == ("person.name", "person.gender", "person.disability_grade")
    assert (spec.deadline, spec.targets, spec.frequency) == (date(2026, 12, 20), ("500118100",), "monthly")
    assert spec.rows.ledger == "person"
    assert spec.rows.filter == (Condition("person.disability_grade", "present", None),)


def test_defaults_of_optional_keywords(specs):
    doc = small()
    del doc["x-rows"]
    spec = load_report(doc, specs.elements, meta=specs.report_meta)
    assert (spec.frequency, spec.deadline, spec.targets, spec.justification) == ("once", None, (), "")
    assert spec.rows.ledger is None and spec.rows.filter == ()


def test_load_refuses_with_every_finding(specs):
    doc = small(required=["name", "ghost"])
    doc["properties"]["name"]["x-element"] = "person.nickname"
    with pytest.raises(ReportRefused) as caught:
        load_report(doc, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)
    assert [f.code for f in caught.value.findings] == ["unknown_element", "unknown_required"]
    assert "person.nickname 不在数据元目录中" in str(caught.value) and "ghost" in str(caught.value)


def test_default_widgets_follow_the_type():
    assert default_widget({"type": "string"}) == "text"
    assert default_widget({"type": "string", "enum": ["a"]}) == "select"
    assert default_widget({"type": "string", "format": "date"}) == "date"
    assert default_widget({"type": "boolean"}) == "yesno"
    assert default_widget({"type": "array", "items": {"enum": ["a"]}}) == "checkboxes"
    assert default_widget({"type": "integer"}) == "number"


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (Condition("person.disability_grade", "present"), "残疾等级 不为空"),
        (Condition("land.is_transferred", "eq", True), "是否流转 等于 是"),
        (Condition("person.assistance_type", "in", ["低保", "特困"]), "救助类别 属于 低保、特困"),
        (Condition("person.birth_date", "lt", "1960-01-01"), "出生日期 小于 1960-01-01"),
        (Condition("person.nickname", "ne", "x"), "person.nickname 不等于 x"),
    ],
)
def test_describe_condition(specs, condition, text):
    assert describe_condition(condition, specs.elements) == text


# --- the shipped sample reports ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def samples(specs):
    return load_reports(specs.root, specs)


def test_every_sample_report_loads(samples):
    departments = {code: spec.department for code, spec in samples.items()}
    assert departments == {
        "disability_survey": "canlian",
        "land_transfer_check": "nongye",
        "land_transfer_summary": "nongye",
        "low_income_review": "minzheng",
        "veteran_roster": "tuiyi",
    }
    for spec in samples.values():
        Draft202012Validator.check_schema(spec.row_schema())
        assert spec.purpose and spec.basis and spec.deadline and spec.deadline.year in (2026, 2027)


def test_samples_state_a_justification_when_they_ask_for_sensitive_elements(samples, specs):
    for spec in samples.values():
        sensitive = [e for e in spec.elements if specs.elements[e].sensitivity in ("sensitive", "secret")]
        assert not sensitive or spec.justification, spec.code


def test_the_veteran_roster_asks_only_for_what_the_person_ledger_holds(samples, specs):
    held = {f.element.code for f in specs.ledgers["person"].fields}
    roster = samples["veteran_roster"]
    assert all(f.element in held for f in roster.fields)
    assert roster.rows.filter == (Condition("person.is_veteran", "eq", True),)


def test_a_sample_row_validates_against_the_row_schema(samples):
    spec = samples["disability_survey"]
    row = {
        "name": "张三",
        "id_number": "500118199001011234",
        "gender": "男",
        "birth_date": "1990-01-01",
        "disability_grade": "二级",
        "phone": "13812345678",
        "rehab_needs": ["康复训练", "辅助器具适配"],
        "needs_assistive_device": True,
        "employment_intent": "有就业意愿",
        "monthly_income": 1800.5,
        "survey_date": "2026-11-20",
    }
    validator = Draft202012Validator(spec.row_schema())
    assert list(validator.iter_errors(row)) == []
    bad = dict(row, disability_grade="五级", rehab_needs=["买房"], monthly_income=-1, nickname="三儿")
    assert {e.validator for e in validator.iter_errors(bad)} == {"enum", "minimum", "additionalProperties"}
    missing = {k: v for k, v in row.items() if k != "survey_date"}
    assert [e.message for e in validator.iter_errors(missing)] == ["'survey_date' is a required property"]


def test_load_reports_names_the_broken_file(specs, tmp_path):
    root = tmp_path / "specs"
    shutil.copytree(specs.root, root)
    path = root / "reports" / "land_transfer_check.json"
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["properties"]["contractor_name"]["pattern"] = "^(a|ab)*$"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(ReportRefused) as caught:
        load_reports(root, specs)
    assert str(caught.value).startswith("reports/land_transfer_check.json：")
    assert caught.value.findings[0].code == "regex_overlapping_alternation"


def test_check_specs_covers_the_reports_folder(specs, tmp_path):
    root = tmp_path / "specs"
    shutil.copytree(specs.root, root)
    assert check_specs(root) == []
    source = json.loads((root / "reports" / "veteran_roster.json").read_text(encoding="utf-8"))
    broken = copy.deepcopy(source)
    broken["properties"]["phone"]["$ref"] = "https://example.com/phone.json"
    (root / "reports" / "veteran_roster.json").write_text(json.dumps(broken), encoding="utf-8")
    (root / "reports" / "copy.json").write_text(json.dumps(source), encoding="utf-8")
    found = [str(f) for f in check_specs(root)]
    assert any(f.startswith("reports/veteran_roster.json: properties/phone/$ref: $ref") for f in found)
    assert "reports/copy.json: x-report: 报表编码 veteran_roster 应与文件名 copy 相同" in found


def test_the_complete_example_of_the_readme_is_valid(specs):
    text = (specs.root / "README.md").read_text(encoding="utf-8")
    example = text.split("### 完整示例", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert findings(example, specs) == []

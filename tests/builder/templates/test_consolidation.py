"""Consolidation (合表并表): the deduplicated union of several templates' fields."""

import pytest

from builder.admission.analysis import matcher_for
from builder.templates.consolidation import consolidate
from builder.templates.reader import read_template
from runtime.demo.templates import sample_templates

DISABILITY = "困难残疾人生活补贴和重度残疾人护理补贴申请汇总表.xlsx"


def _csv(title: str, header: str, row: str) -> bytes:
    return f"{title}\n{header}\n{row}\n".encode("gb18030")


@pytest.fixture
def templates():
    rehab = read_template(
        _csv(
            "残疾人康复需求摸底表",
            "序号,姓名,公民身份证号,手机号码,康复需求,是否需要辅具",
            "1,张三,500118199001011234,13800000000,康复训练,是",
        ),
        "康复摸底.csv",
    )
    aids = read_template(
        _csv(
            "辅助器具适配登记表",
            "序号,残疾人姓名,身份证号码,康复 需求,辅具名称",
            "1,李四,500118199202021234,辅助器具,轮椅",
        ),
        "辅具登记.csv",
    )
    roster = read_template(sample_templates()[DISABILITY], DISABILITY)
    return [rehab, aids, roster]


def test_the_union_holds_each_field_once_with_the_templates_that_ask_for_it(templates, specs):
    result = consolidate(templates, matcher_for(specs.elements))
    by_element = {f.element: f for f in result.fields if f.element}
    name = by_element["person.name"]
    assert name.templates == ["残疾人康复需求摸底表", "辅助器具适配登记表", DISABILITY.removesuffix(".xlsx")]
    assert set(name.labels) == {"姓名", "残疾人姓名"}
    assert set(by_element["person.id_number"].labels) == {"公民身份证号", "身份证号码"}
    needs = [f for f in result.fields if not f.element and f.label.replace(" ", "") == "康复需求"]
    assert len(needs) == 1 and needs[0].templates == ["残疾人康复需求摸底表", "辅助器具适配登记表"]
    assert result.asked == sum(len(f.templates) for f in result.fields)
    assert result.asked > len(result.fields)
    assert all(f.label != "序号" for f in result.fields), "layout columns are not fields"


def test_fields_no_element_covers_become_a_proposed_ledger_extension(templates, specs):
    result = consolidate(templates, matcher_for(specs.elements))
    assert result.ledger == "person" and not result.proposal_is_new
    proposed = {p.name: p for p in result.proposed}
    assert {"康复需求", "辅具名称", "是否需要辅具"} <= set(proposed)
    assert all(p.code.startswith("person.ext_") for p in result.proposed)
    assert proposed["是否需要辅具"].type == "boolean"
    assert len(result.proposed) == len(result.uncovered)
    assert {f.element for f in result.covered} >= {"person.name", "person.id_number", "person.phone"}


def test_templates_of_no_known_ledger_propose_a_new_ledger(specs):
    odd = read_template(
        _csv("志愿服务活动登记", "活动名称,服务时长（小时）,志愿者人数", "敬老,3.5,12"), "志愿.csv"
    )
    result = consolidate([odd], matcher_for(specs.elements))
    assert result.proposal_is_new and result.ledger is None
    assert [(p.code, p.name, p.type) for p in result.proposed] == [
        ("new_ledger.ext_1", "活动名称", "string"),
        ("new_ledger.ext_2", "服务时长（小时）", "number"),
        ("new_ledger.ext_3", "志愿者人数", "integer"),
    ]

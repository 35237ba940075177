"""The warning rules file: the shipped one is valid; broken rules are refused with a path and a reason."""

from __future__ import annotations

import copy
import json
import shutil

import pytest

from builder.early_warnings.rules import (
    KINDS,
    META_FILE,
    RULES_FILE,
    WarningRulesInvalid,
    check_warning_rules,
    load_warning_rules,
    warning_problems,
)
from tests.conftest import SPECS_ROOT


@pytest.fixture(scope="module")
def shipped():
    """The shipped rules document and the meta-schema."""
    read = lambda rel: json.loads((SPECS_ROOT / rel).read_text(encoding="utf-8"))  # noqa: E731
    return read(RULES_FILE), read(META_FILE)


def rule_index(document: dict, code: str) -> int:
    """Return the position of a rule in the document."""
    return next(i for i, r in enumerate(document["rules"]) if r["code"] == code)


def test_the_shipped_rules_are_valid_and_cover_every_kind(specs):
    assert check_warning_rules(SPECS_ROOT, specs) == []
    rules = load_warning_rules(SPECS_ROOT, specs)
    assert {r.kind for r in rules.enabled} == set(KINDS)
    for code in (
        "land_rent_arrears",
        "land_large_transfer",
        "person_id_check_digit",
        "enterprise_uscc_check_digit",
        "household_head_duplicate",
        "person_stale",
    ):
        assert rules.get(code) is not None
    threshold = next(c for c in rules.get("land_large_transfer").conditions if c.name == "threshold")
    assert (threshold.field, threshold.op, threshold.value) == ("transfer_area_mu", "gte", 200)


def _set(path: str, value):
    """Return a change setting `path` (slash-separated, under one rule) to `value` (DELETE removes)."""

    def change(rule: dict) -> None:
        *parents, last = path.split("/")
        node = rule
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if value is DELETE:
            del node[last]
        elif isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return change


DELETE = object()

BROKEN = [
    (
        "land_rent_arrears",
        _set("params/conditions/1/field", "arrears"),
        "/params/conditions/1/field",
        "没有字段“arrears”",
    ),
    (
        "land_rent_arrears",
        _set("params/conditions/1/op", "greater"),
        "/params/conditions/1/op",
        "未知的运算“greater”",
    ),
    (
        "land_large_transfer",
        _set("params/conditions/1/value", "200亩"),
        "/params/conditions/1/value",
        '值 "200亩" 应为数字',
    ),
    ("land_large_transfer", _set("params/conditions/0/op", "gt"), "/params/conditions/0/op", "不能比较大小"),
    (
        "land_large_transfer",
        _set("params/conditions/1/value", DELETE),
        "/params/conditions/1/value",
        "需要 value",
    ),
    ("land_large_transfer", _set("message", "流转 {area} 亩"), "/message", "占位符 {area} 未知"),
    ("land_large_transfer", _set("params/conditions", []), "/params/conditions", "至少一个条件"),
    ("person_id_check_digit", _set("params/field", "name"), "/params/field", "没有可核对的校验位"),
    ("person_id_check_digit", _set("message", "{problem"), "/message", "花括号写法有误"),
    ("person_id_check_digit", _set("params/threshold", 3), "/params/threshold", "未知参数"),
    ("household_head_duplicate", _set("params/field", DELETE), "/params", "缺少参数 field"),
    ("household_head_duplicate", _set("ledger", "households"), "/ledger", "未知的台账“households”"),
    (
        "person_stale",
        _set("params/max_age_days/每两天", 2),
        "/params/max_age_days/每两天",
        "不是数据元目录的更新频率",
    ),
    (
        "person_stale",
        _set("params/max_age_days/每月", 500),
        "/params/max_age_days",
        "更严格的频率天数不能更长",
    ),
    ("person_stale", _set("params/max_age_days/每月", 0), "/params/max_age_days/每月", "天数应为 1 到"),
    ("person_stale", _set("params/sources/0", "村委会采集"), "/params/sources/0", "没有来源“村委会采集”"),
    ("person_stale", _set("kind", "stale_records"), "/kind", "不符合元模式"),
    ("person_stale", _set("level", "red"), "/level", "不符合元模式"),
]


@pytest.mark.parametrize(
    ("code", "change", "path", "reason"), BROKEN, ids=[f"{c}:{p}" for c, _, p, _ in BROKEN]
)
def test_a_broken_rule_is_reported_with_its_path_and_reason(specs, shipped, code, change, path, reason):
    document, meta = copy.deepcopy(shipped[0]), shipped[1]
    i = rule_index(document, code)
    change(document["rules"][i])
    problems = warning_problems(document, specs, meta)
    prefix = f"warnings/rules.json: rules/{i}" + ("" if "元模式" in reason else f"（{code}）")
    matching = [p for p in problems if p.startswith(prefix) and path in p and reason in p]
    assert matching, problems


def test_duplicate_rule_codes_are_refused(specs, shipped):
    document, meta = copy.deepcopy(shipped[0]), shipped[1]
    document["rules"].append(copy.deepcopy(document["rules"][0]))
    problems = warning_problems(document, specs, meta)
    last = len(document["rules"]) - 1
    assert f"warnings/rules.json: rules/{last}（land_rent_arrears）/code: 规则编号重复" in problems


def test_loading_a_broken_file_refuses_it_whole(specs, tmp_path):
    root = tmp_path / "form_specs"
    shutil.copytree(SPECS_ROOT, root)
    path = root / RULES_FILE
    document = json.loads(path.read_text(encoding="utf-8"))
    document["rules"][0]["params"]["conditions"][1]["field"] = "rent"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(WarningRulesInvalid) as refused:
        load_warning_rules(root, specs)
    assert refused.value.problems == [
        "warnings/rules.json: rules/0（land_rent_arrears）/params/conditions/1/field: "
        "台账“土地承包与流转台账”没有字段“rent”，可用的有：" + "、".join(specs.ledgers["land"].field_names)
    ]
    assert "预警规则文件有误" in str(refused.value)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(WarningRulesInvalid, match="不是有效的 UTF-8 JSON"):
        load_warning_rules(root, specs)

"""Read and check the early-warning rules over the ledgers: `form_specs/warnings/rules.json`.

A rule names a check kind (`KINDS`), the ledger it looks at, a level, a Chinese message template
filled for each matching record, and the kind's parameters. `check_warning_rules` finds every
problem of the file (for `yibiaotong check-specs`), each with its JSON path; `load_warning_rules`
refuses a file with problems, so a broken rule is never half applied. Pure: no database.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from builder.admission.config import read_json
from builder.admission.rules import placeholders
from builder.catalog.specs import Ledger, SpecSet
from builder.reports.spec import FILTER_OPS
from builder.schema import choices, plain

RULES_FILE = Path("warnings") / "rules.json"
META_FILE = Path("meta") / "warning.schema.json"

#: Level code → Chinese label, most urgent first.
LEVELS = {"high": "高", "medium": "中", "low": "低"}
#: Update frequencies of the catalog (`update_frequency`), strictest first.
FREQUENCIES = ("实时", "每日", "每周", "每月", "每季度", "每年", "按需")
#: Element schema format → what a check_digit rule checks it against.
CHECKED_FORMATS = {
    "gb11643": "公民身份号码（GB 11643）",
    "gb32100": "统一社会信用代码（GB 32100）",
    "disability-cert": "残疾人证号",
}
_DAYS_MAX = 3660


@dataclass(frozen=True)
class Condition:
    """One condition of a condition rule: a field, an operator of FILTER_OPS, a value."""

    field: str
    op: str
    value: Any = None
    #: The placeholder name under which the message may quote the value (e.g. a threshold).
    name: str | None = None


@dataclass(frozen=True)
class WarningRule:
    """One configured warning rule."""

    code: str
    kind: str
    title: str
    ledger: str
    level: str
    message: str
    params: Mapping[str, Any]
    enabled: bool = True
    description: str = ""
    conditions: tuple[Condition, ...] = ()

    @property
    def level_label(self) -> str:
        """Return the level as users read it (高、中、低)."""
        return LEVELS[self.level]

    @property
    def field(self) -> str:
        """Return the field a check_digit or duplicate rule looks at."""
        return self.params.get("field", "")


@dataclass(frozen=True)
class WarningRuleSet:
    """The configured warning rules, in file order."""

    title: str
    rules: tuple[WarningRule, ...] = field(default_factory=tuple)

    @property
    def enabled(self) -> tuple[WarningRule, ...]:
        """Return the rules in force."""
        return tuple(r for r in self.rules if r.enabled)

    def get(self, code: str) -> WarningRule | None:
        """Return the enabled rule with this code, or None."""
        return next((r for r in self.enabled if r.code == code), None)

    def max_age_days(self, ledger: str) -> Mapping[str, int]:
        """Return update frequency → most days between updates for a ledger's elements.

        The ledger's own stale rule decides; else the first stale rule of any ledger (one
        district, one idea of "每月"); else nothing is checked. Frequencies left out (按需) have no age.
        """
        stale = [r for r in self.rules if r.kind == "stale"]
        own = next((r for r in stale if r.ledger == ledger), None) or next(iter(stale), None)
        return own.params["max_age_days"] if own is not None else {}


class WarningRulesInvalid(ValueError):
    """The warning rules file has problems; `problems` lists them in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the problems; the message joins them."""
        self.problems = problems
        super().__init__("预警规则文件有误：\n" + "\n".join(problems))


# ---------------------------------------------------------------- the kinds


Report = Callable[[str, str], None]  # (JSON path under the rule, problem)


def _field_of(ledger: Ledger, name: Any, where: str, report: Report) -> Any:
    """Return the ledger field `name`, reporting it when the ledger has none such."""
    found = ledger.by_name.get(name) if isinstance(name, str) else None
    if found is None:
        report(where, f"台账“{ledger.title}”没有字段“{name}”，可用的有：" + "、".join(ledger.field_names))
    return found


def _value_problem(schema: Mapping[str, Any], value: Any) -> str | None:
    """Return why `value` cannot be compared with a field of `schema`, or None."""
    kind = schema.get("type")
    if kind == "boolean":
        return None if isinstance(value, bool) else "应为 true 或 false"
    if kind in ("integer", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else "应为数字"
    if not isinstance(value, str):
        return "应为文字"
    allowed = [v for v, _label in choices(schema)]
    if allowed and value not in allowed:
        return "不是该字段的可选值，可选：" + "、".join(plain(v) for v in allowed)
    return None


def _check_condition(rule: dict, ledger: Ledger, report: Report) -> set[str]:
    """Check a condition rule's conditions; return the placeholder names they add."""
    items = rule["params"].get("conditions")
    if not isinstance(items, list) or not items:
        report(
            "params/conditions",
            '应为至少一个条件的列表，每个条件形如 {"field": "rent_arrears", "op": "gt", "value": 0}',
        )
        return set()
    names: set[str] = set()
    for i, item in enumerate(items):
        where = f"params/conditions/{i}"
        if not isinstance(item, dict):
            report(where, "每个条件应是一个对象")
            continue
        for key in sorted(item.keys() - {"field", "op", "value", "name"}):
            report(where, f"未知的键 {key}，条件只有 field、op、value、name")
        found = _field_of(ledger, item.get("field"), f"{where}/field", report)
        op = item.get("op")
        if op not in FILTER_OPS:
            report(
                f"{where}/op",
                f"未知的运算“{op}”，可用的有：" + "、".join(f"{k}（{v}）" for k, v in FILTER_OPS.items()),
            )
            continue
        if op in ("present", "absent"):
            if "value" in item:
                report(f"{where}/value", f"运算 {op}（{FILTER_OPS[op]}）不需要 value")
        elif "value" not in item:
            report(f"{where}/value", f"运算 {op}（{FILTER_OPS[op]}）需要 value")
        elif found is not None:
            values = item["value"] if op in ("in", "not_in") else [item["value"]]
            if op in ("in", "not_in") and (not isinstance(values, list) or not values):
                report(f"{where}/value", f"运算 {op}（{FILTER_OPS[op]}）的 value 应为非空列表")
                values = []
            elif op in ("gt", "gte", "lt", "lte") and found.schema.get("type") == "boolean":
                report(f"{where}/op", f"字段“{found.title}”是“是/否”，不能比较大小")
            for value in values:
                if (problem := _value_problem(found.schema, value)) is not None:
                    shown = json.dumps(value, ensure_ascii=False)
                    report(f"{where}/value", f"值 {shown} {problem}（字段“{found.title}”）")
        name = item.get("name")
        if name is not None:
            if not isinstance(name, str) or not name.isidentifier() or not name.isascii():
                report(f"{where}/name", "应为英文字母、数字和下划线组成的占位符名称")
            elif name in ledger.by_name or name in names:
                report(f"{where}/name", f"占位符名称“{name}”与字段名或其他条件重名")
            else:
                names.add(name)
    return names | set(ledger.by_name)


def _check_field_param(rule: dict, ledger: Ledger, report: Report, *, digits: bool) -> set[str]:
    """Check the `field` parameter of a check_digit or duplicate rule; return its placeholders."""
    params = rule["params"]
    found = _field_of(ledger, params.get("field"), "params/field", report)
    if found is not None and digits and found.schema.get("format") not in CHECKED_FORMATS:
        report(
            "params/field",
            f"字段“{found.title}”没有可核对的校验位，只能检查：" + "、".join(CHECKED_FORMATS.values()),
        )
    if found is not None and not digits and found.element.org_level:
        report("params/field", f"字段“{found.title}”是所属组织机构，不能按它查重")
    return {"field", "problem"} if digits else {"field", "townships", "count"}


def _check_digit(rule: dict, ledger: Ledger, report: Report) -> set[str]:
    return _check_field_param(rule, ledger, report, digits=True)


def _duplicate(rule: dict, ledger: Ledger, report: Report) -> set[str]:
    return _check_field_param(rule, ledger, report, digits=False)


def _stale(rule: dict, ledger: Ledger, report: Report) -> set[str]:
    """Check a stale rule's frequency → days map and its list of element sources."""
    params = rule["params"]
    ages = params.get("max_age_days")
    if not isinstance(ages, dict) or not ages:
        report(
            "params/max_age_days",
            "应为“更新频率 → 最多隔几天”的对象，如 "
            '{"每月": 35, "每季度": 100}；未列出的频率（如“按需”）不检查',
        )
    else:
        for name, days in ages.items():
            if name not in FREQUENCIES:
                report(
                    f"params/max_age_days/{name}",
                    "不是数据元目录的更新频率，可用的有：" + "、".join(FREQUENCIES),
                )
            if not (isinstance(days, int) and not isinstance(days, bool) and 1 <= days <= _DAYS_MAX):
                report(f"params/max_age_days/{name}", f"天数应为 1 到 {_DAYS_MAX} 之间的整数")
        order = [ages[f] for f in FREQUENCIES if isinstance(ages.get(f), int)]
        if order != sorted(order):
            report("params/max_age_days", "更严格的频率天数不能更长（如“每月”的天数不能超过“每季度”）")
    sources = params.get("sources")
    known = sorted({f.element.source for f in ledger.fields if f.element.source})
    if sources is not None and (
        not isinstance(sources, list) or not sources or not all(isinstance(s, str) for s in sources)
    ):
        report("params/sources", "应为 null（全部来源）或数据元来源的非空列表")
    elif isinstance(sources, list):
        for i, source in enumerate(sources):
            if source not in known:
                report(
                    f"params/sources/{i}",
                    f"台账“{ledger.title}”的数据元没有来源“{source}”，有的是：" + "、".join(known),
                )
    return {"updated", "days", "fields", "frequency", "sources"}


@dataclass(frozen=True)
class Kind:
    """A check kind: its Chinese name, its parameters, and the checker of its params."""

    label: str
    params: tuple[str, ...]
    #: Checks the params of a rule of this kind; returns the placeholders its message may use.
    check: Callable[[dict, Ledger, Report], set[str]]


#: Kind code → definition. A new kind is a checker here plus its computation in
#: runtime/early_warnings/flags.py.
KINDS: dict[str, Kind] = {
    "condition": Kind("字段条件", ("conditions",), _check_condition),
    "check_digit": Kind("校验位", ("field",), _check_digit),
    "duplicate_across_townships": Kind("跨镇街重复", ("field",), _duplicate),
    "stale": Kind("未按更新频率更新", ("max_age_days", "sources"), _stale),
}


# ---------------------------------------------------------------- the file


def _rule_problems(item: dict, specs: SpecSet, where: str) -> list[str]:
    """Return the problems of one rule object."""
    problems: list[str] = []

    def report(path: str, problem: str) -> None:
        problems.append(f"{where}/{path}: {problem}")

    kind = KINDS.get(item.get("kind"))
    ledger = specs.ledgers.get(item.get("ledger"))
    if ledger is None:
        report("ledger", f"未知的台账“{item.get('ledger')}”，可用的有：" + "、".join(specs.ledgers))
    if kind is None or ledger is None:
        return problems  # the meta-schema names an unknown kind
    params = item.get("params") if isinstance(item.get("params"), dict) else {}
    for name in sorted(params.keys() - set(kind.params)):
        report(f"params/{name}", f"未知参数，“{kind.label}”规则的参数有：" + "、".join(kind.params))
    for name in kind.params:
        if name not in params:
            report("params", f"缺少参数 {name}")
    if problems:
        return problems
    allowed = kind.check({**item, "params": params}, ledger, report)
    try:
        names = placeholders(item.get("message", ""))
    except ValueError as exc:
        report("message", f"消息模板的花括号写法有误：{exc}")
        return problems
    for name in sorted(set(names) - allowed):
        hint = "、".join("{" + n + "}" for n in sorted(allowed))
        report("message", f"占位符 {{{name}}} 未知，可用的有：{hint}")
    return problems


def warning_problems(document: Any, specs: SpecSet, meta: Mapping[str, Any]) -> list[str]:
    """Return every problem of a rules document, each prefixed with its JSON path."""
    rel = str(RULES_FILE)
    problems = []
    for error in Draft202012Validator(meta).iter_errors(document):
        where = "/".join(str(p) for p in error.absolute_path) or "（根）"
        problems.append(f"{rel}: {where}: 不符合元模式：{error.message}")
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        return problems or [f"{rel}: 缺少规则列表 rules"]
    seen: set[str] = set()
    for i, item in enumerate(document["rules"]):
        if not isinstance(item, dict):
            continue  # the meta-schema reported it
        where = f"{rel}: rules/{i}（{item.get('code')}）"
        if item.get("code") in seen:
            problems.append(f"{where}/code: 规则编号重复")
        seen.add(item.get("code"))
        problems.extend(_rule_problems(item, specs, where))
    return problems


def _read(root: Path, rel: Path, problems: list[str]) -> Any:
    return read_json(root / rel, str(rel), problems)


def _problems(root: Path, specs: SpecSet) -> tuple[list[str], Any]:
    problems: list[str] = []
    document = _read(root, RULES_FILE, problems)
    meta = _read(root, META_FILE, problems)
    if document is None or meta is None:
        return problems, None
    return warning_problems(document, specs, meta), document


def check_warning_rules(root: str | Path, specs: SpecSet | None = None) -> list[str]:
    """Return the problems of the warning rules under a form_specs root, in Chinese."""
    from builder.catalog.specs import load_specs

    root = Path(root)
    try:
        specs = specs or load_specs(root)
    except (OSError, KeyError, TypeError, ValueError):
        return []  # check-specs reports a broken catalog or ledger on its own
    return _problems(root, specs)[0]


def build_rules(document: Mapping[str, Any]) -> WarningRuleSet:
    """Build the rule set of a rules document that has no problems."""
    rules = []
    for item in document["rules"]:
        conditions = tuple(
            Condition(c["field"], c["op"], c.get("value"), c.get("name"))
            for c in item["params"].get("conditions", ())
        )
        rules.append(
            WarningRule(
                code=item["code"],
                kind=item["kind"],
                title=item["title"],
                ledger=item["ledger"],
                level=item["level"],
                message=item["message"],
                params=dict(item["params"]),
                enabled=item["enabled"],
                description=item.get("description", ""),
                conditions=conditions,
            )
        )
    return WarningRuleSet(title=document["title"], rules=tuple(rules))


def load_warning_rules(root: str | Path, specs: SpecSet) -> WarningRuleSet:
    """Read the warning rules under a form_specs root; raise WarningRulesInvalid on problems."""
    problems, document = _problems(Path(root), specs)
    if problems or document is None:
        raise WarningRulesInvalid(problems)
    return build_rules(document)

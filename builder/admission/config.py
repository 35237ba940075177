"""Read and check the admission configuration: `form_specs/admission/rules.json` and its remit list.

`check_rules` finds every problem of the files (for `yibiaotong check-specs`); `load_rules` reads
them into a `RuleSet` and refuses a file with problems, so a broken rule is never half applied.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from builder.admission.model import Rule, RuleSet
from builder.admission.rules import RULES, placeholders
from builder.catalog.specs import load_elements

#: Where the rules live, relative to the `form_specs/` root.
RULES_FILE = Path("admission") / "rules.json"
META_FILE = Path("meta") / "admission.schema.json"
LEVELS = ("block", "warn", "extract")


class RulesInvalid(ValueError):
    """The admission rules file has problems; `problems` lists them in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        """Keep the problems; the message joins them."""
        self.problems = problems
        super().__init__("准入规则文件有误：\n" + "\n".join(problems))


def read_json(path: Path, rel: str, problems: list[str]) -> Any:
    """Return a spec file's JSON, or None with the reason added to `problems` (named by `rel`)."""
    if not path.exists():
        problems.append(f"{rel}: 文件不存在")
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        problems.append(f"{rel}: 不是有效的 UTF-8 JSON：{exc}")
        return None


def _date(text: Any, where: str, problems: list[str]) -> date | None:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        problems.append(f"{where}: 日期“{text}”无法识别，应写成 YYYY-MM-DD，且是真实存在的日期")
        return None


def _calendar(document: dict, rel: str, problems: list[str]) -> tuple[set[date], set[date]]:
    """Return the holidays and make-up workdays, reporting bad dates and contradictions."""
    holidays: set[date] = set()
    for i, item in enumerate(map(_mapping, _items(document.get("holidays")))):
        where = f"{rel}: holidays/{i}（{item.get('name', '')}）"
        start = _date(item.get("from"), where, problems)
        end = _date(item.get("to", item.get("from")), where, problems)
        if start is None or end is None:
            continue
        if end < start or (end - start).days > 31:
            problems.append(f"{where}: 结束日期应不早于开始日期，且一段假期不超过 31 天")
            continue
        holidays.update(date.fromordinal(o) for o in range(start.toordinal(), end.toordinal() + 1))
    workdays: set[date] = set()
    for i, item in enumerate(map(_mapping, _items(document.get("workdays")))):
        where = f"{rel}: workdays/{i}（{item.get('name', '')}）"
        day = _date(item.get("date"), where, problems)
        if day is None:
            continue
        if day.weekday() < 5:
            problems.append(f"{where}: {day} 本来就是工作日，调休上班日只能是周六或周日")
        if day in holidays:
            problems.append(f"{where}: {day} 同时被列为法定节假日")
        workdays.add(day)
    return holidays, workdays


def _mapping(value: Any) -> dict:
    """Return `value` when it is an object, else {} (the meta-schema reports the wrong type)."""
    return value if isinstance(value, dict) else {}


def _items(value: Any) -> list:
    """Return `value` when it is a list, else [] (the meta-schema reports the wrong type)."""
    return value if isinstance(value, list) else []


def _check_rule(item: dict, where: str, problems: list[str]) -> None:
    """Report an unknown rule id, a level it cannot take, bad params and bad templates."""
    definition = RULES.get(item.get("id"))
    if definition is None:
        problems.append(f"{where}: 未知的规则编号“{item.get('id')}”，可用的有：" + "、".join(RULES))
        return
    if item.get("level") not in definition.levels:
        allowed = "、".join(definition.levels)
        problems.append(f"{where}: 级别“{item.get('level')}”不适用于本规则，可选：{allowed}")
    params = _mapping(item.get("params"))
    for name in params.keys() - definition.params.keys():
        problems.append(f"{where}: 未知参数 {name}，本规则的参数有：" + "、".join(definition.params))
    for name, validate in definition.params.items():
        if name not in params:
            problems.append(f"{where}: 缺少参数 {name}")
        elif (problem := validate(params[name])) is not None:
            shown = json.dumps(params[name], ensure_ascii=False)
            problems.append(f"{where}: 参数 {name} 的值 {shown} {problem}")
    templates = {"message": item.get("message", ""), **_mapping(item.get("messages"))}
    for key in templates.keys() - definition.templates.keys():
        problems.append(f"{where}: 未知的消息键 {key}，本规则的消息键有：" + "、".join(definition.templates))
    for key, allowed in definition.templates.items():
        if key not in templates:
            problems.append(f"{where}: 缺少消息模板 messages/{key}")
            continue
        try:
            names = placeholders(templates[key])
        except ValueError as exc:
            problems.append(f"{where}: 消息模板 {key} 的花括号写法有误：{exc}")
            continue
        for name in sorted(set(names) - allowed):
            hint = "、".join("{" + n + "}" for n in sorted(allowed)) or "（本模板不能使用占位符）"
            problems.append(f"{where}: 消息模板 {key} 中的占位符 {{{name}}} 未知，可用的有：{hint}")


def _remit_file(root: Path, name: str, problems: list[str]) -> dict | None:
    """Read a remit list file next to rules.json, reporting what is wrong with it."""
    rel = f"admission/{name}"
    document = read_json(root / "admission" / name, rel, problems)
    if document is None:
        return None
    ok = (
        isinstance(document, dict)
        and isinstance(document.get("title"), str)
        and isinstance(document.get("elements"), list)
        and all(isinstance(e, str) for e in document["elements"])
    )
    if not ok:
        shape = '{"title": "清单名称", "elements": ["person.*", "land.transfer_area_mu", …]}'
        problems.append(f"{rel}: 应为 {shape}")
        return None
    return document


def _problems(root: Path, *, catalog: bool) -> tuple[list[str], dict | None, dict | None]:
    """Return the problems, the rules document and the remit document (when referenced)."""
    problems: list[str] = []
    rel = str(RULES_FILE)
    document = read_json(root / RULES_FILE, rel, problems)
    if document is None:
        return problems, None, None
    meta = read_json(root / META_FILE, str(META_FILE), problems)
    if meta is not None:
        for error in Draft202012Validator(meta).iter_errors(document):
            where = "/".join(str(p) for p in error.absolute_path) or "（根）"
            problems.append(f"{rel}: {where}: 不符合元模式：{error.message}")
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        problems.append(f"{rel}: 缺少规则列表 rules")
        return problems, None, None
    _calendar(document, rel, problems)
    seen: set[str] = set()
    remit = None
    for i, item in enumerate(document["rules"]):
        if not isinstance(item, dict):
            problems.append(f"{rel}: rules/{i}: 每条规则应是一个对象")
            continue
        where = f"{rel}: rules/{i}（{item.get('id')}）"
        if item.get("id") in seen:
            problems.append(f"{where}: 规则编号重复")
        seen.add(item.get("id"))
        _check_rule(item, where, problems)
        name = _mapping(item.get("params")).get("remit") if item.get("id") == "township_remit" else None
        if isinstance(name, str):
            remit = _remit_file(root, name, problems)
    for missing in RULES.keys() - seen:
        problems.append(f'{rel}: 缺少规则 {missing}（不需要时请保留并设 "enabled": false）')
    if catalog and remit is not None:
        problems.extend(_unknown_remit_entries(root, remit, name_of_remit(document)))
    return problems, document, remit


def name_of_remit(document: dict) -> str:
    """Return the remit file name the township_remit rule points to, or ""."""
    for item in document.get("rules", []):
        if isinstance(item, dict) and item.get("id") == "township_remit":
            value = _mapping(item.get("params")).get("remit")
            return value if isinstance(value, str) else ""
    return ""


def _unknown_remit_entries(root: Path, remit: dict, name: str) -> list[str]:
    """Report remit entries that name no catalog element or group."""
    try:
        elements = load_elements(root)
    except (OSError, KeyError, TypeError, ValueError):
        return []  # check-specs reports a broken catalog on its own
    if not elements:
        return []  # no catalog at hand: nothing to compare with
    groups = {code.split(".", 1)[0] for code in elements}
    found = []
    for entry in remit["elements"]:
        group_ok = entry.endswith(".*") and entry[:-2] in groups
        if entry not in elements and not group_ok:
            found.append(
                f"admission/{name}: “{entry}”不是数据元目录中的数据元编码或分组（分组写作 person.*）"
            )
    return found


def check_rules(root: Path) -> list[str]:
    """Return the problems of the admission rules under a form_specs root, in Chinese."""
    return _problems(Path(root), catalog=True)[0]


def load_rules(root: Path) -> RuleSet:
    """Read the admission rules and calendar under a form_specs root; raise RulesInvalid on problems."""
    problems, document, remit = _problems(Path(root), catalog=False)
    if problems or document is None:
        raise RulesInvalid(problems)
    holidays, workdays = _calendar(document, str(RULES_FILE), [])
    rules = []
    for item in document["rules"]:
        params = dict(item.get("params", {}))
        if item["id"] == "township_remit" and remit is not None:
            # The list file is read once here; the rule sees its title and entries as params.
            params["remit_title"] = remit["title"]
            params["remit_elements"] = tuple(remit["elements"])
        rules.append(
            Rule(
                id=item["id"],
                level=item["level"],
                title=item["title"],
                message=item["message"],
                params=params,
                enabled=item.get("enabled", True),
                messages=dict(item.get("messages", {})),
            )
        )
    return RuleSet(rules=tuple(rules), holidays=frozenset(holidays), workdays=frozenset(workdays))

"""Check every file of a `form_specs/` folder against the spec language's meta-schemas."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jsonschema import Draft202012Validator

from builder.admission.config import check_rules
from builder.catalog.specs import build_ledger, load_departments, load_elements, load_org_units
from builder.reports.spec import check_report
from builder.tabular.cells import squeeze

#: Folder → meta-schema file that validates every JSON file in it.
META = {"catalog": "catalog.schema.json", "ledgers": "ledger.schema.json"}


@dataclass(frozen=True)
class Finding:
    """One problem of one spec file."""

    path: str
    where: str
    message: str

    def __str__(self) -> str:
        """Return the finding as one line."""
        where = f"{self.where}: " if self.where else ""
        return f"{self.path}: {where}{self.message}"


def _where(error) -> str:
    return "/".join(str(p) for p in error.absolute_path)


def _load(path: Path, root: Path, findings: list[Finding]) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        findings.append(Finding(str(path.relative_to(root)), "", f"不是有效的 UTF-8 JSON：{exc}"))
        return None


def _check_element_schema(rel: str, item: dict, findings: list[Finding]) -> None:
    where = item.get("code", "?")
    try:
        Draft202012Validator.check_schema(item.get("schema", {}))
    except Exception as exc:  # jsonschema raises SchemaError with a readable message
        findings.append(Finding(rel, where, f"数据元的 schema 无效：{exc}"))
    pattern = item.get("schema", {}).get("pattern")
    if pattern:
        try:
            re.compile(pattern)
        except re.error as exc:
            findings.append(Finding(rel, where, f"正则表达式无法编译：{exc}"))


def _check_labels(rel: str, item: dict, seen: dict[str, str]) -> list[Finding]:
    """Report a name or alias that (full/half width and spaces aside) names another element too."""
    found = []
    code = item.get("code", "?")
    for label in {squeeze(t) for t in [item.get("name", ""), *item.get("aliases", [])]}:
        other = seen.setdefault(label, code)
        if other != code:
            found.append(Finding(rel, code, f"名称或别名“{label}”与 {other} 的名称或别名相同"))
    return found


def check_specs(root: str | Path) -> list[Finding]:
    """Return every problem found in the spec files under `root` (empty when all are valid)."""
    root = Path(root)
    findings: list[Finding] = []
    documents: dict[str, list[tuple[str, dict]]] = {}
    for folder, meta_name in META.items():
        meta_path = root / "meta" / meta_name
        if not meta_path.exists():
            findings.append(Finding(f"meta/{meta_name}", "", "缺少元模式文件"))
            continue
        validator = Draft202012Validator(json.loads(meta_path.read_text(encoding="utf-8")))
        for path in sorted((root / folder).glob("*.json")):
            rel = str(path.relative_to(root))
            document = _load(path, root, findings)
            if document is None:
                continue
            for error in validator.iter_errors(document):
                findings.append(Finding(rel, _where(error), error.message))
            documents.setdefault(folder, []).append((rel, document))
    codes: dict[str, str] = {}
    for rel, document in documents.get("catalog", []):
        labels: dict[str, str] = {}
        for item in document.get("elements", []):
            if item.get("code") in codes:
                findings.append(Finding(rel, item["code"], f"数据元编码与 {codes[item['code']]} 重复"))
            codes[item.get("code", "?")] = rel
            _check_element_schema(rel, item, findings)
            findings.extend(_check_labels(rel, item, labels))
    findings.extend(_check_owners(root, documents.get("catalog", [])))
    try:
        elements = load_elements(root)
    except (KeyError, TypeError, ValueError):
        return findings  # the catalog findings above already say what is wrong
    for rel, document in documents.get("ledgers", []):
        findings.extend(_check_ledger(rel, document, elements))
    findings.extend(_check_reports(root, elements, documents.get("ledgers", [])))
    if (root / "admission").is_dir():
        for problem in check_rules(root):
            path, _, message = problem.partition(": ")
            findings.append(Finding(path, "", message) if message else Finding("admission", "", problem))
    return findings


def _check_owners(root: Path, catalog: list[tuple[str, dict]]) -> list[Finding]:
    """Check `departments.json`, and that every element names a known owner and source and may be shared so.

    An element's owner (`department`) must be a department of the file; its `source` an upstream
    system, a department or a collection channel of the file. A secret element is never shared
    unconditionally, nor changed by others without its owner (`field_edit: direct`).
    """
    path, meta_path = root / "departments.json", root / "meta" / "departments.schema.json"
    if not path.exists() or not meta_path.exists():
        missing = "departments.json" if not path.exists() else "meta/departments.schema.json"
        return [Finding(missing, "", "缺少部门与数据来源文件：数据元的所有者部门和来源无从核对")]
    findings: list[Finding] = []
    document = _load(path, root, findings)
    if document is None:
        return findings
    validator = Draft202012Validator(json.loads(meta_path.read_text(encoding="utf-8")))
    findings += [Finding("departments.json", _where(e), e.message) for e in validator.iter_errors(document)]
    if findings:
        return findings
    departments, systems = load_departments(root)
    names = {d.name for d in departments.values()}
    for code, count in Counter(d["code"] for d in document["departments"]).items():
        if count > 1:
            findings.append(Finding("departments.json", code, "部门编码重复"))
    for system in systems.values():
        if system.department is not None and system.department not in departments:
            problem = f"运行该系统的部门 {system.department} 不在部门清单中"
            findings.append(Finding("departments.json", system.name, problem))
    sources = names | set(systems) | set(document["channels"])
    for rel, catalog_document in catalog:
        for item in catalog_document.get("elements", []):
            code = item.get("code", "?")
            owner, source = item.get("department"), item.get("source")
            if owner not in names:
                findings.append(Finding(rel, code, f"所有者部门“{owner}”不在 departments.json 的部门清单中"))
            if source not in sources:
                problem = f"数据来源“{source}”不是 departments.json 中的系统、部门或采集渠道"
                findings.append(Finding(rel, code, problem))
            if item.get("sensitivity") == "secret" and item.get("sharing") == "无条件共享":
                problem = "机密（secret）数据元不能无条件共享，应为有条件共享或不予共享"
                findings.append(Finding(rel, code, problem))
            if item.get("sensitivity") == "secret" and item.get("field_edit") == "direct":
                problem = "机密（secret）数据元的修改须经所有者部门审核，field_edit 不能为 direct"
                findings.append(Finding(rel, code, problem))
    return findings


def _check_ledger(rel: str, document: dict, elements: dict) -> list[Finding]:
    found = []
    props = document.get("properties", {})
    for name, prop in props.items():
        if prop.get("x-element") not in elements:
            found.append(Finding(rel, f"properties/{name}", f"未知的数据元 {prop.get('x-element')}"))
    named = [document.get("x-key"), document.get("x-label"), *document.get("x-org-unit", {}).values()]
    for name in named:
        if name not in props:
            found.append(Finding(rel, "", f"x- 关键字引用的字段 {name} 不在 properties 中"))
    for name in document.get("required", []):
        if name not in props:
            found.append(Finding(rel, "required", f"必填字段 {name} 不在 properties 中"))
    if not found:
        try:
            Draft202012Validator.check_schema(build_ledger(document, elements).row_schema())
        except Exception as exc:
            found.append(Finding(rel, "", f"合成的记录 schema 无效：{exc}"))
    return found


def _check_reports(root: Path, elements: dict, ledger_documents: list[tuple[str, dict]]) -> list[Finding]:
    """Check the sample reports of `reports/*.json` as the builder checks any report."""
    paths = sorted((root / "reports").glob("*.json"))
    meta_path = root / "meta" / "report.schema.json"
    if not meta_path.exists():
        return [Finding("meta/report.schema.json", "", "缺少元模式文件")] if paths else []
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    try:
        Draft202012Validator.check_schema(meta)
    except Exception as exc:  # SchemaError: its message says where
        return [Finding("meta/report.schema.json", "", f"元模式本身无效：{exc}")]
    ledgers = {}
    for _rel, document in ledger_documents:
        try:
            ledger = build_ledger(document, elements)
        except (KeyError, TypeError):
            continue  # the ledger findings already say what is wrong
        ledgers[ledger.code] = ledger
    try:
        org_units = load_org_units(root)
    except (KeyError, TypeError, ValueError):
        org_units = None
    found: list[Finding] = []
    codes: dict[str, str] = {}
    for path in paths:
        rel = str(path.relative_to(root))
        data = path.read_bytes()
        problems = check_report(data, elements, ledgers, org_units, meta=meta)
        found.extend(Finding(rel, p.path, p.message) for p in problems)
        if problems:
            continue
        code = json.loads(data)["x-report"]
        if code != path.stem:
            found.append(Finding(rel, "x-report", f"报表编码 {code} 应与文件名 {path.stem} 相同"))
        if code in codes:
            found.append(Finding(rel, "x-report", f"报表编码 {code} 与 {codes[code]} 重复"))
        codes.setdefault(code, rel)
    return found

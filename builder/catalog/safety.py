"""Refuse unsafe spec documents before anything else reads them.

A spec may come from a department admin's browser or an uploaded file, and every township's
form validates against it: a remote `$ref` would make the server fetch a URL, a catastrophic
regular expression would hang validation, and an absurd size would exhaust memory. These checks
run first and only walk the document; nothing in it is evaluated.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from builder.catalog.regex_safety import regex_problem

MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_PROPERTIES = 200
MAX_ITEMS = 1000
MAX_DEPTH = 8
MAX_LENGTH_KEYWORD = 100_000
MAX_STRING = 10_000
#: The only base a `$id` may name: our own URNs never resolve to the network.
LOCAL_ID_PREFIX = "urn:yibiaotong:"
#: More findings than this only bury the first ones.
MAX_FINDINGS = 20


@dataclass(frozen=True)
class SpecFinding:
    """One problem of a spec document: a stable code, where it is, and why (Chinese)."""

    code: str
    path: str
    message: str

    def __str__(self) -> str:
        """Return the finding as one line."""
        return f"{self.path}：{self.message}" if self.path else self.message


def _path(parts: tuple[Any, ...]) -> str:
    return "/".join(str(p) for p in parts)


def _ref_problem(key: str, value: Any) -> str | None:
    """Return why a `$ref`/`$dynamicRef`/`$id` value is refused, or None."""
    if not isinstance(value, str):
        return f"{key} 必须是字符串"
    if key == "$id":
        if value.startswith(LOCAL_ID_PREFIX) or value.startswith("#"):
            return None
        return (
            f"{key} “{value[:80]}”指向外部地址；报表规格不得引用外部文档，"
            f"只能使用以 {LOCAL_ID_PREFIX} 开头的标识"
        )
    if value.startswith("#"):
        return None
    return (
        f"{key} “{value[:80]}”引用了外部文档；报表规格必须自成一体，"
        "服务器不会下载任何外部地址，只允许以 # 开头的文档内引用"
    )


def _regex_message(message: str, pattern: str) -> str:
    shown = pattern if len(pattern) <= 60 else pattern[:60] + "…"
    return f"{message}。表达式：{shown}"


def _check_keyword(key: str, value: Any, where: tuple[Any, ...]) -> list[SpecFinding]:
    """Check one keyword of one object (only the keywords that can be unsafe)."""
    path = _path((*where, key))
    if key in ("$ref", "$dynamicRef", "$id"):
        why = _ref_problem(key, value)
        return [SpecFinding("remote_id" if key == "$id" else "remote_ref", path, why)] if why else []
    if key == "pattern" and isinstance(value, str):
        problem = regex_problem(value)
        return [SpecFinding(problem.code, path, _regex_message(problem.message, value))] if problem else []
    if key == "patternProperties" and isinstance(value, dict):
        found = []
        for regex in value:
            problem = regex_problem(regex)
            if problem:
                found.append(
                    SpecFinding(
                        problem.code, _path((*where, key, regex[:40])), _regex_message(problem.message, regex)
                    )
                )
        return found
    if key in ("maxLength", "minLength") and isinstance(value, int) and value > MAX_LENGTH_KEYWORD:
        return [
            SpecFinding(
                "too_large", path, f"{key} 为 {value}，超过上限 {MAX_LENGTH_KEYWORD:,}，请填写合理的长度"
            )
        ]
    if key == "properties" and isinstance(value, dict) and len(value) > MAX_PROPERTIES:
        return [
            SpecFinding(
                "too_many_properties",
                path,
                f"共有 {len(value)} 个字段，超过上限 {MAX_PROPERTIES}；请拆分为几张报表",
            )
        ]
    return []


def _too_many_items(key: Any, value: list, where: tuple[Any, ...]) -> SpecFinding:
    if key == "enum":
        message = f"选项有 {len(value):,} 个，超过上限 {MAX_ITEMS:,}；这么多选项请改用文本字段或绑定数据元"
        return SpecFinding("too_many_options", _path(where), message)
    return SpecFinding("too_many_items", _path(where), f"列表有 {len(value):,} 项，超过上限 {MAX_ITEMS:,}")


def check_safety(document: Any, *, size: int | None = None) -> list[SpecFinding]:
    """Return why `document` is unsafe to read further (empty when it is safe).

    `size` is the byte length of the JSON text when the caller has it; otherwise it is measured.
    """
    findings: list[SpecFinding] = []
    too_deep = False
    stack: list[tuple[Any, Any, tuple[Any, ...], int]] = [(None, document, (), 1)]
    while stack and len(findings) < MAX_FINDINGS:
        key, value, where, depth = stack.pop()
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                findings.append(
                    SpecFinding(
                        "string_too_long",
                        _path(where),
                        f"文字长 {len(value):,} 个字符，超过上限 {MAX_STRING:,}",
                    )
                )
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            too_deep = True
            findings.append(
                SpecFinding("too_deep", _path(where), f"嵌套超过 {MAX_DEPTH} 层；报表规格不需要这么深的结构")
            )
            continue
        if isinstance(value, list):
            if len(value) > MAX_ITEMS:
                findings.append(_too_many_items(key, value, where))
                continue
            children = [(i, item) for i, item in enumerate(value)]
        else:
            children = []
            for name, item in value.items():
                if len(name) > MAX_STRING:
                    findings.append(
                        SpecFinding(
                            "string_too_long",
                            _path(where),
                            f"键名长 {len(name):,} 个字符，超过上限 {MAX_STRING:,}",
                        )
                    )
                    continue
                findings.extend(_check_keyword(name, item, where))
                children.append((name, item))
        stack.extend((k, v, (*where, k), depth + 1) for k, v in reversed(children))
    if size is None and not too_deep and not findings:
        try:
            size = len(json.dumps(document, ensure_ascii=False).encode("utf-8"))
        except (TypeError, ValueError):
            findings.append(SpecFinding("not_json", "", "规格中含有 JSON 不能表示的值"))
    if size is not None and size > MAX_DOCUMENT_BYTES:
        findings.insert(
            0,
            SpecFinding(
                "too_large", "", f"规格文件大小为 {size:,} 字节，超过上限 1 MB（{MAX_DOCUMENT_BYTES:,} 字节）"
            ),
        )
    return findings[:MAX_FINDINGS]


def parse_document(data: str | bytes) -> tuple[Any, list[SpecFinding]]:
    """Parse JSON text after checking its size; return the document or the findings."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > MAX_DOCUMENT_BYTES:
        return None, check_safety(None, size=len(raw))
    try:
        document = json.loads(raw)
    except UnicodeDecodeError:
        return None, [SpecFinding("invalid_json", "", "规格文件不是 UTF-8 编码的文本")]
    except json.JSONDecodeError as exc:
        return None, [
            SpecFinding(
                "invalid_json", "", f"规格不是有效的 JSON：第 {exc.lineno} 行第 {exc.colno} 列 {exc.msg}"
            )
        ]
    except RecursionError:
        return None, [SpecFinding("too_deep", "", f"嵌套超过 {MAX_DEPTH} 层；报表规格不需要这么深的结构")]
    return document, check_safety(document, size=len(raw))

"""Turn the OpenAPI document into what the documentation page shows: operations, their parameters,
bodies and answers, the schemas they name, and a curl line for each (read from the document only, so
the page describes every endpoint the API has, however it grew)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

#: Where a parameter travels, in Chinese.
PLACES = {"query": "查询参数", "path": "路径", "header": "请求头", "cookie": "Cookie"}
#: The order operations are listed in within one path.
METHODS = ("get", "post", "put", "patch", "delete")
#: A placeholder for the token in examples.
TOKEN = "ybt_…"


@dataclass
class Row:
    """One named value: a parameter or a field of a schema."""

    name: str
    type: str
    required: bool
    description: str
    where: str = ""
    ref: str | None = None


@dataclass
class Body:
    """What a request sends or a response answers in one media type."""

    media_type: str
    type: str
    ref: str | None


@dataclass
class Answer:
    """One documented status of an operation."""

    status: str
    description: str
    bodies: list[Body]
    headers: list[Row]


@dataclass
class Operation:
    """One method on one path, as the page shows it."""

    method: str
    path: str
    anchor: str
    summary: str
    description: str
    parameters: list[Row]
    request: list[Body]
    request_required: bool
    answers: list[Answer]
    curl: str


@dataclass
class Model:
    """A named schema of the document and its fields."""

    name: str
    description: str
    fields: list[Row] = field(default_factory=list)


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _resolve(doc: dict, item: dict) -> dict:
    """Follow a `$ref` to a component (responses, parameters, request bodies), else return the item."""
    ref = item.get("$ref") if isinstance(item, dict) else None
    if not ref or not ref.startswith("#/components/"):
        return item
    _hash, _components, kind, name = ref.split("/", 3)
    return doc.get("components", {}).get(kind, {}).get(name, {})


def type_label(schema: dict | None) -> tuple[str, str | None]:
    """Return (a short label of a schema's type, the name of the model it refers to or None)."""
    if not schema:
        return "任意", None
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return name, name
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            labels = [type_label(s) for s in schema[key]]
            ref = next((r for _l, r in labels if r), None)
            return " 或 ".join(label for label, _r in labels), ref
    kind = schema.get("type", "任意")
    if isinstance(kind, list):
        kind = " 或 ".join(k for k in kind if k != "null") + ("（可为 null）" if "null" in kind else "")
    if kind == "array":
        inner, ref = type_label(schema.get("items"))
        return f"{inner}[]", ref
    label = str(kind)
    if schema.get("format"):
        label += f"（{schema['format']}）"
    if "enum" in schema:
        label += "：" + " / ".join(json.dumps(v, ensure_ascii=False) for v in schema["enum"])
    bounds = [
        f"{word} {schema[key]}"
        for key, word in (
            ("minimum", "≥"),
            ("maximum", "≤"),
            ("minLength", "长度 ≥"),
            ("maxLength", "长度 ≤"),
        )
        if key in schema
    ]
    if bounds:
        label += "，" + "，".join(bounds)
    return label, None


def _bodies(content: dict | None) -> list[Body]:
    bodies = []
    for media_type, entry in (content or {}).items():
        label, ref = type_label(entry.get("schema"))
        bodies.append(Body(media_type, label, ref))
    return bodies


def _parameters(doc: dict, operation: dict, shared: list[dict]) -> list[Row]:
    rows = []
    for item in [*shared, *operation.get("parameters", [])]:
        parameter = _resolve(doc, item)
        label, ref = type_label(parameter.get("schema"))
        rows.append(
            Row(
                name=parameter.get("name", ""),
                type=label,
                required=bool(parameter.get("required")),
                description=parameter.get("description")
                or parameter.get("schema", {}).get("description", ""),
                where=PLACES.get(parameter.get("in", ""), parameter.get("in", "")),
                ref=ref,
            )
        )
    return rows


def _answers(doc: dict, operation: dict) -> list[Answer]:
    answers = []
    for status, item in sorted(operation.get("responses", {}).items()):
        response = _resolve(doc, item)
        headers = [
            Row(name, type_label(h.get("schema"))[0], False, h.get("description", ""))
            for name, h in (response.get("headers") or {}).items()
        ]
        answers.append(
            Answer(str(status), response.get("description", ""), _bodies(response.get("content")), headers)
        )
    return answers


def curl(base: str, method: str, path: str, parameters: list[Row], request: list[Body]) -> str:
    """Return a curl line calling an operation with the token and its required parameters."""
    query = "&".join(f"{p.name}=…" for p in parameters if p.where == PLACES["query"] and p.required)
    url = base.rstrip("/") + path + (f"?{query}" if query else "")
    parts = ["curl"]
    if method != "get":
        parts.append(f"-X {method.upper()}")
    parts.append(f'-H "Authorization: Bearer {TOKEN}"')
    if request:
        media_type = request[0].media_type
        parts.append(f'-H "Content-Type: {media_type}"')
        parts.append("--data-binary @rows.csv" if "csv" in media_type else "--data-binary @rows.json")
    parts.append(f'"{url}"')
    return " ".join(parts)


def operations(doc: dict, base: str) -> list[Operation]:
    """Return every operation of the document, in the document's order of paths."""
    found = []
    for path, item in doc.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = _parameters(doc, operation, shared)
            body = _resolve(doc, operation.get("requestBody") or {})
            request = _bodies(body.get("content"))
            found.append(
                Operation(
                    method=method,
                    path=path,
                    anchor=operation.get("operationId") or f"{method}-{path}".replace("/", "-"),
                    summary=operation.get("summary", ""),
                    description=operation.get("description", ""),
                    parameters=parameters,
                    request=request,
                    request_required=bool(body.get("required")),
                    answers=_answers(doc, operation),
                    curl=curl(base, method, path, parameters, request),
                )
            )
    return found


def models(doc: dict) -> list[Model]:
    """Return the named schemas of the document with their fields."""
    found = []
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        required = set(schema.get("required", []))
        rows = []
        for field_name, prop in (schema.get("properties") or {}).items():
            label, ref = type_label(prop)
            rows.append(Row(field_name, label, field_name in required, prop.get("description", ""), ref=ref))
        found.append(Model(name, schema.get("description", ""), rows))
    return found

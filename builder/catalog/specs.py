"""Load the standard spec set: element catalog, ledger specs, org units and the report meta-schema."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

SENSITIVITY_LEVELS = ("public", "internal", "personal", "sensitive", "secret")


@dataclass(frozen=True)
class Element:
    """One standard data element of the catalog."""

    code: str
    name: str
    schema: dict[str, Any]
    sensitivity: str
    #: The sharing type: 无条件共享, 有条件共享 or 不予共享 (`SHARING`).
    sharing: str = "无条件共享"
    aliases: tuple[str, ...] = ()
    mask: str | None = None
    org_level: str | None = None
    source: str = ""
    update_frequency: str = ""
    #: The owning department's name (a `Department` of `departments.json`): its authoritative source.
    department: str = ""
    description: str = ""
    #: How a change by anyone but the owner is taken (`FIELD_EDITS`): "proposal", for the owner to
    #: accept or reject; "direct", at once (phones, addresses: what field work verifies).
    field_edit: str = "proposal"

    @property
    def direct_edit(self) -> bool:
        """Tell whether changes from field work (visits, write-backs, hand edits) apply without the owner."""
        return self.field_edit == "direct"

    @property
    def group(self) -> str:
        """Return the catalog group (ledger) the element belongs to."""
        return self.code.split(".", 1)[0]

    @property
    def codes(self) -> dict[str, str]:
        """Return the numeric codes people type instead of enum labels."""
        return self.schema.get("x-codes", {})


@dataclass(frozen=True)
class Field:
    """One field of a ledger: a property name bound to an element, with its full schema."""

    name: str
    element: Element
    schema: dict[str, Any]
    required: bool

    @property
    def title(self) -> str:
        """Return the label users see."""
        return self.schema.get("title") or self.element.name


@dataclass(frozen=True)
class Ledger:
    """A ledger spec: its fields, natural key, label and org-unit fields."""

    code: str
    title: str
    version: int
    key: str
    label: str
    township_field: str
    village_field: str | None
    row_checks: tuple[str, ...]
    fields: tuple[Field, ...]
    document: dict[str, Any]

    @cached_property
    def by_name(self) -> dict[str, Field]:
        """Return the fields by property name."""
        return {f.name: f for f in self.fields}

    @property
    def field_names(self) -> list[str]:
        """Return the property names in display order."""
        return [f.name for f in self.fields]

    def row_schema(self) -> dict[str, Any]:
        """Return the self-contained JSON Schema of one record (element schemas merged in)."""
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "properties": {f.name: _plain(f.schema) for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }


@dataclass(frozen=True)
class OrgUnit:
    """A district, township or village."""

    code: str
    name: str
    level: str
    parent: str | None
    kind: str = ""
    population: int = 0


#: The sharing types of the national rules (国发〔2016〕51号), most open first.
SHARING = ("无条件共享", "有条件共享", "不予共享")
#: How an element takes changes by others than its owner: proposed to the owner, or applied at once.
FIELD_EDITS = ("proposal", "direct")


@dataclass(frozen=True)
class Department:
    """A district department: the owner of data elements, and an org that files reports."""

    code: str
    name: str


@dataclass(frozen=True)
class System:
    """An upstream business system that is the authoritative source of some elements."""

    name: str
    #: The code of the department that runs it; None for a system outside the district (a city platform).
    department: str | None
    description: str = ""


@dataclass
class SpecSet:
    """Everything loaded from a `form_specs/` folder."""

    root: Path
    elements: dict[str, Element] = field(default_factory=dict)
    ledgers: dict[str, Ledger] = field(default_factory=dict)
    org_units: dict[str, OrgUnit] = field(default_factory=dict)
    #: Department code → department, from `departments.json` (empty when the folder has none).
    departments: dict[str, Department] = field(default_factory=dict)
    #: Upstream system name → system, from `departments.json`.
    systems: dict[str, System] = field(default_factory=dict)
    #: The report meta-schema (`meta/report.schema.json`), None when the folder has none.
    report_meta: dict[str, Any] | None = None

    def district(self) -> OrgUnit | None:
        """Return the root of the org-unit tree (the district), or None when there are no org units."""
        return next((u for u in self.org_units.values() if u.parent is None), None)

    def townships(self) -> list[OrgUnit]:
        """Return the townships in catalog order."""
        return [u for u in self.org_units.values() if u.level == "township"]

    def villages(self, township: str | None = None) -> list[OrgUnit]:
        """Return the villages, optionally of one township."""
        return [
            u
            for u in self.org_units.values()
            if u.level == "village" and (township is None or u.parent == township)
        ]


def _plain(schema: dict[str, Any]) -> dict[str, Any]:
    """Drop the x- keywords a validator need not see."""
    return {k: v for k, v in schema.items() if not k.startswith("x-")}


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def load_elements(root: Path) -> dict[str, Element]:
    """Load every element of `catalog/*.json`."""
    elements: dict[str, Element] = {}
    for path in sorted((root / "catalog").glob("*.json")):
        for item in _read(path)["elements"]:
            element = Element(
                code=item["code"],
                name=item["name"],
                schema=item["schema"],
                sensitivity=item["sensitivity"],
                sharing=item.get("sharing", SHARING[0]),
                aliases=tuple(item.get("aliases", ())),
                mask=item.get("mask"),
                org_level=item.get("org_level"),
                source=item.get("source", ""),
                update_frequency=item.get("update_frequency", ""),
                department=item.get("department", ""),
                description=item.get("description", ""),
                field_edit=item.get("field_edit", FIELD_EDITS[0]),
            )
            elements[element.code] = element
    return elements


def build_ledger(document: dict[str, Any], elements: dict[str, Element]) -> Ledger:
    """Bind a ledger spec document to the catalog."""
    required = set(document.get("required", ()))
    fields = []
    for name, prop in document["properties"].items():
        element = elements[prop["x-element"]]
        schema = {"title": element.name, **element.schema}
        schema.update({k: v for k, v in prop.items() if k != "x-element"})
        fields.append(Field(name=name, element=element, schema=schema, required=name in required))
    org = document["x-org-unit"]
    return Ledger(
        code=document["x-ledger"],
        title=document["title"],
        version=document.get("x-version", 1),
        key=document["x-key"],
        label=document.get("x-label", document["x-key"]),
        township_field=org["township"],
        village_field=org.get("village"),
        row_checks=tuple(document.get("x-row-checks", ())),
        fields=tuple(fields),
        document=document,
    )


def load_org_units(root: Path) -> dict[str, OrgUnit]:
    """Load the org-unit trees of `org_units/*.json`, flattened parent first."""
    units: dict[str, OrgUnit] = {}

    def walk(node: dict[str, Any], parent: str | None) -> None:
        units[node["code"]] = OrgUnit(
            code=node["code"],
            name=node["name"],
            level=node["level"],
            parent=parent,
            kind=node.get("kind", ""),
            population=node.get("population", 0),
        )
        for child in node.get("children", ()):
            walk(child, node["code"])

    for path in sorted((root / "org_units").glob("*.json")):
        walk(_read(path), None)
    return units


def load_departments(root: Path) -> tuple[dict[str, Department], dict[str, System]]:
    """Load the departments and upstream systems of `departments.json` (none when it is absent)."""
    path = root / "departments.json"
    if not path.exists():
        return {}, {}
    document = _read(path)
    departments = {d["code"]: Department(d["code"], d["name"]) for d in document["departments"]}
    systems = {}
    for item in document["systems"]:
        systems[item["name"]] = System(item["name"], item.get("department"), item.get("description", ""))
    return departments, systems


def load_specs(root: str | Path) -> SpecSet:
    """Load the catalog, the ledgers and the org units under `root`."""
    root = Path(root)
    elements = load_elements(root)
    ledgers = {}
    for path in sorted((root / "ledgers").glob("*.json")):
        ledger = build_ledger(_read(path), elements)
        ledgers[ledger.code] = ledger
    meta = root / "meta" / "report.schema.json"
    departments, systems = load_departments(root)
    return SpecSet(
        root=root,
        elements=elements,
        ledgers=ledgers,
        org_units=load_org_units(root),
        departments=departments,
        systems=systems,
        report_meta=_read(meta) if meta.exists() else None,
    )

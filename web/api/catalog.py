"""GET the catalog: ledgers, their data elements, owners, sharing types, and how the caller sees each."""

from __future__ import annotations

from typing import Any

from builder.catalog.specs import Field, Ledger
from runtime.masking import field_sight
from runtime.permissions import Action
from web import database
from web.api import blueprint
from web.api.auth import caller, endpoint
from web.api.responses import json_response
from web.api.schemas import CatalogSchema

bp = blueprint("api_catalog", "/catalog", "数据目录：台账、数据元、权威部门、共享类型")


def _field(field: Field, viewer) -> dict[str, Any]:
    element = field.element
    schema = field.schema
    return {
        "name": field.name,
        "element": element.code,
        "title": field.title,
        "aliases": list(element.aliases),
        "type": schema.get("type") if isinstance(schema.get("type"), str) else None,
        "format": schema.get("format"),
        "enum": schema.get("enum"),
        "required": field.required,
        "owner": element.department,
        "source": element.source,
        "update_frequency": element.update_frequency,
        "sharing": element.sharing,
        "sensitivity": element.sensitivity,
        "sight": field_sight(field, viewer).overall,
        "write": "own" if viewer.owns(element) else "propose",
    }


def _ledger(ledger: Ledger, viewer) -> dict[str, Any]:
    return {
        "code": ledger.code,
        "title": ledger.title,
        "key": ledger.key,
        "label": ledger.label,
        "township_field": ledger.township_field,
        "village_field": ledger.village_field,
        "fields": [_field(f, viewer) for f in ledger.fields],
    }


@bp.route("")
@bp.doc(
    operationId="getCatalog",
    summary="数据目录",
    description="全部台账的数据项，以及调用方读到的样子与能否直接写入。",
)
@bp.response(200, CatalogSchema)
@endpoint(Action.CATALOG)
def catalog():
    """Return the catalog as the calling client sees it."""
    specs = database.specs()
    who = caller()
    return json_response(
        {
            "client": who.identity.client_name,
            "department": who.identity.department,
            "departments": [{"code": d.code, "name": d.name} for d in specs.departments.values()],
            "ledgers": [_ledger(ledger, who.viewer) for ledger in specs.ledgers.values()],
        }
    )

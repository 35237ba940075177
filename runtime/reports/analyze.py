"""Analyze an uploaded report spec or Excel template against the live state of the district."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from builder.admission.analysis import Analysis, analyze_document, analyze_template, matcher_for
from builder.admission.gatekeeping import Context, RuleSet, load_rules
from builder.catalog.specs import SpecSet
from builder.problems import FileProblem, ImportRefused
from builder.templates.reader import read_template
from runtime import config
from runtime.clock import local_today
from runtime.ledgers.holdings import spec_holdings
from runtime.models import Department
from runtime.reports.admission import gatekeeping_context, rules_remit

#: File types `analyze_file` takes as templates.
TEMPLATE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")


def offline_context(specs: SpecSet, rules: RuleSet) -> Context:
    """Return a context without a database: the ledger specs as holdings, nothing live."""
    return Context(
        today=local_today(), elements=specs.elements, holdings=spec_holdings(specs), remit=rules_remit(rules)
    )


def analyze_file(
    data: bytes,
    filename: str,
    specs: SpecSet,
    rules: RuleSet | None = None,
    *,
    ledger: str | None = None,
    session: Session | None = None,
    department_id: int | None = None,
) -> Analysis:
    """Analyze a report spec (.json) or a template; with a session, against the live database."""
    rules = rules or load_rules(specs.root)
    suffix = Path(filename).suffix.lower()
    if suffix == ".json":
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportRefused(FileProblem.NOT_SPREADSHEET, filename=filename, kind="JSON 报表规格") from exc
        if ledger and isinstance(document, dict) and not (document.get("x-rows") or {}).get("ledger"):
            document = {**document, "x-rows": {**(document.get("x-rows") or {}), "ledger": ledger}}
        if session is not None and department_id is None and isinstance(document, dict):
            department_id = session.scalar(
                select(Department.id).where(Department.code == document.get("x-department"))
            )
        context = _context(specs, rules, session, department_id)
        return analyze_document(document, specs, context, rules)
    if suffix not in TEMPLATE_SUFFIXES:
        raise ImportRefused(FileProblem.UNSUPPORTED_TYPE, extension=suffix or filename)
    template = read_template(data, filename, limits=config.read_limits("template"))
    context = _context(specs, rules, session, department_id)
    return analyze_template(template, specs, matcher_for(specs.elements), context, rules, ledger=ledger)


def database_ready(session: Session) -> bool:
    """Tell whether the database has been set up (`yibiaotong init`)."""
    return inspect(session.connection()).has_table("reports")


def _context(specs: SpecSet, rules: RuleSet, session: Session | None, department_id: int | None) -> Context:
    if session is None:
        return offline_context(specs, rules)
    return gatekeeping_context(
        session,
        specs,
        department_id=department_id,
        report_id=None,
        today=local_today(),
        remit=rules_remit(rules),
    )

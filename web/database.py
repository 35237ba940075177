"""One engine and one session per request; the request owns the transaction."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import RuleSet, load_rules
from builder.catalog.specs import SpecSet, load_specs
from runtime.db import make_engine, make_sessionmaker


def init_app(app: Flask) -> None:
    """Create the engine and load the specs once per app."""
    engine = make_engine(app.config["DATABASE_URL"])
    app.extensions["yibiaotong"] = {
        "engine": engine,
        "sessionmaker": make_sessionmaker(engine),
        "specs": load_specs(app.config["SPECS_PATH"]),
    }
    app.teardown_appcontext(_close)


def engine() -> Engine:
    """Return the app's engine."""
    return current_app.extensions["yibiaotong"]["engine"]


def specs() -> SpecSet:
    """Return the app's loaded spec set."""
    return current_app.extensions["yibiaotong"]["specs"]


def rules() -> RuleSet:
    """Return the admission rules, loaded once per app."""
    ext = current_app.extensions["yibiaotong"]
    if "rules" not in ext:
        ext["rules"] = load_rules(Path(current_app.config["SPECS_PATH"]))
    return ext["rules"]


def session() -> Session:
    """Return this request's session, opening it on first use."""
    if "db_session" not in g:
        g.db_session = current_app.extensions["yibiaotong"]["sessionmaker"]()
    return g.db_session


def _close(exc: BaseException | None) -> None:
    db = g.pop("db_session", None)
    if db is None:
        return
    try:
        if exc is None:
            db.commit()
        else:
            db.rollback()
    finally:
        db.close()

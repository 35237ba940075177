"""Fixtures of the run-time tests: a seeded district on a fresh database, actors, admitted reports."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from builder.gatekeeping import load_rules
from builder.report_spec import load_reports
from runtime.admission import decide, submit
from runtime.clock import local_today
from runtime.demo.load import seed
from runtime.holdings import forget
from runtime.models import User
from runtime.reports import Actor, create_report


def _actor_of(session, username: str) -> Actor:
    """Return the demo user `username` as an actor."""
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.role, user.department_id)


@pytest.fixture
def actor_of():
    """Return a function giving a demo user (by username) as the actor of report operations."""
    return _actor_of


@pytest.fixture
def district(engine, specs):
    """The tiny district seeded into this test's own database (which it may change)."""
    seed(engine, specs, "tiny", 7)
    forget()
    return engine


@pytest.fixture
def admit_sample(specs):
    """Return a function that creates, files and admits a sample report (deadline in 20 days)."""
    def admit(session, sample="disability_survey", username="canlian", **overrides):
        document = {**load_reports(specs.root, specs)[sample].document,
                    "x-deadline": (local_today() + timedelta(days=20)).isoformat(), **overrides}
        author = _actor_of(session, username)
        report = create_report(session, author, document)
        filed = submit(session, specs, load_rules(specs.root), report, author)
        decide(session, filed, _actor_of(session, "reviewer"), "admit", "同意下发")
        return report
    return admit

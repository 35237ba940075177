"""Fixtures of the run-time tests: a seeded district on a fresh database."""

import pytest

from runtime.demo.load import seed
from runtime.ledgers.holdings import forget


@pytest.fixture
def district(engine, specs):
    """The tiny district seeded into this test's own database (which it may change)."""
    seed(engine, specs, "tiny", 7)
    forget()
    return engine


@pytest.fixture
def add_demo_accounts():
    """Return a function that creates the demo logins in the configured database, as `seed` does."""

    def add() -> None:
        from sqlalchemy.orm import Session

        from builder.catalog.specs import load_specs
        from runtime import config
        from runtime.db import make_engine
        from runtime.demo.accounts import create_demo_users

        engine = make_engine(config.database_url())
        with Session(engine) as session, session.begin():
            create_demo_users(session, load_specs(config.specs_path()))
        engine.dispose()

    return add


#: The township whose task the task tests fill.
ZHONGSHANLU = "500118001"


@pytest.fixture
def zhongshanlu_task(district, specs, admit_sample, actor_of):
    """Return a function: admit a sample report (overrides), dispatch it; 中山路街道's task id, filler."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from runtime.access import Viewer
    from runtime.models import User
    from runtime.tasks.dispatch import dispatch

    def make(**overrides):
        with Session(district) as session, session.begin():
            report = admit_sample(session, **overrides)
            tasks = dispatch(session, specs, report, actor_of(session, "canlian"))
            task_id = next(t.id for t in tasks if t.org_unit_code == ZHONGSHANLU)
            filler = session.scalar(select(User.id).where(User.username == "zhongshanlu"))
        return task_id, Viewer(filler, "township", township=ZHONGSHANLU)

    return make


@pytest.fixture
def load_task(specs):
    """Return a function reading a task, its report and its spec on a connection."""
    from sqlalchemy import select

    from runtime.models import Report, Task
    from runtime.reports.specs import report_spec

    def load(conn, task_id):
        task = conn.execute(select(Task).where(Task.id == task_id)).one()
        report = conn.execute(select(Report).where(Report.id == task.report_id)).one()
        return task, report, report_spec(conn, specs, task.report_id, task.version)

    return load

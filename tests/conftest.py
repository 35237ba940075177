"""Shared fixtures: real databases (SQLite, and PostgreSQL when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import os
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from builder.catalog.specs import load_specs
from runtime.accounts.bootstrap import create_administrator, load_org_units
from runtime.config import PROJECT_ROOT
from runtime.db import make_engine, migrate
from runtime.demo.accounts import DEMO_PASSWORD, create_demo_users
from runtime.jobs import runner as jobs
from runtime.reports.store import Actor
from runtime.tasks.context import TaskContext, task_context

os.environ.setdefault("PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")

SPECS_ROOT = PROJECT_ROOT / "form_specs"
PG_URL = os.environ.get("TEST_DATABASE_URL")
#: Set by CI: a missing PostgreSQL or browser fails the run instead of skipping.
REQUIRE_ALL = bool(os.environ.get("YIBIAOTONG_REQUIRE_ALL"))
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
#: The Redis the RQ tests put jobs on, each test on a queue of its own.
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def specs():
    """The standard spec set of the project."""
    return load_specs(SPECS_ROOT)


def _pg_admin(sql: str) -> None:
    url = make_url(PG_URL).set(drivername="postgresql", database="postgres")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(sql)


def _pg_database(suffix: str) -> str:
    """Create a fresh database next to TEST_DATABASE_URL's and return its URL."""
    url = make_url(PG_URL)
    name = f"{url.database}_{suffix}"
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _pg_admin(f'CREATE DATABASE "{name}"')
    return url.set(database=name).render_as_string(hide_password=False)


def _drop(url: str) -> None:
    """Drop a PostgreSQL database a fixture created (SQLite files go with tmp_path)."""
    if url.startswith("postgresql"):
        _pg_admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def _database_url(backend: str, tmp: Path, suffix: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp / (suffix + '.db')}"
    if not PG_URL:
        if REQUIRE_ALL:
            pytest.fail("TEST_DATABASE_URL 未设置，但 CI 要求运行 PostgreSQL 测试")
        pytest.skip("TEST_DATABASE_URL 未设置：跳过 PostgreSQL 测试")
    return _pg_database(suffix)


def _prepared(url: str, specs):
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        load_org_units(session, specs)
        # As `make run` sets the demo up: init's administrator with the demo password, then seed's logins.
        create_administrator(session, DEMO_PASSWORD)
        create_demo_users(session, specs)
    return engine


def fresh_database(backend: str, specs, folder: Path, name: str):
    """Return (url, engine) of a new database of `backend` with org units and demo users; drop it with
    `drop_database` (PostgreSQL: skipped without TEST_DATABASE_URL, failed in CI)."""
    url = _database_url(backend, folder, f"{name}_{uuid.uuid4().hex[:8]}")
    return url, _prepared(url, specs)


def drop_database(url: str) -> None:
    """Drop a database `fresh_database` made (SQLite files go with their folder)."""
    _drop(url)


def demo_district(specs, folder: Path, name: str):
    """Return (url, engine) of a new SQLite database holding the tiny demo district, reports and grants."""
    from runtime.demo.grants import load_demo_grants
    from runtime.demo.load import seed
    from runtime.demo.reports import load_demo_reports

    url = f"sqlite:///{folder / (name + '.db')}"
    engine = _prepared(url, specs)
    seed(engine, specs, "tiny", 7)
    load_demo_reports(engine, specs)
    load_demo_grants(engine, specs)
    return url, engine


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request):
    """The database engine kind under test."""
    return request.param


@pytest.fixture(scope="session")
def seeded_url(backend, specs, tmp_path_factory):
    """URL of a database holding the tiny demo district; tests must not change it."""
    from runtime.demo.load import seed

    url = _database_url(backend, tmp_path_factory.mktemp("seeded"), "seeded")
    engine = _prepared(url, specs)
    seed(engine, specs, "tiny", 7)
    engine.dispose()
    yield url
    _drop(url)


@pytest.fixture(scope="session")
def seeded_engine(seeded_url):
    """An engine on the seeded, read-only database."""
    engine = make_engine(seeded_url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(backend, specs, tmp_path):
    """An engine on a fresh database with org units and demo users but no ledger records."""
    url = _database_url(backend, tmp_path, "t" + uuid.uuid4().hex[:10])
    engine = _prepared(url, specs)
    yield engine
    # Background jobs a test started (and the jobs those started) end before their database goes.
    assert jobs.wait_for_threads(60), "a background job still runs"
    engine.dispose()
    _drop(url)


def make_test_app(url: str, tmp_path: Path, **config):
    """Create the web app on `url` for tests: CSRF off, jobs inline, files under tmp_path; `config` on top."""
    from web import create_app

    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": url,
            "SECRET_KEY": "test",
            "WTF_CSRF_ENABLED": False,
            "JOBS_IN_BACKGROUND": False,
            "REDIS_URL": None,
            "EXPORT_DIR": str(tmp_path / "exports"),
            "UPLOAD_DIR": str(tmp_path / "uploads"),
            "REPORT_DIR": str(tmp_path / "reports"),
        }
        | config
    )


def close_app(app) -> None:
    """End a test app: its background jobs (and the jobs they started) first, then its connections."""
    assert jobs.wait_for_threads(60), "a background job still runs"
    app.extensions["yibiaotong"]["engine"].dispose()


@pytest.fixture
def rq_queue():
    """A fresh RQ queue on the test Redis: (Redis URL, queue name). No Redis: skipped, failed in CI."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    client = Redis.from_url(TEST_REDIS_URL)
    try:
        client.ping()
    except RedisError as exc:
        client.close()
        if REQUIRE_ALL:
            pytest.fail(f"无法连接 Redis（{TEST_REDIS_URL}）：{exc}；CI 要求运行 RQ 测试")
        pytest.skip(f"无法连接 Redis（{TEST_REDIS_URL}）：跳过 RQ 测试")
    name = f"test-{uuid.uuid4().hex[:12]}"
    yield TEST_REDIS_URL, name
    Queue(name, connection=client).delete(delete_jobs=True)
    client.close()


@pytest.fixture
def make_app(tmp_path):
    """Factory of test apps on a database URL (see `make_test_app`)."""
    return lambda url: make_test_app(url, tmp_path)


@pytest.fixture
def app(seeded_url, make_app):
    """The web app on the seeded database, jobs run inline."""
    app = make_app(seeded_url)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


class AuthActions:
    """Log in and out through the real login form."""

    def __init__(self, client):
        """Keep the client."""
        self._client = client

    def login(self, username: str = "keeper", password: str = DEMO_PASSWORD):
        """Log in as `username`."""
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        """Log out."""
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    """Login helper bound to the test client."""
    return AuthActions(client)


def make_id_number(birth: str = "19900101", seq: int = 123, address: str = "500118") -> str:
    """Return a valid ID number (odd seq = male)."""
    from builder.checkdigits import id_check_char

    first17 = f"{address}{birth}{seq:03d}"
    return first17 + id_check_char(first17)


def make_ctx(conn, specs, task, viewer, spec=None) -> TaskContext:
    """Return a task's context as a request builds it: its spec from the filed version unless given."""
    if spec is not None:
        return TaskContext(conn, specs, spec, task, viewer)
    return task_context(conn, specs, task, viewer)


@pytest.fixture
def make_person():
    """Factory of valid person records with defaults; keyword arguments override fields."""
    counter = iter(range(1, 999))

    def build(**fields):
        seq = 2 * next(counter) + 1
        record = {
            "id_number": make_id_number("19850315", seq),
            "name": f"张{seq}",
            "gender": "男",
            "birth_date": "1985-03-15",
            "township_code": "500118001",
            "village_code": "500118001001",
            "household_no": f"5001180010010{seq:03d}",
            "relation_to_head": "户主",
        }
        record.update(fields)
        return {k: v for k, v in record.items() if v is not None}

    return build


def _actor_of(session, username: str) -> Actor:
    """Return the demo user `username` as an actor."""
    from sqlalchemy import select

    from runtime.models import User

    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.role, user.department_id)


@pytest.fixture
def actor_of():
    """Return a function giving a demo user (by username) as the actor of report operations."""
    return _actor_of


@pytest.fixture
def admit_sample(specs):
    """Return a function that creates, files and admits a sample report (deadline in 20 days)."""
    from datetime import timedelta

    from builder.admission.gatekeeping import load_rules
    from builder.reports.spec import load_reports
    from runtime.clock import local_today
    from runtime.demo.report_grants import grant_for_report
    from runtime.reports.admission import decide, submit
    from runtime.reports.store import create_report

    def admit(session, sample="disability_survey", username="canlian", **overrides):
        document = {
            **load_reports(specs.root, specs)[sample].document,
            "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
            **overrides,
        }
        author = _actor_of(session, username)
        report = create_report(session, author, document)
        grant_for_report(session.connection(), specs, author.department_id, document)
        filed = submit(session, specs, load_rules(specs.root), report, author)
        decide(session, filed, _actor_of(session, "reviewer"), "admit", "同意下发")
        return report

    return admit


#: Sample audit entries (name → actor, action, target, detail, days before AUDIT_NOW), one of each
#: shape the audit page reads: clear reads of two owners' data, a grant's steps, proposals, older
#: actions. 区残联 (canlian) owns the disability elements, 区民政局 (minzheng) the assistance type.
AUDIT_SAMPLE = {
    "canlian_reads_minzheng": (
        "canlian",
        "read.clear",
        "minzheng/person",
        {
            "elements": ["person.assistance_type"],
            "records": 120,
            "keys": ["500118198503150011"],
            "purpose": "核对残疾人两项补贴对象的救助类别",
            "grants": [1],
            "via": "extract",
            "path": "/reports/disability_survey/extract",
        },
        3,
    ),
    "minzheng_reads_canlian": (
        "minzheng",
        "read.clear",
        "canlian/person",
        {
            "elements": ["person.disability_grade", "person.disability_category"],
            "records": 7,
            "purpose": "低保复核查看残疾等级",
            "grants": [2],
            "via": "page",
        },
        2,
    ),
    "canlian_applies": (
        "canlian",
        "grant.apply",
        "grant/minzheng/canlian/1",
        {
            "ledger": "person",
            "elements": ["person.assistance_type"],
            "townships": None,
            "expires_on": "2026-12-31",
            "purpose": "核对残疾人两项补贴对象的救助类别",
        },
        5,
    ),
    "minzheng_approves": (
        "minzheng",
        "grant.approve",
        "grant/minzheng/canlian/1",
        {
            "ledger": "person",
            "elements": ["person.assistance_type"],
            "townships": ["500118001", "500118108"],
            "expires_on": "2026-12-31",
            "reason": "只批准两个试点镇街",
        },
        4,
    ),
    "canlian_refuses_tuiyi": (
        "canlian",
        "grant.refuse",
        "grant/canlian/tuiyi/2",
        {"elements": ["person.disability_grade"], "reason": "用途不明确"},
        4,
    ),
    "visit_proposes_status": (
        "wangge",
        "proposal.create",
        "proposal/gongan/person/500118198503150011",
        {"field": "residence_status", "element": "person.residence_status", "reason": "走访发现已故"},
        1,
    ),
    "visit_proposes_assistance": (
        "wangge",
        "proposal.create",
        "proposal/minzheng/person/500118198503150013",
        {"field": "assistance_type", "element": "person.assistance_type", "old": "低保", "new": "特困"},
        0,
    ),
    "keeper_exports": ("keeper", "export", "person", {"format": "xlsx", "rows": 300, "filters": {}}, 1),
    "keeper_exports_land": ("keeper", "export", "land", {"format": "csv", "rows": 40}, 1),
    "keeper_reveals": ("keeper", "reveal", "person/500118198503150011", {"field": "id_number"}, 1),
    "admin_logs_in": ("admin", "login", "admin", {"address": "10.0.0.8"}, 0),
}
#: When the newest sample entry was written: 2026-11-02 10:00 in Beijing.
AUDIT_NOW = datetime(2026, 11, 2, 2, 0)


@pytest.fixture
def write_audit_sample():
    """Return a function writing AUDIT_SAMPLE into an engine's log; it returns entry name → id."""
    from sqlalchemy import insert, select

    from runtime.models import AuditEntry, User

    def write(engine) -> dict[str, int]:
        ids = {}
        with engine.begin() as conn:
            users = dict(conn.execute(select(User.username, User.id)).all())
            for name, (username, action, target, detail, days) in AUDIT_SAMPLE.items():
                at = AUDIT_NOW - timedelta(days=days, minutes=len(ids))
                row = {
                    "at": at,
                    "actor_id": users[username],
                    "action": action,
                    "target": target,
                    "detail": detail,
                }
                ids[name] = conn.execute(
                    insert(AuditEntry).values(**row).returning(AuditEntry.id)
                ).scalar_one()
        return ids

    return write

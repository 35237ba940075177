"""The load test's district on its deadline day: a fresh database seeded as `yibiaotong init` and
`yibiaotong seed --scale demo` seed it, every task open today, the simulated users' accounts with
the rows each of them fills, and the person files the keeper imports.

Township staff split their township's task (contiguous rows each, as an office splits a list);
each village's grid worker fills the village's own task of a second survey, 区民政局's low-income
review sent to every village. No two simulated users edit the same row, so every save must succeed.
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import rustpy_xlsxwriter
from sqlalchemy import select, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from builder.reports.form import field_view
from builder.reports.spec import ReportSpec, load_reports
from runtime.access import Viewer, viewer_for
from runtime.accounts.passwords import hash_password
from runtime.clock import local_today
from runtime.db import make_engine
from runtime.demo.generate import generate
from runtime.demo.identity import Identities
from runtime.ledgers.store import Query, iter_rows, read_all
from runtime.models import Report, ReportVersion, Task, User, utcnow
from runtime.reports.specs import document_spec
from runtime.reports.store import Actor, create_report, latest_version
from runtime.tasks.context import TaskContext
from runtime.tasks.dispatch import OPEN_STATES, dispatch
from runtime.tasks.prefill import row_query

ROOT = Path(__file__).resolve().parents[1]
#: PostgreSQL server and base name the benchmarks use (`bench/run.py` reads the same variable).
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/yibiaotong_bench"
#: The demo survey every township fills (区残联), and the one sent to every village (区民政局).
TOWNSHIP_REPORT = "disability_survey"
VILLAGE_SOURCE = "low_income_review"
VILLAGE_REPORT = "low_income_review_villages"
#: Persons per file the keeper imports: an update from a department system, plus a few new persons.
IMPORT_ROWS = 3_000
IMPORT_NEW_SHARE = 0.03
IMPORT_CHANGED_SHARE = 0.10
#: Persons the keeper's files leave alone: those in the surveys' rows (an import must not move a
#: row out of a task while its filler types into it: that refusal is the app working as meant).
KEPT_ASSISTANCE = ("低保", "特困", "低保边缘")


@dataclass(frozen=True)
class Asked:
    """A cell the township fills (no ledger holds it), as the grid shows it."""

    name: str
    widget: str
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None


@dataclass
class Filler:
    """One simulated township or village user: the login, the task and the rows they fill."""

    username: str
    task_id: int
    refs: list[str]
    asked: tuple[Asked, ...]


@dataclass
class Plan:
    """Everything the simulated users need to know before they start."""

    password: str
    fillers: list[Filler]
    #: (login, code of the report the department owns and exports) for each exporting department.
    departments: list[tuple[str, str]]
    keeper: str
    import_files: list[Path]
    #: task id → report spec, to read the saved values back in the app's own terms.
    specs_by_task: dict[int, ReportSpec] = field(default_factory=dict)
    #: A grid worker of a village no simulated user fills, to measure what one save costs.
    probe: Filler | None = None


def fresh_database(backend: str, folder: Path) -> str:
    """Return the URL of a new, empty database: a SQLite file in `folder`, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{folder / 'load.db'}"
    url = make_url(os.environ.get("BENCH_DATABASE_URL", PG_DEFAULT))
    url = url.set(database=f"{url.database}_load")
    _admin(url, f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)', f'CREATE DATABASE "{url.database}"')
    return url.render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database `fresh_database` made (a SQLite file goes with its folder)."""
    if url.startswith("postgresql"):
        parsed = make_url(url)
        _admin(parsed, f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')


def _admin(url, *statements: str) -> None:
    admin = url.set(drivername="postgresql", database="postgres")
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def seed_demo(env: dict[str, str]) -> None:
    """Initialise and seed the database the way a deployment does: the CLI's `init` and `seed`."""
    # A throwaway administrator password: the load test logs in as the demo and generated users only.
    env = {"YIBIAOTONG_ADMIN_PASSWORD": secrets.token_hex(12), **env}
    for args in (["init", "--quiet"], ["seed", "--scale", "demo"]):
        subprocess.run(
            [sys.executable, "-m", "web.cli", *args], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
        )


def prepare(
    url: str, specs: SpecSet, users: int, folder: Path, import_files: int, seed: int = 20261201
) -> Plan:
    """Open every task on the deadline day, make the users' accounts, split the rows, write the files."""
    rng = random.Random(seed)
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            _village_survey(session, specs)
            today = local_today()
            session.execute(update(Task).where(Task.state.in_(OPEN_STATES)).values(deadline=today))
            tasks = _open_tasks(session, specs)
            password = secrets.token_urlsafe(12)
            fillers, probe = _fillers(session, specs, tasks, users, _production_hash(password))
            specs_by_task = {task.id: spec for task, spec, _rows in tasks}
        files = _import_files(engine, specs, folder, import_files, rng)
    finally:
        engine.dispose()
    return Plan(
        password=password,
        fillers=fillers,
        departments=[("canlian", TOWNSHIP_REPORT), ("minzheng", VILLAGE_REPORT)],
        keeper="keeper",
        import_files=files,
        specs_by_task=specs_by_task,
        probe=probe,
    )


def _production_hash(password: str) -> str:
    """Hash with the app's own default method: logins must cost what they cost in production.

    `bench/run.py` makes hashing cheap for its own set-ups (PASSWORD_HASH_METHOD); not here.
    """
    saved = os.environ.pop("PASSWORD_HASH_METHOD", None)
    try:
        return hash_password(password)
    finally:
        if saved is not None:
            os.environ["PASSWORD_HASH_METHOD"] = saved


def _village_survey(session: Session, specs: SpecSet) -> None:
    """Admit 区民政局's low-income review for every village, due today, and dispatch it.

    Stored as admitted directly: the admission rules would rightly ask why it is due today, and the
    gatekeeping is not what this benchmark measures.
    """
    sample = load_reports(specs.root, specs)[VILLAGE_SOURCE].document
    villages = [u.code for u in specs.org_units.values() if u.level == "village"]
    document = {
        **sample,
        "x-report": VILLAGE_REPORT,
        "title": sample["title"] + "（村、社区入户）",
        "x-targets": villages,
        "x-deadline": local_today().isoformat(),
    }
    user = session.scalar(select(User).where(User.username == "minzheng"))
    actor = Actor(user.id, user.role, user.department_id)
    report = create_report(session, actor, document)
    latest_version(session, report).submitted_at = utcnow()
    report.status, report.mode = "admitted", "dispatch"
    session.flush()
    dispatch(session, specs, report, actor)


def _open_tasks(session: Session, specs: SpecSet) -> list[tuple[Task, ReportSpec, list[str]]]:
    """Return each open task of the two surveys with its spec and its rows (record ids, in page order)."""
    conn = session.connection()
    found = []
    stmt = (
        select(Task, ReportVersion.document)
        .join(Report, Report.id == Task.report_id)
        .join(
            ReportVersion,
            (ReportVersion.report_id == Task.report_id) & (ReportVersion.version == Task.version),
        )
        .where(Report.code.in_((TOWNSHIP_REPORT, VILLAGE_REPORT)), Task.state.in_(OPEN_STATES))
        .order_by(Task.org_unit_code)
    )
    for task, document in session.execute(stmt).all():
        spec = document_spec(specs, document)
        ctx = TaskContext(conn, specs, spec, task, _filler(specs, task))
        rows = [str(r["_id"]) for batch in iter_rows(conn, row_query(ctx)) for r in batch]
        if rows:
            found.append((task, spec, rows))
    return found


def _filler(specs: SpecSet, task: Task) -> Viewer:
    """Return the viewer of the township's or village's user who fills the task (no account needed)."""
    unit = specs.org_units[task.org_unit_code]
    role = "village" if unit.level == "village" else "township"
    return viewer_for(None, role, unit.code, unit.level, unit.parent)


def _asked(spec: ReportSpec) -> tuple[Asked, ...]:
    """Return the cells of a report that the township fills (bound to no element, not computed)."""
    asked = []
    for f in spec.fields:
        if f.element or f.compute:
            continue
        view = field_view(f)
        asked.append(
            Asked(
                f.name,
                view.widget,
                tuple(value for value, _label in view.options),
                f.schema.get("minimum"),
                f.schema.get("maximum"),
                f.schema.get("maxLength"),
            )
        )
    return tuple(asked)


def _fillers(
    session: Session,
    specs: SpecSet,
    tasks: list[tuple[Task, ReportSpec, list[str]]],
    users: int,
    password_hash: str,
) -> tuple[list[Filler], Filler | None]:
    """Make one account per simulated filler and give each a slice of rows no one else edits.

    Half the users (at most one per village) are the grid workers of the villages with the most
    rows; the rest are township staff, spread over the township tasks by their number of rows.
    The next village, if any, gets the probe's account.
    """
    villages = sorted(
        (t for t in tasks if specs.org_units[t[0].org_unit_code].level == "village"), key=lambda t: -len(t[2])
    )
    spare = villages[users // 2] if len(villages) > users // 2 else None
    villages = villages[: users // 2]
    townships = [t for t in tasks if specs.org_units[t[0].org_unit_code].level != "village"]
    shares = _apportion(users - len(villages), [len(rows) for _t, _s, rows in townships])
    fillers = []
    for task, spec, rows in villages:
        fillers.append(Filler(f"load_{task.org_unit_code}", task.id, rows, _asked(spec)))
    probe = None
    if spare:
        probe = Filler(f"probe_{spare[0].org_unit_code}", spare[0].id, spare[2], _asked(spare[1]))
    for (task, spec, rows), n in zip(townships, shares, strict=True):
        for k in range(n):  # n never exceeds the rows: every slice holds at least one
            fillers.append(
                Filler(
                    f"load_{task.org_unit_code}_{k + 1}",
                    task.id,
                    rows[len(rows) * k // n : len(rows) * (k + 1) // n],
                    _asked(spec),
                )
            )
    for f in fillers + ([probe] if probe else []):
        task = session.get(Task, f.task_id)
        unit = specs.org_units[task.org_unit_code]
        session.add(
            User(
                username=f.username,
                display_name=f"{unit.name}压测用户",
                password_hash=password_hash,
                org_unit_code=unit.code,
                role="village" if unit.level == "village" else "township",
            )
        )
    # The department and keeper logins the benchmark uses get the same (production-cost) password.
    session.execute(
        update(User)
        .where(User.username.in_(("canlian", "minzheng", "keeper")))
        .values(password_hash=password_hash)
    )
    session.flush()
    return [f for f in fillers if f.refs], probe


def _apportion(total: int, weights: list[int]) -> list[int]:
    """Split `total` users over tasks by weight (rows), at least one each and never more than rows."""
    total = max(total, len(weights))
    raw = [total * w / sum(weights) for w in weights]
    shares = [max(1, min(w, int(r))) for r, w in zip(raw, weights, strict=True)]
    order = sorted(range(len(weights)), key=lambda i: raw[i] - int(raw[i]), reverse=True)
    while sum(shares) < total and any(s < w for s, w in zip(shares, weights, strict=True)):
        for i in order:
            if sum(shares) < total and shares[i] < weights[i]:
                shares[i] += 1
    return shares


def _import_files(engine, specs: SpecSet, folder: Path, count: int, rng: random.Random) -> list[Path]:
    """Write `count` person files: known persons (some changed), a few new."""
    ledger = specs.ledgers["person"]
    names = {u.code: u.name for u in specs.org_units.values()}
    with engine.connect() as conn:
        persons = [r for r in read_all(conn, Query(ledger)) if _untouched(r)]
    known = {r["_key"] for r in persons}
    newcomers = [
        r
        for code, chunk in generate(specs, "tiny", 777)
        if code == "person"
        for r in chunk
        if r["id_number"] not in known and _untouched(r)
    ]
    people = Identities(rng)
    titles = [f.title for f in ledger.fields]
    files = []
    for n in range(count):
        rows = [dict(r) for r in rng.sample(persons, min(IMPORT_ROWS, len(persons)))]
        for r in rng.sample(rows, int(len(rows) * IMPORT_CHANGED_SHARE)):
            r["phone"] = people.mobile()
        new = rng.sample(newcomers, min(int(IMPORT_ROWS * IMPORT_NEW_SHARE), len(newcomers)))
        table = [
            {title: _cell(f, r.get(f.name), names) for title, f in zip(titles, ledger.fields, strict=True)}
            for r in rows + new
        ]
        path = folder / f"人口台账更新-{n + 1:02d}.xlsx"
        rustpy_xlsxwriter.write_worksheet(table, str(path), sheet_name="人口")
        files.append(path)
    return files


def _untouched(record: dict[str, Any]) -> bool:
    """Tell whether a person is in neither survey's rows."""
    return not record.get("disability_grade") and record.get("assistance_type") not in KEPT_ASSISTANCE


def _cell(f, value: Any, names: dict[str, str]) -> str:
    """Return a ledger value as a person file from another system writes it (org units by name)."""
    if value is None:
        return ""
    if f.element.org_level:
        return names[value]
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


def temporary_folder() -> tempfile.TemporaryDirectory:
    """Return a temporary folder for the SQLite file, the instance folder and the import files."""
    return tempfile.TemporaryDirectory(prefix="ybt-load-")

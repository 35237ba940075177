"""Benchmarks of the township side that need no database: validating submitted report rows.

Called by `bench/run.py`; each function records its results through the `report` it is given.
Run alone with `python bench/runtime_bench.py` to print the results as JSON lines.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from builder.catalog.specs import SpecSet, load_specs  # noqa: E402
from builder.checkdigits import DISABILITY_CATEGORY_DIGITS, DISABILITY_GRADE_DIGITS, id_check_char  # noqa: E402
from builder.reports.compute import computed_values  # noqa: E402
from builder.reports.spec import ReportSpec, load_report  # noqa: E402
from builder.reports.validation import ReportRowValidator  # noqa: E402

SEED = 20260101
ROWS = 100_000
INVALID_SHARE = 0.05
#: Person-ledger elements the benchmark report binds (23), before its five custom fields.
BOUND = (
    "name",
    "id_number",
    "gender",
    "birth_date",
    "ethnicity",
    "township_code",
    "village_code",
    "household_no",
    "relation_to_head",
    "hukou_type",
    "household_address",
    "current_address",
    "phone",
    "education",
    "marital_status",
    "political_status",
    "employment_status",
    "health_status",
    "is_veteran",
    "disability_cert_no",
    "disability_category",
    "disability_grade",
    "assistance_type",
)
ADDRESS = "永川区中山路街道萱花社区8号"
NEEDS = ["医疗康复", "康复训练", "辅助器具适配", "心理疏导", "日间照料", "无"]


def person_report(specs: SpecSet) -> ReportSpec:
    """Return a 28-field person report: 23 bound elements, a computed age and four custom fields."""
    props: dict[str, Any] = {name: {"x-element": f"person.{name}"} for name in BOUND}
    props.update(
        {
            "age": {
                "title": "年龄（周岁）",
                "type": "integer",
                "x-compute": {"op": "age", "from": "birth_date", "on": "deadline"},
            },
            "rehab_needs": {
                "title": "康复需求",
                "type": "array",
                "uniqueItems": True,
                "minItems": 1,
                "items": {"type": "string", "enum": NEEDS},
            },
            "monthly_income": {"title": "月收入（元）", "type": "number", "minimum": 0, "maximum": 1000000},
            "household_size": {"title": "家庭人口数", "type": "integer", "minimum": 1, "maximum": 30},
            "survey_date": {"title": "调查日期", "type": "string", "format": "date"},
        }
    )
    document = {
        "title": "基准测试：残疾人服务需求调查",
        "type": "object",
        "x-report": "bench_validate_rows",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "基准测试",
        "x-basis": "基准测试",
        "x-rows": {"ledger": "person", "filter": []},
        "x-deadline": "2026-12-20",
        "properties": props,
        "required": ["name", "id_number", "gender", "birth_date", "rehab_needs", "survey_date"],
    }
    return load_report(document, specs.elements, specs.ledgers, meta=specs.report_meta)


def _id_number(rng: random.Random, born: date, male: bool) -> str:
    seq = rng.randrange(0, 500) * 2 + (1 if male else 0)
    first17 = f"500118{born:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def _valid_row(rng: random.Random, spec: ReportSpec, options: dict[str, list[Any]]) -> dict[str, Any]:
    born = date(1930, 1, 1) + timedelta(days=rng.randrange(0, 33_000))
    male = rng.random() < 0.5
    id_number = _id_number(rng, born, male)
    township = f"500118{rng.randrange(1, 8):03d}"
    row: dict[str, Any] = {
        "name": rng.choice("张王李赵刘陈杨黄") + rng.choice(("伟", "芳", "秀英", "建国", "小红")),
        "id_number": id_number,
        "gender": "男" if male else "女",
        "birth_date": born.isoformat(),
        "township_code": township,
        "village_code": f"{township}{rng.randrange(1, 19):03d}",
        "household_no": f"{rng.randrange(10**14, 10**15)}",
        "household_address": ADDRESS,
        "current_address": ADDRESS,
        "phone": f"13{rng.randrange(10**8, 10**9)}",
        "is_veteran": rng.random() < 0.05,
        "rehab_needs": rng.sample(NEEDS[:5], rng.randrange(1, 3)),
        "monthly_income": round(rng.uniform(0, 8000), 2),
        "household_size": rng.randrange(1, 8),
        "survey_date": "2026-11-20",
    }
    for name, values in options.items():
        if rng.random() < 0.8:
            row[name] = rng.choice(values)
    category, grade = rng.choice("1234567"), rng.choice("1234")
    row["disability_cert_no"] = id_number + category + grade
    row["disability_category"] = DISABILITY_CATEGORY_DIGITS[category]
    row["disability_grade"] = DISABILITY_GRADE_DIGITS[grade]
    row.update(computed_values(spec, row, today=date(2026, 11, 25)))
    return row


def _break(rng: random.Random, row: dict[str, Any]) -> None:
    """Give a valid row one to three errors of different kinds."""
    mistakes = [
        lambda: row.update(id_number=row["id_number"][:17] + ("0" if row["id_number"][17] != "0" else "1")),
        lambda: row.update(gender="女" if row["gender"] == "男" else "男"),
        lambda: row.update(birth_date="1899-02-30"),
        lambda: row.update(ethnicity="火星族"),
        lambda: row.update(monthly_income=-5),
        lambda: row.pop("survey_date"),
        lambda: row.update(household_size=0),
        lambda: row.update(phone="12345"),
        lambda: row.update(rehab_needs=["买房"]),
        lambda: row.update(monthly_income="一千"),
        lambda: row.update(disability_grade="一级" if row["disability_grade"] != "一级" else "二级"),
    ]
    for mistake in rng.sample(mistakes, rng.randrange(1, 4)):
        mistake()


def validation_rows(
    spec: ReportSpec, specs: SpecSet, n: int = ROWS, seed: int = SEED, invalid_share: float = INVALID_SHARE
) -> list[dict[str, Any]]:
    """Return `n` deterministic rows of the benchmark report, `invalid_share` of them with errors."""
    rng = random.Random(seed)
    choice = (
        "ethnicity",
        "relation_to_head",
        "hukou_type",
        "education",
        "marital_status",
        "political_status",
        "employment_status",
        "health_status",
        "assistance_type",
    )
    options = {name: list(specs.elements[f"person.{name}"].schema["enum"]) for name in choice}
    step = round(1 / invalid_share)
    rows = []
    for i in range(n):
        row = _valid_row(rng, spec, options)
        if i % step == step - 1:
            _break(rng, row)
        rows.append(row)
    return rows


def bench_validate(report: Callable, specs: SpecSet, runs: int = 3) -> None:
    """Validate 100,000 submitted rows of a 28-field report, every error of every row (best of 3)."""
    spec = person_report(specs)
    rows = validation_rows(spec, specs)
    validator = ReportRowValidator(spec, specs.elements)
    errors = validator.errors
    times, found = [], []
    for _ in range(runs):
        started = time.perf_counter()
        found = [errors(row) for row in rows]
        times.append(time.perf_counter() - started)
    rate = len(rows) / min(times)
    invalid = sum(1 for f in found if f)
    report(
        "validate_rows_100k",
        rate,
        "rows/s",
        "≥ 50,000 rows/s",
        "builder",
        rate >= 50_000,
        rows=len(rows),
        fields=len(spec.fields),
        invalid=invalid,
        errors=sum(len(f) for f in found),
        runs_seconds=[round(t, 3) for t in times],
    )


def bench_tasks(report: Callable, backend: str, engine, specs: SpecSet, township: str) -> None:
    """Dispatch a 28-field person report to the 23 townships; open the largest task's first page."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from builder.admission.gatekeeping import load_rules
    from runtime.access import Viewer
    from runtime.clock import local_today
    from runtime.demo.report_grants import grant_for_report
    from runtime.ledgers.store import count
    from runtime.models import User
    from runtime.reports.admission import decide, submit
    from runtime.reports.store import Actor, create_report
    from runtime.tasks.context import TaskContext
    from runtime.tasks.dispatch import dispatch
    from runtime.tasks.prefill import row_query, task_page

    def actor(session, username):
        user = session.scalar(select(User).where(User.username == username))
        return Actor(user.id, user.role, user.department_id)

    spec = person_report(specs)
    document = {
        **spec.document,
        "x-report": f"bench_tasks_{int(time.time())}",
        "x-deadline": (local_today() + timedelta(days=20)).isoformat(),
        "x-justification": "基准测试：核对身份与联系方式",
    }
    with Session(engine) as session, session.begin():
        canlian = actor(session, "canlian")
        created = create_report(session, canlian, document)
        # Filed as in the district: what it binds of others' 有条件共享 data was applied for and granted.
        grant_for_report(session.connection(), specs, canlian.department_id, document)
        filed = submit(session, specs, load_rules(specs.root), created, canlian)
        decide(session, filed, actor(session, "reviewer"), "admit", "基准测试")
        decision = filed.verdict_decision
        started = time.perf_counter()
        tasks = dispatch(session, specs, created, canlian)
        seconds = time.perf_counter() - started
        task = next(t for t in tasks if t.org_unit_code == township)
        session.expunge(task)
    report(
        "dispatch_23_townships",
        seconds * 1000,
        "ms",
        "≤ 2000 ms",
        backend,
        seconds <= 2,
        tasks=len(tasks),
        decision=decision,
    )
    viewer = Viewer(None, "township", township=township)
    times = []
    with engine.connect() as conn:
        ctx = TaskContext(conn, specs, spec, task, viewer)
        rows = count(conn, row_query(ctx))
        for _ in range(5):
            started = time.perf_counter()
            found = task_page(ctx, limit=50)
            times.append(time.perf_counter() - started)
    best = min(times)
    report(
        "open_task_first_page",
        best * 1000,
        "ms",
        "≤ 150 ms",
        backend,
        best <= 0.15,
        task_rows=rows,
        page_rows=len(found.rows),
        fields=len(spec.fields),
        runs_ms=[round(t * 1000, 1) for t in times],
    )
    bench_task_xlsx(report, backend, engine, specs, spec, task, viewer, rows)
    bench_writeback(report, backend, engine, specs, spec, task, viewer, document["x-report"])


def bench_task_xlsx(
    report: Callable,
    backend: str,
    engine,
    specs: SpecSet,
    spec: ReportSpec,
    task,
    viewer,
    rows: int,
    runs: int = 3,
) -> None:
    """Write the largest task as a pre-filled .xlsx (every row, every field, masked as shown)."""
    import tempfile

    from runtime.tasks.context import TaskContext
    from runtime.tasks.workbook import write_task_xlsx

    times = []
    with tempfile.TemporaryDirectory() as folder, engine.connect() as conn:
        ctx = TaskContext(conn, specs, spec, task, viewer)
        for n in range(runs):
            started = time.perf_counter()
            written = write_task_xlsx(ctx, Path(folder) / f"task{n}.xlsx")
            times.append(time.perf_counter() - started)
        conn.rollback()
    best = min(times)
    report(
        "task_xlsx",
        best,
        "s",
        "≤ 5 s",
        backend,
        best <= 5,
        rows=written,
        fields=len(spec.fields),
        runs_seconds=[round(t, 2) for t in times],
    )


def bench_writeback(
    report: Callable,
    backend: str,
    engine,
    specs: SpecSet,
    spec: ReportSpec,
    task,
    viewer,
    code: str,
    changed: int = 10_000,
) -> None:
    """Write back a task whose township changed the phone of 10,000 rows (one transaction, with commit).

    The township's viewer submits: it has no user account here, so the versions name no actor.
    """
    from sqlalchemy import insert

    from runtime.ledgers.store import iter_rows
    from runtime.models import TaskRow, utcnow
    from runtime.tasks.context import TaskContext
    from runtime.tasks.prefill import row_query
    from runtime.tasks.writeback import write_back

    drafts = []
    with engine.begin() as conn:
        for batch in iter_rows(conn, row_query(TaskContext(conn, specs, spec, task, viewer))):
            for record in batch[: changed - len(drafts)]:
                drafts.append(
                    {
                        "task_id": task.id,
                        "record_id": record["_id"],
                        "row_key": record["_key"],
                        "values": {"phone": f"139{record['_id']:08d}"[-11:]},
                        "base": {"phone": record.get("phone")},
                        "errors": {},
                        "status": "active",
                        "reason": "",
                        "complete": True,
                        "version": 1,
                        "updated_at": utcnow(),
                    }
                )
            if len(drafts) >= changed:
                break
        conn.execute(insert(TaskRow), drafts)
    started = time.perf_counter()
    with engine.begin() as conn:
        result = write_back(TaskContext(conn, specs, spec, task, viewer), code)
    seconds = time.perf_counter() - started
    report(
        "writeback_10k_rows",
        seconds,
        "s",
        "≤ 5 s",
        backend,
        seconds <= 5 and result.records == changed,
        records=result.records,
        conflicts=result.conflicts,
    )


def _print(name: str, value: float, unit: str, target: str, backend: str, ok: bool | None, **extra) -> None:
    """Print one result as a JSON line."""
    print(
        json.dumps(
            {
                "name": name,
                "backend": backend,
                "value": round(value, 3),
                "unit": unit,
                "target": target,
                "ok": ok,
                **extra,
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


if __name__ == "__main__":
    bench_validate(_print, load_specs(ROOT / "form_specs"))

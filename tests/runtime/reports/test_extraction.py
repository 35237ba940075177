"""Direct extraction: a report answered from the ledgers is what the townships would submit unchanged."""

import pytest
from python_calamine import CalamineWorkbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from runtime.access import Viewer
from runtime.models import AuditEntry, Report, Task, User
from runtime.reports.export import export_report, unit_label
from runtime.reports.extraction import SOURCE, extract_report, extracted_table
from runtime.reports.file import STATUS_COLUMN, UNIT_COLUMN
from runtime.reports.store import Actor, ReportError, create_report
from runtime.tasks.dispatch import dispatch
from runtime.tasks.prefill import task_page
from runtime.tasks.workbook import column_titles
from tests.conftest import make_ctx

ZHONGSHANLU = "500118001"


def _reader(session, username):
    user = session.scalar(select(User).where(User.username == username))
    return Actor(user.id, user.role, user.department_id), Viewer(user.id, user.role)


def _extract(engine, specs, code, username, target, fmt="xlsx"):
    with Session(engine) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        actor, viewer = _reader(session, username)
        return extract_report(session.connection(), specs, report, actor, viewer, fmt, target)


def _sheet(path):
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python()


@pytest.mark.parametrize(
    ("sample", "author"), [("disability_survey", "canlian"), ("low_income_review", "minzheng")]
)
def test_extraction_equals_the_unchanged_tasks_row_for_row(
    district, specs, admit_sample, actor_of, load_task, sample, author, tmp_path
):
    """Masking, household-bound and computed fields: the page's rows of every task, for the department."""
    with Session(district) as session, session.begin():
        report = admit_sample(session, sample, author)
        tasks = dispatch(session, specs, report, actor_of(session, author))
        code, task_ids = report.code, [t.id for t in tasks]
        units = sorted(t.org_unit_code for t in tasks)
        actor, viewer = _reader(session, author)
    expected = []
    with district.connect() as conn:
        for task_id in task_ids:
            task, _report, spec = load_task(conn, task_id)
            ctx = make_ctx(conn, specs, task, viewer)
            rows = task_page(ctx, limit=100_000).rows
            unit = unit_label(specs, task.org_unit_code)
            expected += [[unit, *(r.cells[f.name].value for f in spec.fields)] for r in rows]
        report = conn.execute(select(Report).where(Report.code == code)).one()
        table, extracted_units = extracted_table(conn, specs, report, viewer)
        got = [[block.unit, *row] for block in table.blocks for row in zip(*block.columns, strict=True)]
    assert len(expected) > 10 and got == expected
    assert extracted_units == units
    # The files say the same, but for the status column and the data source.
    extracted = _extract(district, specs, code, author, tmp_path / "x.xlsx")
    with Session(district) as session, session.begin():
        report = session.scalar(select(Report).where(Report.code == code))
        live = export_report(
            session.connection(), specs, report, actor, viewer, "xlsx", tmp_path / "d.xlsx", include_open=True
        )
    by_extraction, by_tasks = _sheet(tmp_path / "x.xlsx"), _sheet(tmp_path / "d.xlsx")
    assert extracted == live == len(expected)
    assert by_extraction[0][0] == by_tasks[0][0]
    assert by_extraction[1][0].endswith(f"数据来源：{SOURCE}")
    status = by_tasks[2].index(STATUS_COLUMN)
    assert by_extraction[2:] == [line[:status] + line[status + 1 :] for line in by_tasks[2:]]


def test_an_extract_decided_report_is_masked_scoped_to_its_targets_and_audited(
    district, specs, admit_sample, tmp_path
):
    with Session(district) as session, session.begin():
        report = admit_sample(session, "veteran_roster", "tuiyi", **{"x-targets": [ZHONGSHANLU]})
        code = report.code
    rows = _extract(district, specs, code, "tuiyi", tmp_path / "v.xlsx")
    sheet = _sheet(tmp_path / "v.xlsx")
    with district.connect() as conn:
        spec_titles = column_titles(
            extracted_table(
                conn,
                specs,
                conn.execute(select(Report).where(Report.code == code)).one(),
                Viewer(None, "department"),
            )[0].spec
        )
        entry = conn.execute(select(AuditEntry).where(AuditEntry.action == "report.extract")).one()
        dispatched = conn.scalar(select(Task.id).limit(1))
    assert sheet[2] == [UNIT_COLUMN, *spec_titles]
    assert rows == len(sheet) - 3 > 0
    assert {line[0] for line in sheet[3:]} == {"中山路街道"}
    names = [line[sheet[2].index("姓名")] for line in sheet[3:]]
    assert all("*" in n for n in names if n and len(n) > 1), "names masked for the department"
    assert (entry.target, entry.detail["rows"], entry.detail["units"]) == (code, rows, [ZHONGSHANLU])
    assert dispatched is None, "nothing was dispatched"


def test_only_the_owning_department_extracts_an_admitted_report(district, specs, admit_sample, tmp_path):
    with Session(district) as session, session.begin():
        code = admit_sample(session, "veteran_roster", "tuiyi").code
        draft = create_report(
            session, _reader(session, "tuiyi")[0], {"title": "草稿", "type": "object", "properties": {}}
        ).code
    with pytest.raises(ReportError, match="所属部门"):
        _extract(district, specs, code, "minzheng", tmp_path / "a.xlsx")
    with pytest.raises(ReportError, match="已准入"):
        _extract(district, specs, draft, "tuiyi", tmp_path / "b.xlsx")
    with district.connect() as conn:
        assert conn.scalar(select(AuditEntry.id).where(AuditEntry.action == "report.extract")) is None


def test_csv_extraction_has_the_header_and_rows_only(district, specs, admit_sample, tmp_path):
    import csv

    with Session(district) as session, session.begin():
        code = admit_sample(session, "veteran_roster", "tuiyi").code
    rows = _extract(district, specs, code, "tuiyi", tmp_path / "v.csv", fmt="csv")
    with open(tmp_path / "v.csv", encoding="utf-8-sig", newline="") as handle:
        table = list(csv.reader(handle))
    assert table[0][0] == UNIT_COLUMN and len(table) == rows + 1 > 1


def test_an_aggregate_report_is_extracted_one_row_per_org_unit(
    district, specs, admit_sample, actor_of, load_task, tmp_path
):
    """Counts and sums per township, as the dispatched tasks compute them before any correction."""
    from runtime.tasks.aggregate import unit_rows

    with Session(district) as session, session.begin():
        report = admit_sample(session, "land_transfer_summary", "nongye")
        tasks = dispatch(session, specs, report, actor_of(session, "nongye"))
        code, task_ids = report.code, [t.id for t in tasks]
    by_unit = {}
    with district.connect() as conn:
        for task_id in task_ids:
            task, _report, spec = load_task(conn, task_id)
            filler = Viewer(None, "township", township=task.org_unit_code)
            for row in unit_rows(make_ctx(conn, specs, task, filler)):
                by_unit[unit_label(specs, row.key)] = [row.cells[f.name].value for f in spec.fields]
    rows = _extract(district, specs, code, "nongye", tmp_path / "a.xlsx")
    sheet = _sheet(tmp_path / "a.xlsx")
    assert rows == len(by_unit) == len(sheet) - 3 and sheet[2] == [UNIT_COLUMN, *column_titles(spec)]
    assert any(v for line in by_unit.values() for v in line), "the tiny district has land transfers"
    for line in sheet[3:]:
        assert [v if v != "" else None for v in line[1:]] == by_unit[line[0]]

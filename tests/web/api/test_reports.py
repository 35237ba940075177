"""Reports pull: a department's reports, their tasks' progress, and the submitted rows with the totals.

One database per engine for the module: the tiny demo district with its reports and grants
(`runtime.demo.reports`): 区残联's disability survey dispatched to every township, three of them
submitted; 区民政局's review waiting for admission. 区残联 reads names in clear through its
report's grant and ID numbers masked.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from runtime.demo.grants import load_demo_grants
from runtime.demo.load import seed
from runtime.demo.reports import SUBMITTED, load_demo_reports
from runtime.models import AuditEntry, Report, User
from runtime.reports.export import dispatched_table, load_report, reader
from runtime.reports.specs import report_spec
from runtime.tasks.summary import summarize
from tests.conftest import close_app, drop_database, fresh_database, make_test_app
from tests.web.api.conftest import ApiCaller, make_token

SURVEY = "disability_survey"
REPORTS = "/api/v1/reports"


@pytest.fixture(scope="module")
def reports_app(backend, specs, tmp_path_factory):
    """The app on the tiny demo district with the demo reports (the survey: three townships submitted)."""
    folder = tmp_path_factory.mktemp("reports")
    url, engine = fresh_database(backend, specs, folder, "reports")
    seed(engine, specs, "tiny", 7)
    load_demo_reports(engine, specs)
    load_demo_grants(engine, specs)
    engine.dispose()
    app = make_test_app(url, folder)
    yield app
    close_app(app)
    drop_database(url)


def _engine(app):
    return app.extensions["yibiaotong"]["engine"]


@pytest.fixture(scope="module")
def caller_of(reports_app):
    """Return a caller factory: `caller_of("canlian")` calls as a client system of that department."""
    client = reports_app.test_client()
    return lambda department: ApiCaller(client, make_token(_engine(reports_app), department))


@pytest.fixture(scope="module")
def canlian(caller_of):
    """A client system of 区残联."""
    return caller_of("canlian")


def _all_rows(caller, limit: int) -> tuple[list[dict], dict]:
    """Read every page of the survey's summary; return the rows and the first page."""
    rows, after, first = [], None, None
    for _ in range(1000):
        params = {"limit": limit} | ({"after": after} if after else {})
        response = caller.get(f"{REPORTS}/{SURVEY}/summary", **params)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        first = first or body
        rows += body["rows"]
        after = body["next"]
        if after is None:
            return rows, first
    raise AssertionError("the pages never end")


def test_a_department_lists_its_own_reports_with_task_counts(reports_app, canlian, specs):
    body = canlian.get(REPORTS).get_json()
    with _engine(reports_app).connect() as conn:
        own = set(
            conn.scalars(
                select(Report.code)
                .join(User, User.department_id == Report.department_id)
                .where(User.username == "canlian")
            )
        )
    assert {r["code"] for r in body["reports"]} == own and SURVEY in own
    assert body["next"] is None
    survey = next(r for r in body["reports"] if r["code"] == SURVEY)
    assert (survey["status"], survey["status_label"]) == ("dispatched", "已下派")
    assert survey["ledger"] == "person" and survey["deadline"] and survey["dispatched_at"]
    assert survey["tasks"]["submitted"] == len(SUBMITTED)
    assert survey["tasks"]["total"] == len(specs.townships())


def test_reports_page_after_page(caller_of):
    minzheng = caller_of("minzheng")
    whole = minzheng.get(REPORTS).get_json()["reports"]
    first = minzheng.get(REPORTS, limit=1).get_json()
    assert [r["code"] for r in first["reports"]] == [whole[0]["code"]]
    if len(whole) > 1:
        rest = minzheng.get(REPORTS, after=first["next"]).get_json()["reports"]
        assert [r["code"] for r in rest] == [r["code"] for r in whole[1:]]


def test_a_report_tells_its_fields_and_each_townships_progress(canlian, specs):
    body = canlian.get(f"{REPORTS}/{SURVEY}").get_json()
    assert body["code"] == SURVEY and body["status"] == "dispatched"
    names = {f["name"]: f for f in body["fields"]}
    assert any(f["element"] == "person.id_number" for f in body["fields"])
    assert all(f["title"] for f in names.values())
    progress = {p["org_unit"]: p for p in body["progress"]}
    assert set(progress) == {t.code for t in specs.townships()}
    for code in SUBMITTED:
        line = progress[code]
        assert (line["status"], line["status_label"]) == ("submitted", "已提交")
        assert line["submitted_at"] and line["rows"] is not None and line["gaps"] is not None
        assert line["org_unit_name"] == specs.org_units[code].name
    assert sum(progress[code]["rows"] for code in SUBMITTED) > 0
    others = [p for code, p in progress.items() if code not in SUBMITTED]
    assert all(p["status"] != "submitted" and p["submitted_at"] is None for p in others)


@pytest.mark.parametrize("path", ["", "/summary"])
def test_another_departments_report_is_as_unknown_as_none(caller_of, canlian, path):
    minzheng = caller_of("minzheng")
    theirs = minzheng.get(f"{REPORTS}/{SURVEY}{path}")
    unknown = canlian.get(f"{REPORTS}/no_such_report{path}")
    for response in (theirs, unknown):
        assert response.status_code == 404
        assert response.content_type == "application/problem+json"
        assert response.get_json()["code"] == "report_not_found"
    assert SURVEY not in {r["code"] for r in minzheng.get(REPORTS).get_json()["reports"]}


def test_summary_rows_are_the_submitted_ones_masked_as_the_departments_export(reports_app, canlian, specs):
    rows, first = _all_rows(canlian, limit=7)
    with _engine(reports_app).connect() as conn:
        report = load_report(conn, SURVEY)
        spec = report_spec(conn, specs, report.id, report.version)
        summary = summarize(conn, specs, spec, report)
        user_id = conn.scalar(select(User.id).where(User.username == "canlian"))
        _actor, viewer = reader(conn, user_id)
        table = dispatched_table(conn, specs, report, viewer)
        exported = [list(values) for block in table.blocks for values in zip(*block.columns, strict=True)]
    # As many rows as the summary page counts, none twice, only the submitted townships'.
    assert len(rows) == summary.total.rows == first["totals"]["total"]["rows"] > 7
    assert len({(r["org_unit"], r["ref"]) for r in rows}) == len(rows)
    assert {r["org_unit"] for r in rows} <= set(SUBMITTED)
    assert first["submitted"] == len(SUBMITTED)
    assert [line["org_unit"] for line in first["totals"]["by_unit"]] == sorted(SUBMITTED)
    # Each value as the department's own people get it in the export: ID numbers masked, names clear.
    names = [f.name for f in spec.fields]
    assert [[r["values"][n] for n in names] for r in rows] == exported
    id_field = next(f.name for f in spec.fields if f.element == "person.id_number")
    name_field = next(f.name for f in spec.fields if f.element == "person.name")
    assert all("*" in r["values"][id_field] for r in rows if r["values"][id_field])
    assert any(r["values"][name_field] and "*" not in r["values"][name_field] for r in rows)


def test_one_big_page_equals_many_small_ones(canlian):
    small, _ = _all_rows(canlian, limit=3)
    big, first = _all_rows(canlian, limit=5000)
    assert big == small and first["next"] is None


def test_clear_reads_of_the_summary_are_audited_as_the_clients(reports_app, canlian):
    engine = _engine(reports_app)
    with engine.connect() as conn:
        before = conn.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0
    assert canlian.get(f"{REPORTS}/{SURVEY}/summary", limit=20).status_code == 200
    with engine.connect() as conn:
        read = conn.execute(
            select(AuditEntry.detail).where(AuditEntry.id > before, AuditEntry.action == "read.clear")
        ).all()
    assert read and read[0].detail["via"] == "api" and "person.name" in read[0].detail["elements"]
    assert read[0].detail["client"] == "canlian 测试系统"


def test_an_undispatched_report_has_no_rows(caller_of):
    minzheng = caller_of("minzheng")
    code = minzheng.get(REPORTS).get_json()["reports"][0]["code"]
    body = minzheng.get(f"{REPORTS}/{code}/summary").get_json()
    assert body["rows"] == [] and body["totals"] is None and body["next"] is None


@pytest.mark.parametrize(
    "params", [{"after": "nonsense"}, {"after": "WyJ4Il0"}, {"limit": 0}, {"limit": 5001}, {"limit": "x"}]
)
def test_bad_cursor_or_limit_is_a_problem(canlian, params):
    response = canlian.get(f"{REPORTS}/{SURVEY}/summary", **params)
    assert response.status_code == 422
    assert response.content_type == "application/problem+json"

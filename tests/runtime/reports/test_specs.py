"""The one loader of report specs: a filed version is checked once, a draft every time it is read."""

import json
import shutil
from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from builder.admission.gatekeeping import load_rules
from builder.catalog.specs import load_specs
from builder.reports.spec import ReportRefused
from runtime.accounts.bootstrap import create_administrator, load_org_units
from runtime.clock import local_today
from runtime.db import make_engine, migrate
from runtime.demo.accounts import DEMO_PASSWORD, create_demo_users
from runtime.reports.admission import decide, submit
from runtime.reports.specs import cache_info, document_spec, report_spec, version_spec
from runtime.reports.store import ReportError, create_report, latest_version, save_draft


def survey(title="残疾人康复需求调查表", **properties):
    """Return a small valid report document; keyword arguments add custom fields."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "x-version": 1,
        "x-department": "canlian",
        "x-purpose": "掌握残疾人康复需求，安排年度康复服务",
        "x-basis": "《残疾人保障法》第十五条",
        "x-rows": {"ledger": "person", "filter": []},
        "x-frequency": "once",
        "x-deadline": (local_today() + timedelta(days=30)).isoformat(),
        "x-targets": [],
        "properties": {
            "name": {"x-element": "person.name"},
            "need": {"title": "康复需求", "type": "string", "enum": ["康复训练", "辅助器具", "无"]},
            **properties,
        },
        "required": [],
    }


@pytest.fixture
def session(engine):
    with Session(engine) as session:
        yield session


@pytest.fixture
def file_report(specs, actor_of):
    """Return a function creating a report from a document and filing it for admission."""
    rules = load_rules(specs.root)

    def file(session, document, username="canlian"):
        author = actor_of(session, username)
        report = create_report(session, author, document)
        submit(session, specs, rules, report, author)
        return report

    return file


def statements(engine):
    """Return a list that counts the SQL statements run on `engine` from now on."""
    seen = []
    event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_filed_version_is_checked_once_and_read_without_a_query(session, engine, specs, file_report):
    report = file_report(session, survey())
    before = cache_info()
    first = report_spec(session, specs, report.id, 1)
    ran = statements(engine)
    again = report_spec(session, specs, report.id, 1)
    after = cache_info()
    assert again is first
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 1)
    assert ran == [], "the cached spec needs no statement"
    assert (first.code, first.version, first.title) == (report.code, 1, "残疾人康复需求调查表")


def test_another_version_or_report_gets_its_own_spec(session, specs, file_report, actor_of):
    canlian, rules = actor_of(session, "canlian"), load_rules(specs.root)
    report = create_report(session, canlian, survey())
    filed = submit(session, specs, rules, report, canlian)
    first = report_spec(session, specs, report.id, 1)
    decide(session, filed, actor_of(session, "reviewer"), "return", "请补充联系电话")
    save_draft(session, report, canlian, survey(phone={"x-element": "person.phone"}), version=1, edits=0)
    submit(session, specs, rules, report, canlian)
    second = report_spec(session, specs, report.id, 2)
    other = report_spec(session, specs, file_report(session, survey("低保对象核查表")).id, 1)
    assert [f.name for f in first.fields] == ["name", "need"]
    assert [f.name for f in second.fields] == ["name", "need", "phone"] and second.version == 2
    assert other.title == "低保对象核查表" and other.code != first.code
    assert report_spec(session, specs, report.id, 1) is first


def test_a_draft_is_read_afresh_after_each_save(session, specs, actor_of):
    canlian = actor_of(session, "canlian")
    report = create_report(session, canlian, survey())
    before = cache_info()
    assert report_spec(session, specs, report.id, 1).title == "残疾人康复需求调查表"
    save_draft(session, report, canlian, survey("改名后的调查表"), version=1, edits=0)
    assert report_spec(session, specs, report.id, 1).title == "改名后的调查表"
    assert cache_info().misses == before.misses, "a draft is never kept"


def test_a_broken_draft_is_refused_and_a_missing_version_is_an_error(session, specs, actor_of):
    report = create_report(session, actor_of(session, "canlian"), survey(bad={"x-element": "person.no_such"}))
    with pytest.raises(ReportRefused):
        report_spec(session, specs, report.id, 1)
    with pytest.raises(ReportError, match="没有第 2 版"):
        report_spec(session, specs, report.id, 2)


def test_another_spec_set_gets_a_spec_bound_to_its_own_catalog(session, specs, file_report):
    report = file_report(session, survey())
    first = report_spec(session, specs, report.id, 1)
    other_specs = load_specs(specs.root)
    other = report_spec(session, other_specs, report.id, 1)
    assert other is not first and other == first
    assert report_spec(session, other_specs, report.id, 1) is other


def test_the_same_report_id_in_another_database_is_not_mistaken(session, specs, file_report, tmp_path):
    report = file_report(session, survey())
    assert report_spec(session, specs, report.id, 1).title == "残疾人康复需求调查表"
    other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    migrate(other)
    try:
        with Session(other) as elsewhere, elsewhere.begin():
            load_org_units(elsewhere, specs)
            create_administrator(elsewhere, DEMO_PASSWORD)
            create_demo_users(elsewhere, specs)
        with Session(other) as elsewhere:
            twin = file_report(elsewhere, survey("另一个数据库里的调查表"))
            assert (twin.id, twin.version) == (report.id, 1)
            assert report_spec(elsewhere, specs, twin.id, 1).title == "另一个数据库里的调查表"
            stored = latest_version(elsewhere, twin)
            assert version_spec(elsewhere, specs, stored) is report_spec(elsewhere, specs, twin.id, 1)
    finally:
        other.dispose()
    assert report_spec(session, specs, report.id, 1).title == "残疾人康复需求调查表"


def test_specs_are_checked_against_the_configured_folders_meta_schema(specs, tmp_path):
    root = tmp_path / "form_specs"
    shutil.copytree(specs.root, root)
    meta_path = root / "meta" / "report.schema.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["properties"]["title"]["maxLength"] = 5
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    document = {**survey(), "x-report": "rehab_needs"}
    assert document_spec(specs, document).title == "残疾人康复需求调查表"
    with pytest.raises(ReportRefused, match="名称"):
        document_spec(load_specs(root), document)

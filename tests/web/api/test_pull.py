"""Pulls: records page after page and changes after a cursor, as the client's department sees them.

One database per engine for the module: the tiny district, with 区残联 granted 区民政局's
救助类别 (person.assistance_type) in clear in 中山路街道 only. 区残联 owns the disability elements
(clear), sees names and ID numbers masked, and 健康状况 (有条件共享, not granted) not at all.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select, update

from runtime.demo.load import seed
from runtime.demo.report_grants import grant_elements
from runtime.ledgers.store import DISTRICT, Provenance, get_by_key, update_record
from runtime.models import AuditEntry, Department, FeedEvent, Grant, Record
from tests.conftest import close_app, drop_database, fresh_database, make_test_app
from tests.web.api.conftest import ApiCaller, make_token

#: The township where the grant makes 救助类别 clear, and one where it does not.
GRANTED, OTHER = "500118001", "500118002"
RECORDS = "/api/v1/ledgers/person/records"
CHANGES = "/api/v1/ledgers/person/changes"


@pytest.fixture(scope="module")
def pull_app(backend, specs, tmp_path_factory):
    """The app on a writable tiny district where 区残联 holds a township-bound clear grant."""
    folder = tmp_path_factory.mktemp("pull")
    url, engine = fresh_database(backend, specs, folder, "pull")
    seed(engine, specs, "tiny", 7)
    with engine.begin() as conn:
        canlian = conn.scalar(select(Department.id).where(Department.code == "canlian"))
        ids = grant_elements(
            conn,
            specs,
            canlian,
            ["person.assistance_type"],
            "残疾人救助核对",
            clear=["person.assistance_type"],
        )
        conn.execute(update(Grant).where(Grant.id.in_(ids)).values(granted_townships=[GRANTED]))
    engine.dispose()
    app = make_test_app(url, folder)
    yield app
    close_app(app)
    drop_database(url)


@pytest.fixture(scope="module")
def canlian(pull_app):
    """A client system of 区残联."""
    engine = pull_app.extensions["yibiaotong"]["engine"]
    return ApiCaller(pull_app.test_client(), make_token(engine, "canlian"))


def _engine(app):
    return app.extensions["yibiaotong"]["engine"]


def _all(caller, **params):
    records, after, pages = [], None, 0
    while True:
        body = caller.get(RECORDS, **params, **({"after": after} if after else {})).get_json()
        records += body["records"]
        pages += 1
        after = body["next"]
        if after is None:
            return records, pages


def _change(engine, specs, key: str, **values) -> None:
    ledger = specs.ledgers["person"]
    with engine.begin() as conn:
        record = get_by_key(conn, ledger, key)
        update_record(
            conn, ledger, record["_id"], record["_version"], values, Provenance("sync"), scope=DISTRICT
        )


# --- records -------------------------------------------------------------------------------


def test_pages_follow_one_another_without_gap_or_repeat(pull_app, canlian):
    with _engine(pull_app).connect() as conn:
        total = conn.scalar(select(Record.id).where(Record.ledger == "person").order_by(Record.id.desc()))
        ids = set(conn.scalars(select(Record.id).where(Record.ledger == "person")))
    records, pages = _all(canlian, limit=37)
    assert [r["id"] for r in records] == sorted(
        {r["id"] for r in records}, key=lambda i: [x["id"] for x in records].index(i)
    )
    assert {r["id"] for r in records} == ids and len(records) == len(ids) and total
    assert pages == -(-len(ids) // 37) or pages == len(ids) // 37 + 1
    order = [(r["township"], r["id"]) for r in records]
    assert order == sorted(order)


def test_values_are_clear_masked_or_left_out_as_the_grants_say(canlian):
    granted = canlian.get(RECORDS, township=GRANTED, limit=200).get_json()["records"]
    other = canlian.get(RECORDS, township=OTHER, limit=200).get_json()["records"]
    assert granted and other
    for record in granted + other:
        values = record["values"]
        assert "health_status" not in values and "bank_account" not in values  # hidden: left out
        assert values["id_number"].startswith("**************") and record["key"] == values["id_number"]
        assert "*" in values["name"]
    # 救助类别 in clear where granted, absent elsewhere; the department's own elements in clear.
    assert any(r["values"].get("assistance_type") for r in granted)
    assert not any("assistance_type" in r["values"] for r in other)
    assert not any("*" in str(r["values"].get("disability_category", "")) for r in granted + other)


def test_chosen_fields_and_refused_ones(canlian):
    body = canlian.get(RECORDS, fields="name,gender", limit=3).get_json()
    assert all(set(r["values"]) <= {"name", "gender"} for r in body["records"])
    for fields in ("health_status", "nope,name"):
        refused = canlian.get(RECORDS, fields=fields)
        assert refused.status_code == 422 and refused.get_json()["code"] == "fields_unknown"
        assert fields.split(",")[0] in refused.get_json()["detail"]


def test_filters_only_on_values_seen_in_clear(canlian):
    women = canlian.get(RECORDS, **{"filter[gender]": "女"}, limit=100).get_json()["records"]
    assert women and all(r["values"]["gender"] == "女" for r in women)
    assert canlian.get(RECORDS, is_veteran="maybe").get_json()["code"] == "filter_value_invalid"
    # A masked name, a hidden element, a value clear only in one township: not without that township.
    for params in ({"name": "张"}, {"filter[health_status]": "良好"}, {"assistance_type": "低保"}):
        refused = canlian.get(RECORDS, **params)
        assert refused.status_code == 422, params
        assert refused.get_json()["code"] in ("filter_not_clear", "fields_unknown")
    within = canlian.get(RECORDS, township=GRANTED, assistance_type="低保")
    assert within.status_code == 200
    assert all(r["values"]["assistance_type"] == "低保" for r in within.get_json()["records"])


def test_bad_cursor_limit_and_ledger_are_problems(canlian):
    for params, status in (
        ({"after": "abc"}, 422),
        ({"limit": 0}, 422),
        ({"limit": 5001}, 422),
        ({"township": "x"}, 422),
    ):
        response = canlian.get(RECORDS, **params)
        assert response.status_code == status, params
        assert response.content_type == "application/problem+json"
    assert canlian.get("/api/v1/ledgers/nope/records").status_code == 404


def test_a_pull_is_logged_as_a_feed_and_clear_reads_are_audited(pull_app, canlian):
    engine = _engine(pull_app)
    with engine.connect() as conn:
        before = conn.scalar(select(FeedEvent.id).order_by(FeedEvent.id.desc())) or 0
        audits = conn.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc())) or 0
    body = canlian.get(RECORDS, township=GRANTED, limit=10).get_json()
    with engine.connect() as conn:
        feed = conn.execute(select(FeedEvent.kind, FeedEvent.rows).where(FeedEvent.id > before)).all()
        read = conn.execute(
            select(AuditEntry.action, AuditEntry.detail).where(
                AuditEntry.id > audits, AuditEntry.action == "read.clear"
            )
        ).all()
    assert feed == [("pull", len(body["records"]))]
    assert read and read[0].detail["via"] == "api" and "person.assistance_type" in read[0].detail["elements"]
    assert read[0].detail["client"] == "canlian 测试系统"


# --- changes -------------------------------------------------------------------------------


def _changes(caller, cursor, expected: int = 0):
    """Read changes until none are left; wait (up to a minute) for `expected` of them.

    On PostgreSQL the cursor stops below the oldest transaction running anywhere on the server
    (transaction ids are the server's): another database's long transaction delays, never drops.
    """
    found, more, waited = [], True, 0.0
    while more or (len(found) < expected and waited < 60):
        if not more:
            time.sleep(0.5)
            waited += 0.5
        body = caller.get(CHANGES, cursor=cursor, limit=50).get_json()
        found += body["changes"]
        cursor, more = body["next_cursor"], body["more"]
    return found, cursor


def test_changes_from_the_beginning_mirror_every_visible_version(pull_app, canlian):
    first = canlian.get(CHANGES, limit=5).get_json()
    for _ in range(120):  # see `_changes`: wait out a long transaction elsewhere on the server
        if first["changes"]:
            break
        time.sleep(0.5)
        first = canlian.get(CHANGES, limit=5).get_json()
    assert first["more"] is True and len(first["changes"]) == 5
    assert all(c["version"] == 1 and c["source"] == "演示数据生成" for c in first["changes"])
    again = canlian.get(CHANGES, cursor=first["next_cursor"], limit=5).get_json()
    assert not {c["id"] for c in first["changes"]} & {c["id"] for c in again["changes"]}


def test_changes_after_now_bring_each_new_version_once_masked_as_granted(pull_app, canlian, specs):
    engine = _engine(pull_app)
    cursor = canlian.get(CHANGES + "/head").get_json()["cursor"]
    assert canlian.get(CHANGES, cursor=cursor).get_json()["changes"] == []
    with engine.connect() as conn:
        keys = dict(
            conn.execute(
                select(Record.township_code, Record.key)
                .where(Record.ledger == "person", Record.township_code.in_([GRANTED, OTHER]))
                .order_by(Record.id.desc())
            ).all()
        )
    _change(engine, specs, keys[GRANTED], assistance_type="特困", health_status="残疾", name="王五")
    _change(engine, specs, keys[OTHER], assistance_type="特困", disability_category="视力")
    _change(engine, specs, keys[OTHER], health_status="残疾")  # nothing 区残联 may see: passed over
    found, cursor = _changes(canlian, cursor, 2)
    assert [c["township"] for c in found] == [GRANTED, OTHER]
    granted, other = found
    assert granted["values"] == {"assistance_type": "特困", "name": "王*"}
    assert other["values"] == {"disability_category": "视力"}  # 救助类别 hidden outside the grant
    assert granted["key"].startswith("**************")
    assert canlian.get(CHANGES, cursor=cursor).get_json()["changes"] == []


def test_a_bad_cursor_is_a_problem(canlian):
    for cursor in ("zzz", "WyJwIiwxXQ", "bm93"):
        response = canlian.get(CHANGES, cursor=cursor)
        assert response.status_code == 422 and response.get_json()["code"] == "cursor_invalid"


def test_a_version_committed_late_is_delivered_once(pull_app, canlian, specs, backend):
    """A transaction that wrote first but commits last is neither skipped nor repeated.

    On PostgreSQL the first writer draws the smaller version id and commits after the second;
    on SQLite writers take turns, so ids follow commit order (shown by the same reading).
    """
    engine = _engine(pull_app)
    ledger = specs.ledgers["person"]
    cursor = canlian.get(CHANGES, cursor="now").get_json()["next_cursor"]
    with engine.connect() as conn:
        first, second = conn.scalars(
            select(Record.key).where(Record.ledger == "person").order_by(Record.id).limit(2)
        ).all()
    if backend == "postgresql":
        slow = engine.connect()
        slow.begin()
        record = get_by_key(slow, ledger, first)
        update_record(
            slow,
            ledger,
            record["_id"],
            record["_version"],
            {"disability_grade": "一级"},
            Provenance("sync"),
            scope=DISTRICT,
        )
        _change(engine, specs, second, disability_grade="二级")  # commits while `slow` is open
        early, cursor = _changes(canlian, cursor)
        assert early == []  # the later commit waits for the earlier transaction to end
        slow.commit()
        slow.close()
    else:
        _change(engine, specs, first, disability_grade="一级")
        _change(engine, specs, second, disability_grade="二级")
    found, cursor = _changes(canlian, cursor, 2)
    assert [c["values"] for c in found] == [{"disability_grade": "一级"}, {"disability_grade": "二级"}]
    assert _changes(canlian, cursor)[0] == []

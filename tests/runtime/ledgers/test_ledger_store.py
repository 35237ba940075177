"""The ledger store: versions, provenance, idempotent upserts, stale edits, scoped reads."""

import pytest
from sqlalchemy import func, select

from runtime.ledgers.store import (
    Provenance,
    Query,
    Scope,
    StaleRecord,
    count,
    get_by_key,
    history,
    ledger_counts,
    page,
    update_record,
    upsert,
    value_sources,
)
from runtime.models import RecordVersion
from runtime.org_scope import DISTRICT, FOREIGN_VILLAGE, MOVED_TOWNSHIP, MOVED_VILLAGE, NOT_YOURS, OutOfScope


@pytest.fixture
def persons(specs):
    return specs.ledgers["person"]


def test_upsert_creates_records_each_with_a_creating_version(engine, persons, make_person):
    rows = [make_person(), make_person(phone="13800000000")]
    with engine.begin() as conn:
        counts = upsert(conn, persons, rows, Provenance("import", "a.csv"), scope=DISTRICT)
    assert (counts.created, counts.updated, counts.unchanged) == (2, 0, 0)
    with engine.connect() as conn:
        record = get_by_key(conn, persons, rows[1]["id_number"])
        versions = history(conn, record["_id"])
    assert record["phone"] == "13800000000"
    assert record["_version"] == 1
    assert [(v["version"], v["old"], v["source"], v["source_ref"]) for v in versions] == [
        (1, None, "import", "a.csv")
    ]
    assert versions[0]["new"]["phone"] == "13800000000"


def test_reimporting_the_same_rows_writes_nothing(engine, persons, make_person):
    rows = [make_person(), make_person()]
    with engine.begin() as conn:
        upsert(conn, persons, rows, Provenance("import"), scope=DISTRICT)
    with engine.begin() as conn:
        counts = upsert(conn, persons, rows, Provenance("import"), scope=DISTRICT)
    with engine.connect() as conn:
        versions = conn.execute(select(func.count()).select_from(RecordVersion)).scalar_one()
    assert (counts.created, counts.updated, counts.unchanged) == (0, 0, 2)
    assert versions == 2


def test_a_changed_value_makes_a_version_with_old_and_new(engine, persons, make_person):
    row = make_person(phone="13800000000")
    with engine.begin() as conn:
        upsert(conn, persons, [row], Provenance("seed"), scope=DISTRICT)
    changed = {"id_number": row["id_number"], "phone": "13900000000", "education": "高中"}
    with engine.begin() as conn:
        counts = upsert(conn, persons, [changed], Provenance("import", "b.xlsx", actor_id=2), scope=DISTRICT)
    with engine.connect() as conn:
        record = get_by_key(conn, persons, row["id_number"])
        versions = history(conn, record["_id"])
    assert counts.updated == 1
    assert record["_version"] == 2
    assert record["name"] == row["name"], "fields missing from the import are kept"
    newest = versions[0]
    assert newest["old"] == {"phone": "13800000000", "education": None}
    assert newest["new"] == {"phone": "13900000000", "education": "高中"}
    sources = value_sources(versions)
    assert sources["phone"]["source_ref"] == "b.xlsx"
    assert sources["name"]["source"] == "seed"


def test_edit_with_a_stale_version_is_refused(engine, persons, make_person):
    row = make_person()
    with engine.begin() as conn:
        upsert(conn, persons, [row], Provenance("seed"), scope=DISTRICT)
        rid = get_by_key(conn, persons, row["id_number"])["_id"]
    with engine.begin() as conn:
        assert (
            update_record(conn, persons, rid, 1, {"phone": "13700000000"}, Provenance("edit"), scope=DISTRICT)
            == 2
        )
    with engine.begin() as conn, pytest.raises(StaleRecord):
        update_record(conn, persons, rid, 1, {"phone": "13600000000"}, Provenance("edit"), scope=DISTRICT)
    with engine.begin() as conn:
        update_record(conn, persons, rid, 2, {"phone": None}, Provenance("edit"), scope=DISTRICT)
    with engine.connect() as conn:
        record = get_by_key(conn, persons, row["id_number"])
        versions = history(conn, rid)
    assert "phone" not in record
    assert versions[0]["old"] == {"phone": "13700000000"}
    assert versions[0]["new"] == {"phone": None}


ZS, ZS_V, ZS_V2 = "500118001", "500118001001", "500118001002"
SL, SL_V = "500118002", "500118002001"


def test_a_scoped_writer_keeps_records_in_her_org_units(engine, persons, make_person):
    """A village keeps its records in the village, a township in the township; the district moves them."""
    mine, theirs = make_person(), make_person(township_code=SL, village_code=SL_V)
    with engine.begin() as conn:
        upsert(conn, persons, [mine, theirs], Provenance("seed"), scope=DISTRICT)
        ids = {p["id_number"]: get_by_key(conn, persons, p["id_number"])["_id"] for p in (mine, theirs)}
    village, township = Scope(ZS, ZS_V), Scope(ZS)
    refused = [
        (village, mine, {"village_code": ZS_V2}, {"village_code": MOVED_VILLAGE}),
        (
            village,
            mine,
            {"township_code": SL, "village_code": SL_V},
            {"township_code": MOVED_TOWNSHIP, "village_code": MOVED_VILLAGE},
        ),
        (
            township,
            mine,
            {"township_code": SL, "village_code": SL_V},
            {"township_code": MOVED_TOWNSHIP, "village_code": FOREIGN_VILLAGE},
        ),
        (township, mine, {"village_code": SL_V}, {"village_code": FOREIGN_VILLAGE}),
        (township, theirs, {"phone": "13700000000"}, {"township_code": NOT_YOURS}),
    ]
    for scope, person, changes, errors in refused:
        with engine.begin() as conn, pytest.raises(OutOfScope) as caught:
            update_record(
                conn, persons, ids[person["id_number"]], 1, changes, Provenance("visit"), scope=scope
            )
        assert caught.value.errors == errors
        with engine.begin() as conn, pytest.raises(OutOfScope):  # the bulk path says the same
            upsert(
                conn,
                persons,
                [{"id_number": person["id_number"], **changes}],
                Provenance("writeback"),
                scope=scope,
            )
    with engine.begin() as conn, pytest.raises(OutOfScope):  # nor does it make records elsewhere
        upsert(
            conn,
            persons,
            [make_person(township_code=SL, village_code=SL_V)],
            Provenance("writeback"),
            scope=township,
        )
    with engine.connect() as conn:
        assert [get_by_key(conn, persons, p["id_number"])["_version"] for p in (mine, theirs)] == [1, 1]
        assert count(conn, Query(persons)) == 2
    with engine.begin() as conn:
        assert (
            update_record(
                conn,
                persons,
                ids[mine["id_number"]],
                1,
                {"phone": "13700000000"},
                Provenance("visit"),
                scope=village,
            )
            == 2
        )
        assert (
            update_record(
                conn,
                persons,
                ids[mine["id_number"]],
                2,
                {"village_code": ZS_V2},
                Provenance("edit"),
                scope=township,
            )
            == 3
        )
        assert (
            update_record(
                conn,
                persons,
                ids[mine["id_number"]],
                3,
                {"township_code": SL, "village_code": SL_V},
                Provenance("edit"),
                scope=DISTRICT,
            )
            == 4
        )
        assert get_by_key(conn, persons, mine["id_number"])["_township"] == SL


def test_reads_are_scoped_and_filtered(engine, persons, make_person):
    rows = [
        make_person(),
        make_person(gender="女", birth_date="1985-03-15"),
        make_person(township_code="500118108", village_code="500118108001"),
    ]
    rows[1]["id_number"] = rows[1]["id_number"][:16] + "2" + rows[1]["id_number"][17:]
    with engine.begin() as conn:
        upsert(conn, persons, rows, Provenance("seed"), scope=DISTRICT)
    with engine.connect() as conn:
        own = page(conn, Query(persons, Scope(township="500118001")))
        other = page(
            conn, Query(persons, Scope(township="500118001"), filters=(("township_code", "500118108"),))
        )
        women = count(conn, Query(persons, filters=(("gender", "女"),)))
        by_name = page(conn, Query(persons, search=rows[2]["name"]))
        counts = ledger_counts(conn, Scope(township="500118108"))
    assert {r["township_code"] for r in own} == {"500118001"}
    assert other == [], "a filter never widens the scope"
    assert women == 1
    assert [r["_key"] for r in by_name] == [rows[2]["id_number"]]
    assert counts == {"person": 1}


def test_keyset_pages_cover_every_record_once(engine, persons, make_person):
    rows = [make_person() for _ in range(7)]
    with engine.begin() as conn:
        upsert(conn, persons, rows, Provenance("seed"), scope=DISTRICT)
    seen, after = [], None
    with engine.connect() as conn:
        while batch := page(conn, Query(persons), after=after, limit=3):
            seen.extend(r["_key"] for r in batch)
            after = (batch[-1]["_township"], batch[-1]["_id"])
        back = page(conn, Query(persons), before=after, limit=3)
    assert sorted(seen) == sorted(r["id_number"] for r in rows)
    assert [r["_key"] for r in back] == seen[-4:-1]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (("phone", "present", None), {"a", "b"}),
        (("phone", "absent", None), {"c"}),
        (("disability_grade", "eq", "一级"), {"a"}),
        (("disability_grade", "ne", "一级"), {"b", "c"}),
        (("disability_grade", "in", ["一级", "二级"]), {"a", "b"}),
        (("disability_grade", "not_in", ["一级"]), {"b", "c"}),
        (("is_veteran", "eq", True), {"b"}),
        (("birth_date", "gte", "1990-01-01"), {"b", "c"}),
        (("birth_date", "lt", "1990-01-01"), {"a"}),
    ],
)
def test_report_filter_conditions(engine, persons, make_person, condition, expected):
    rows = {
        "a": make_person(phone="13800000001", disability_grade="一级", birth_date="1985-03-15"),
        "b": make_person(
            phone="13800000002",
            disability_grade="二级",
            is_veteran=True,
            birth_date="1995-03-15",
            id_number=None,
        ),
        "c": make_person(birth_date="2001-03-15", id_number=None, is_veteran=False),
    }
    from builder.checkdigits import id_check_char

    for name, first17 in (("b", "50011819950315901"), ("c", "50011820010315903")):
        rows[name]["id_number"] = first17 + id_check_char(first17)
    with engine.begin() as conn:
        upsert(conn, persons, list(rows.values()), Provenance("import", "t.csv"), scope=DISTRICT)
        found = {r["_key"] for r in page(conn, Query(persons, conditions=(condition,)), limit=50)}
    assert found == {rows[name]["id_number"] for name in expected}

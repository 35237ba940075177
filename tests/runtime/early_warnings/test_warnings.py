"""Early warnings over small fixed ledgers: each shipped rule both ways, scope, masking, the cache,
the counts kept in the database and the job that counts ahead."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from builder.checkdigits import uscc_check_char
from builder.early_warnings.rules import WarningRuleSet, build_rules, load_warning_rules
from runtime.access import Viewer
from runtime.cli import main
from runtime.early_warnings import flags as warnings
from runtime.jobs import runner as jobs
from runtime.ledgers.store import Provenance, update_record, upsert
from runtime.models import Record, WarningCount
from runtime.org_scope import DISTRICT
from tests.conftest import SPECS_ROOT, make_id_number

ZS, SL = "500118001", "500118002"  # 中山路街道, 胜利路街道
ZS_V, SL_V = "500118001001", "500118002001"
KEEPER = Viewer(None, "keeper")
LEADER = Viewer(None, "leader")
NOW = datetime(2026, 11, 20, 4, 0)


@pytest.fixture
def rules(specs):
    """The shipped warning rules."""
    return load_warning_rules(SPECS_ROOT, specs)


def only(rules: WarningRuleSet, code: str, **params) -> WarningRuleSet:
    """Return a rule set of one shipped rule, its params overridden."""
    rule = rules.get(code)
    if params:
        rule = dataclasses.replace(rule, params={**rule.params, **params})
    return WarningRuleSet(rules.title, (rule,))


def store(engine, specs, ledger: str, rows: list[dict], at: datetime | None = None) -> None:
    """Write rows into a ledger through the store."""
    prov = Provenance("import", at=at) if at else Provenance("import")
    with engine.begin() as conn:
        upsert(conn, specs.ledgers[ledger], rows, prov, scope=DISTRICT)


def land(n: int, village: str = ZS_V, **fields) -> dict:
    """Return a land parcel of `village`; keyword arguments add or override fields."""
    return {
        "parcel_code": f"{village}{n:07d}",
        "location": f"{n}号地块",
        "township_code": village[:9],
        "village_code": village,
        "contractor_name": "李四",
        "contract_area_mu": 5.0,
        **fields,
    }


def transfer(n: int, area: float, arrears: float, village: str = ZS_V) -> dict:
    """Return a transferred parcel."""
    return land(
        n,
        village,
        is_transferred=True,
        transferee_name="永川丰收农业有限公司",
        transfer_area_mu=area,
        contract_area_mu=area,
        transfer_price=600,
        rent_arrears=arrears,
    )


def codes_of(engine, specs, rule_set: WarningRuleSet, township: str, viewer=KEEPER, now=None):
    """Return the keys of the records the one rule of `rule_set` flags in a township."""
    with engine.connect() as conn:
        found = warnings.matches(conn, specs, rule_set.rules[0], township, viewer, now=now)
    return found.rows


def counts(engine, specs, rule_set: WarningRuleSet, viewer=KEEPER, now=None) -> dict[str, int]:
    """Return the per-township counts of the one rule of `rule_set`."""
    with engine.connect() as conn:
        tally = warnings.tally(conn, specs, rule_set, viewer, now=now)
    return tally.counts[rule_set.rules[0].code]


def test_rent_arrears_flags_transferred_parcels_owing_rent(engine, specs, rules):
    store(
        engine,
        specs,
        "land",
        [
            transfer(1, 12.5, 1800.0),
            transfer(2, 30, 0),
            land(3, rent_arrears=500.0),
            transfer(4, 8, 90.0, SL_V),
        ],
    )
    rule = only(rules, "land_rent_arrears")
    assert counts(engine, specs, rule) == {ZS: 1, SL: 1}
    rows = codes_of(engine, specs, rule, ZS)
    assert [r["key"] for r in rows] == [f"{ZS_V}0000001"]
    assert "拖欠租金 1800 元" in rows[0]["message"] and "永川丰收农业有限公司" in rows[0]["message"]


def test_large_transfer_threshold_is_inclusive_and_a_parameter(engine, specs, rules):
    store(engine, specs, "land", [transfer(1, 200, 0), transfer(2, 199.5, 0), land(3, contract_area_mu=300)])
    shipped = only(rules, "land_large_transfer")
    assert [r["key"] for r in codes_of(engine, specs, shipped, ZS)] == [f"{ZS_V}0000001"]
    assert "达到 200 亩的预警线" in codes_of(engine, specs, shipped, ZS)[0]["message"]
    lowered = [
        dict(c, value=150) if c["field"] == "transfer_area_mu" else c
        for c in shipped.rules[0].params["conditions"]
    ]
    from builder.early_warnings.rules import Condition

    rule = dataclasses.replace(
        shipped.rules[0],
        code="land_large_150",
        conditions=tuple(Condition(c["field"], c["op"], c.get("value"), c.get("name")) for c in lowered),
    )
    assert counts(engine, specs, WarningRuleSet("t", (rule,))) == {ZS: 2}


def test_invalid_id_numbers_are_flagged_and_valid_ones_are_not(engine, specs, rules, make_person):
    good = make_person()
    bad_key = good["id_number"][:17] + ("0" if good["id_number"][17] != "0" else "1")
    store(
        engine,
        specs,
        "person",
        [
            good,
            make_person(id_number=bad_key),
            make_person(id_number="50011819850315123", township_code=SL, village_code=SL_V),
        ],
    )
    rule = only(rules, "person_id_check_digit")
    assert counts(engine, specs, rule) == {ZS: 1, SL: 1}
    rows = codes_of(engine, specs, rule, ZS)
    assert len(rows) == 1 and rows[0]["key"] == "*" * 14 + bad_key[-4:]
    assert rows[0]["message"].startswith("公民身份号码校验位错误：")
    assert "应为18位" in codes_of(engine, specs, rule, SL)[0]["message"]


def test_invalid_credit_codes_are_flagged(engine, specs, rules):
    first17 = "91500118MA5U7XQ1P"
    valid = first17 + uscc_check_char(first17)
    wrong = first17 + ("0" if valid[-1] != "0" else "1")
    store(
        engine,
        specs,
        "enterprise",
        [
            {"uscc": valid, "name": "永川甲公司", "township_code": ZS},
            {"uscc": wrong, "name": "永川乙公司", "township_code": ZS},
        ],
    )
    rows = codes_of(engine, specs, only(rules, "enterprise_uscc_check_digit"), ZS)
    assert [r["label"] for r in rows] == ["永川乙公司"]
    assert "统一社会信用代码校验位错误" in rows[0]["message"]


def test_check_digit_results_follow_later_edits(engine, specs, rules, make_person):
    """The cached result re-checks the records changed since, both ways."""
    cert = make_id_number("19700101", 11) + "42"
    store(engine, specs, "person", [make_person(disability_cert_no=cert[:-1] + "9")])
    rule = only(rules, "person_disability_cert_check_digit")
    assert counts(engine, specs, rule) == {ZS: 1}
    with engine.begin() as conn:
        record = conn.execute(Record.__table__.select().where(Record.ledger == "person")).one()
        update_record(
            conn,
            specs.ledgers["person"],
            record.id,
            record.version,
            {"disability_cert_no": cert},
            Provenance("edit"),
            scope=DISTRICT,
        )
    assert counts(engine, specs, rule) == {}
    store(engine, specs, "person", [make_person(disability_cert_no=12345)])  # a number from an old system
    assert counts(engine, specs, rule) == {ZS: 1}


def test_a_household_head_registered_in_two_townships_is_a_duplicate(engine, specs, rules):
    twice, once, local = (make_id_number("19600101", s) for s in (11, 13, 15))

    def household(no: str, head: str, village: str) -> dict:
        return {
            "household_no": no,
            "head_name": "王五",
            "head_id_number": head,
            "township_code": village[:9],
            "village_code": village,
        }

    store(
        engine,
        specs,
        "household",
        [
            household("H1", twice, ZS_V),
            household("H2", twice, SL_V),
            household("H3", once, ZS_V),
            household("H4", local, ZS_V),
            household("H5", local, "500118001002"),
        ],
    )
    rule = only(rules, "household_head_duplicate")
    assert counts(engine, specs, rule) == {ZS: 1, SL: 1}, "the same township twice is not across townships"
    rows = codes_of(engine, specs, rule, ZS)
    assert [r["key"] for r in rows] == ["H1"]
    assert "还登记在胜利路街道的 1 户家庭中" in rows[0]["message"]
    assert "中山路街道" in codes_of(engine, specs, rule, SL)[0]["message"]
    township = codes_of(engine, specs, rule, ZS, viewer=Viewer(None, "township", township=ZS))
    assert "还登记在其他镇街的 1 户家庭中" in township[0]["message"], "a township is never told where"
    assert "胜利路街道" not in township[0]["message"]


def test_stale_records_are_those_holding_a_field_overdue_for_its_frequency(engine, specs, rules, make_person):
    old, fresh, synced = (make_person(health_status="健康"), make_person(health_status="一般"), make_person())
    store(engine, specs, "person", [old, fresh, synced])
    with engine.begin() as conn:
        for person, days in ((old, 101), (fresh, 20), (synced, 400)):
            conn.execute(
                update(Record)
                .where(Record.key == person["id_number"])
                .values(updated_at=NOW - timedelta(days=days))
            )
    rule = only(rules, "person_stale")
    assert counts(engine, specs, rule, now=NOW) == {ZS: 1}, "户籍系统 fields are kept by their sync"
    rows = codes_of(engine, specs, rule, ZS, now=NOW)
    assert rows[0]["message"].startswith("最近一次更新在 2026年8月11日（101 天前），“健康状况”应每季度更新")
    everything = only(rules, "person_stale", sources=None)
    assert counts(engine, specs, everything, now=NOW) == {ZS: 3}, "with every source, 每日 fields count"


def test_a_stale_message_names_the_sources_and_the_client_systems_feeding_them(
    engine, specs, rules, make_person
):
    from runtime.exchange.clients import register_client
    from runtime.models import Department

    old = make_person(health_status="健康", marital_status="已婚")
    store(engine, specs, "person", [old])
    with engine.begin() as conn:
        conn.execute(update(Record).values(updated_at=NOW - timedelta(days=101)))
    message = codes_of(engine, specs, only(rules, "person_stale"), ZS, now=NOW)[0]["message"]
    assert "“健康状况”应每季度更新，来源：村（社区）采集。" in message
    everything = only(rules, "person_stale", sources=None)
    assert "来源：区公安分局户籍系统、" in codes_of(engine, specs, everything, ZS, now=NOW)[0]["message"]
    with engine.begin() as conn:
        gongan = conn.scalar(select(Department.id).where(Department.code == "gongan"))
        register_client(
            conn, name="区公安分局户籍系统", department_id=gongan, system="区公安分局户籍系统", actor_id=None
        )
        register_client(conn, name="人口库前置机", department_id=gongan, system="市级平台IRS", actor_id=None)
    message = codes_of(engine, specs, everything, ZS, now=NOW)[0]["message"]
    assert "来源：区公安分局户籍系统（已接入）、" in message
    assert "市级平台IRS（对接系统：人口库前置机）" in message


def test_a_township_sees_only_its_own_counts_and_records(engine, specs, rules):
    store(engine, specs, "land", [transfer(1, 250, 100.0), transfer(2, 260, 100.0, SL_V)])
    shenglilu = Viewer(None, "township", township=SL)
    with engine.connect() as conn:
        tally = warnings.tally(conn, specs, rules, shenglilu)
        assert [u.code for u in tally.townships] == [SL]
        assert all(set(c) <= {SL} for c in tally.counts.values())
        assert tally.counts["land_large_transfer"] == {SL: 1}
        with pytest.raises(PermissionError):
            warnings.matches(conn, specs, rules.get("land_large_transfer"), ZS, shenglilu)
    village = Viewer(None, "village", township=ZS, village="500118001002")
    assert counts(engine, specs, only(rules, "land_large_transfer"), village) == {}
    assert codes_of(engine, specs, only(rules, "land_large_transfer"), ZS, village) == []


def test_listed_records_are_masked_for_the_viewer(engine, specs, rules, make_person):
    bad = make_person()["id_number"][:17] + "A"
    store(engine, specs, "person", [make_person(id_number=bad, name="欧阳明")])
    rule = only(rules, "person_id_check_digit")
    leader = codes_of(engine, specs, rule, ZS, LEADER)[0]
    township = codes_of(engine, specs, rule, ZS, Viewer(None, "township", township=ZS))[0]
    assert leader["key"] == township["key"] == "*" * 14 + bad[-4:]
    assert leader["label"] == "欧**" and township["label"] == "欧阳明"


def test_check_specs_reports_a_broken_warning_rule(tmp_path, capsys):
    import shutil

    root = tmp_path / "form_specs"
    shutil.copytree(SPECS_ROOT, root)
    path = root / "warnings" / "rules.json"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"ledger": "land"', '"ledger": "lands"', 1), encoding="utf-8"
    )
    assert main(["check-specs", str(root)]) == 1
    expected = "warnings/rules.json: rules/0（land_rent_arrears）/ledger: 未知的台账“lands”"
    assert expected in capsys.readouterr().out


def test_the_demo_district_ships_some_warnings(seeded_engine, specs, rules):
    """The tiny demo has transferred parcels owing rent, so the page is not empty in a demo."""
    with seeded_engine.connect() as conn:
        tally = warnings.tally(conn, specs, rules, KEEPER)
    assert tally.total("land_rent_arrears") > 0
    assert tally.total("person_id_check_digit") == 0, "the generator issues valid numbers"


# ---------------------------------------------------------------- counts kept in the database


def kept_rows(engine) -> dict[str, WarningCount]:
    """Return the rows of `warning_counts` by rule."""
    with Session(engine) as session:
        return {row.rule: row for row in session.scalars(select(WarningCount))}


def statements_of(engine, work) -> list[str]:
    """Run `work()` and return the SQL statements it sent."""
    sent: list[str] = []

    def note(_conn, _cursor, statement, *_args) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return sent


def kept_tally(engine, specs, rule_set, viewer=KEEPER, **options) -> warnings.Tally:
    """Tally in a transaction of its own, as a page's request does, so counted rules are kept."""
    with engine.begin() as conn:
        return warnings.tally(conn, specs, rule_set, viewer, **options)


def test_counts_are_kept_and_another_process_reads_them_without_counting(engine, specs, rules, make_person):
    store(engine, specs, "land", [transfer(1, 250, 100.0), transfer(2, 30, 50.0, SL_V)])
    store(engine, specs, "person", [make_person(id_number="50011819850315123")])
    first = kept_tally(engine, specs, rules)
    assert first.counts["land_rent_arrears"] == {ZS: 1, SL: 1} and first.stale == {}
    assert set(first.computed_at) == {r.code for r in rules.enabled}
    assert set(kept_rows(engine)) == {r.code for r in rules.enabled}
    # Another process: no record lists in memory; a record moved by direct SQL, updated_at untouched.
    warnings.forget()
    with engine.begin() as conn:
        conn.execute(
            update(Record).where(Record.township_code == SL).values(township_code=ZS, village_code=ZS_V)
        )
    later: list[warnings.Tally] = []
    sent = statements_of(engine, lambda: later.append(kept_tally(engine, specs, rules)))
    assert len(sent) == 2, "the ledgers' marks and the kept counts: one statement each, all rules"
    assert later[0].counts == first.counts, "the kept counts, not counted again"
    assert later[0].counts["person_id_check_digit"] == {ZS: 1}
    assert later[0].computed_at == first.computed_at


def test_a_ledger_write_makes_kept_counts_stale_and_they_are_counted_again(engine, specs, rules):
    rule = only(rules, "land_rent_arrears")
    store(engine, specs, "land", [transfer(1, 20, 100.0)])
    assert kept_tally(engine, specs, rule).counts == {"land_rent_arrears": {ZS: 1}}
    store(engine, specs, "land", [transfer(2, 20, 100.0, SL_V)])
    shown = kept_tally(engine, specs, rule, cached_only=True)
    assert shown.counts == {"land_rent_arrears": {ZS: 1}}, "a page shows the old counts at once"
    assert shown.stale == {"land_rent_arrears": "ledger"}, "marked"
    counted = kept_tally(engine, specs, rule)
    assert counted.counts == {"land_rent_arrears": {ZS: 1, SL: 1}} and counted.stale == {}
    assert counted.computed_at["land_rent_arrears"] > shown.computed_at["land_rent_arrears"]
    assert kept_tally(engine, specs, rule, cached_only=True).stale == {}


def test_kept_counts_of_an_edited_rule_are_never_shown(engine, specs, rules):
    store(engine, specs, "land", [transfer(1, 200, 0), transfer(2, 160, 0)])
    shipped = only(rules, "land_large_transfer")
    assert kept_tally(engine, specs, shipped).counts["land_large_transfer"] == {ZS: 1}
    document = json.loads((SPECS_ROOT / "warnings" / "rules.json").read_text(encoding="utf-8"))
    edited = next(r for r in document["rules"] if r["code"] == "land_large_transfer")
    edited["params"]["conditions"][1]["value"] = 150  # the file's threshold lowered from 200 mu
    lowered = WarningRuleSet("t", (build_rules(document).get("land_large_transfer"),))
    assert kept_tally(engine, specs, lowered, cached_only=True).counts == {}, "pending, not the old count"
    assert kept_tally(engine, specs, lowered).counts["land_large_transfer"] == {ZS: 2}
    assert kept_tally(engine, specs, shipped, cached_only=True).counts == {}, (
        "and back: the shipped threshold's counts were replaced"
    )


def test_a_township_sees_only_its_own_part_of_kept_counts(engine, specs, rules):
    store(
        engine,
        specs,
        "land",
        [transfer(1, 250, 100.0), transfer(2, 260, 100.0, SL_V), transfer(3, 270, 100.0, "500118001002")],
    )
    rule = only(rules, "land_large_transfer")
    assert kept_tally(engine, specs, rule).counts["land_large_transfer"] == {ZS: 2, SL: 1}
    warnings.forget()
    shenglilu = kept_tally(engine, specs, rule, Viewer(None, "township", township=SL), cached_only=True)
    assert shenglilu.counts == {"land_large_transfer": {SL: 1}}
    assert [u.code for u in shenglilu.townships] == [SL]
    village = Viewer(None, "village", township=ZS, village="500118001002")
    assert kept_tally(engine, specs, rule, village, cached_only=True).counts["land_large_transfer"] == {ZS: 1}


def refresh(engine, specs, ledgers: list[str] | None) -> int:
    """Run the refresh job inline, as other job tests do; return its id."""
    return jobs.submit(
        engine,
        "warnings",
        "重新统计预警",
        None,
        warnings.REFRESH_JOB,
        {"ledgers": ledgers},
        background=False,
        specs=specs,
    )


def test_the_refresh_job_counts_a_ledgers_rules_ahead(engine, specs, rules, make_person):
    store(engine, specs, "land", [transfer(1, 250, 100.0)])
    store(engine, specs, "person", [make_person()])
    job = jobs.get(engine, refresh(engine, specs, ["land"]))
    land_rules = [r.code for r in rules.enabled if r.ledger == "land"]
    assert (job.status, job.message) == ("done", f"已重新统计 {len(land_rules)} 条预警规则")
    assert sorted(kept_rows(engine)) == sorted(land_rules), "only the ledger asked for"
    warnings.forget()
    shown = kept_tally(engine, specs, rules, cached_only=True)
    assert shown.counts["land_large_transfer"] == {ZS: 1} and shown.stale == {}
    assert set(shown.counts) == set(land_rules), "the person rules were not counted yet"
    refresh(engine, specs, None)
    assert set(kept_rows(engine)) == {r.code for r in rules.enabled}, "no ledger named: all of them"
    failed = jobs.get(engine, refresh(engine, specs, ["lands"]))
    assert (failed.status, failed.message) == ("failed", "处理失败：未知的台账：lands")


def test_a_page_counting_while_an_import_writes_shows_the_counts_without_keeping_them(engine, specs, rules):
    """SQLite has one writer: a page does not wait for an import's write lock to keep its counts."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL writes do not wait on another writer's transaction here")
    rule = only(rules, "land_rent_arrears")
    store(engine, specs, "land", [transfer(1, 20, 100.0)])
    with engine.connect() as importing:
        importing.exec_driver_sql("BEGIN IMMEDIATE")  # what an import holds until it commits
        shown = kept_tally(engine, specs, rule)
        importing.rollback()
    assert shown.counts == {"land_rent_arrears": {ZS: 1}}
    assert kept_rows(engine) == {}, "not kept while the import writes"
    kept_tally(engine, specs, rule)
    assert set(kept_rows(engine)) == {"land_rent_arrears"}, "kept once the writer is gone"

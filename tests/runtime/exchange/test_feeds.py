"""Freshness of elements against their update frequency, and each client's last push and pull.

The demo feeds (runtime/demo/clients.py): 区残联 pushed its person elements 3 days ago (每月: on
time), 区民政局 9 days ago (每月: on time), 区公安分局's person feed stopped 6 days ago (每日: late)
while its household feed is a day old.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, select

from builder.early_warnings.rules import load_warning_rules
from runtime.demo.clients import load_demo_clients
from runtime.exchange import feeds
from runtime.models import ApiClient, Department, FeedEvent, utcnow


@pytest.fixture
def demo(engine, specs):
    """The demo client systems and a few weeks of their feeds, on a fresh database."""
    now = utcnow()
    assert load_demo_clients(engine, specs, now) == 3
    assert load_demo_clients(engine, specs, now) == 0, "the demo never adds clients twice"
    return engine, now


def _by_element(rows):
    return {(f.ledger, f.element): f for f in rows}


def test_freshness_says_which_source_is_late_and_sorts_it_first(demo, specs):
    engine, now = demo
    rules = load_warning_rules(specs.root, specs)
    with engine.connect() as conn:
        rows = feeds.freshness(conn, specs, rules, now=now)
    found = _by_element(rows)
    id_number = found[("person", "person.id_number")]
    assert (id_number.source, id_number.frequency, id_number.state) == ("区公安分局户籍系统", "每日", "late")
    assert id_number.clients == ("区公安分局户籍系统",) and id_number.fed_by == "区公安分局户籍系统"
    assert (id_number.age_days, id_number.max_age_days, id_number.overdue_days) == (6, 2, 4)
    assert found[("person", "person.disability_category")].state == "on_time"
    assert found[("person", "person.assistance_type")].state == "on_time"
    assert found[("household", "household.head_id_number")].state in ("on_time", "n/a")
    # Township entry and 按需 elements expect no push; a system with no client and no push: never.
    assert found[("person", "person.phone")].state == "n/a"
    never = [f for f in rows if f.state == "never"]
    assert never and all(f.fed_at is None and f.source in specs.systems for f in never)
    assert any(not f.clients for f in never), "a source no client is registered for"
    order = [f.state for f in rows]
    assert order == sorted(order, key=list(feeds.STATES).index), "late first, then never, on time, n/a"
    assert rows[0].state == "late"

    sources = feeds.by_source(rows)
    assert sources[0].source == "区公安分局户籍系统" and sources[0].worst == "late"
    assert {s.source: s.worst for s in sources}["区残联残疾人管理系统"] == "on_time"


def test_a_department_sees_its_own_elements_and_clients(demo, specs):
    engine, now = demo
    rules = load_warning_rules(specs.root, specs)
    with engine.connect() as conn:
        canlian = conn.scalar(select(Department.id).where(Department.code == "canlian"))
        rows = feeds.freshness(conn, specs, rules, department="区残联", now=now)
        assert rows and {f.department for f in rows} == {"区残联"}
        mine = feeds.last_feeds(conn, canlian)
    assert [(f.client, f.ledger) for f in mine] == [("区残联残疾人管理系统", "person")]
    push, pull = mine[0].push, mine[0].pull
    assert push.rows == 420 and (now - push.at).days == 3
    assert pull is not None and (now - pull.at) < timedelta(days=1)


def test_a_dry_run_feeds_nothing_and_the_last_push_wins(engine, specs):
    now = utcnow()
    with engine.begin() as conn:
        department = conn.scalar(select(Department.id).where(Department.code == "canlian"))
        client = conn.execute(
            insert(ApiClient)
            .values(name="残联前置机", department_id=department, system="区残联残疾人管理系统")
            .returning(ApiClient.id)
        ).scalar_one()
        base = {
            "client_id": client,
            "ledger": "person",
            "kind": "push",
            "elements": ["person.disability_category"],
        }
        conn.execute(
            insert(FeedEvent),
            [
                base | {"at": now - timedelta(days=50), "rows": 5, "dry_run": False},
                base | {"at": now - timedelta(days=40), "rows": 7, "dry_run": False},
                base | {"at": now - timedelta(days=1), "rows": 9, "dry_run": True},
            ],
        )
    rules = load_warning_rules(specs.root, specs)
    with engine.connect() as conn:
        fresh = _by_element(feeds.freshness(conn, specs, rules, ledgers=["person"], now=now))
        (feed,) = feeds.last_feeds(conn)
    category = fresh[("person", "person.disability_category")]
    assert (category.state, category.age_days) == ("late", 40)
    assert feed.push.rows == 7 and feed.pull is None

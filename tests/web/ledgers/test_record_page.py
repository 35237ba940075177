"""The record page: every field, the source of each value, the history; reveal is audited."""

from __future__ import annotations

import json
import re

from sqlalchemy import select

from runtime.models import AuditEntry, Record

ZHONGSHANLU = "500118001"


def test_record_page_shows_fields_sources_and_history(client, auth, seeded_engine, find_record):
    """Each value names its source (演示数据生成 tiny/7) and time in Beijing time."""
    rid = find_record(seeded_engine, "person", township=ZHONGSHANLU)
    auth.login("zhongshanlu")
    page = client.get(f"/ledgers/person/records/{rid}").get_data(as_text=True)
    for title in ("公民身份号码", "姓名", "性别", "所属镇街", "所属村（社区）"):
        assert f"{title}\n" in page or f"{title} " in page or f">{title}<" in page
    assert "银行账号" not in page, "不予共享: not shown to a township, not even masked"
    assert "演示数据生成" in page and "tiny/7" in page
    assert "2026-11-01 16:00" in page
    assert 'id="v-township_code">中山路街道<' in page  # org units by name, not code
    assert re.search(r'id="v-village_code">[^<0-9]+<', page)
    history = page[page.index('id="history"') :]
    assert "第 1 版" in history and "新建记录" in history


def test_keeper_reveals_a_value_and_it_is_audited(fresh_client, fresh_auth, engine, find_record):
    """显示明文 returns only the clear value and writes who read what to the audit log."""
    rid = find_record(engine, "person", township=ZHONGSHANLU)
    with engine.connect() as conn:
        data = conn.execute(select(Record.data, Record.key).where(Record.id == rid)).one()
    id_number = (json.loads(data[0]) if isinstance(data[0], str) else data[0])["id_number"]
    fresh_auth.login("keeper")
    response = fresh_client.post(
        f"/ledgers/person/records/{rid}/reveal/id_number", headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert re.fullmatch(
        r'<span class="value revealed"[^>]*>' + id_number + r"</span>\s*", response.get_data(as_text=True)
    )
    with engine.connect() as conn:
        entries = conn.execute(
            select(AuditEntry.action, AuditEntry.target, AuditEntry.detail).where(
                AuditEntry.action == "reveal"
            )
        ).all()
    assert [(e.target, e.detail) for e in entries] == [(f"person/{data.key}", {"field": "id_number"})]


def test_reveal_of_unknown_field_is_404(fresh_client, fresh_auth, engine, find_record):
    """Only fields of the ledger can be revealed."""
    rid = find_record(engine, "person")
    fresh_auth.login("keeper")
    assert fresh_client.post(f"/ledgers/person/records/{rid}/reveal/nothing").status_code == 404

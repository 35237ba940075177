"""Exporting the audit log: the reader's part, filtered, as .csv (UTF-8 with BOM) or .xlsx; itself logged."""

import csv

import openpyxl
import pytest
from sqlalchemy import insert, select

from runtime.audit.export import HEADER, export_log
from runtime.audit.reading import AuditFilter, AuditReader
from runtime.errors import InvalidRequest, NotAllowed
from runtime.models import AuditEntry, User
from tests.conftest import AUDIT_SAMPLE


@pytest.fixture
def log(engine, write_audit_sample):
    """The sample entries in a fresh database, and the id of user admin: (engine, ids, admin id)."""
    ids = write_audit_sample(engine)
    with engine.connect() as conn:
        admin = conn.execute(select(User.id).where(User.username == "admin")).scalar_one()
    return engine, ids, admin


def _csv(path):
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode()), "UTF-8 with BOM, so Excel opens it"
    return list(csv.reader(raw.decode("utf-8-sig").splitlines()))


def test_an_administrator_exports_every_entry_as_csv_and_the_export_is_logged(log, specs, tmp_path):
    engine, ids, admin = log
    target = tmp_path / "log.csv"
    with engine.begin() as conn:
        assert export_log(
            conn, specs, AuditReader(admin, everything=True), AuditFilter(), "csv", target
        ) == len(ids)
    lines = _csv(target)
    assert (
        lines[0]
        == HEADER
        == [
            "编号",
            "时间",
            "操作人",
            "部门或单位",
            "操作",
            "台账或对象",
            "数据项",
            "记录数",
            "用途",
            "途径",
            "说明",
        ]
    )
    rows = {int(line[0]): dict(zip(HEADER, line, strict=True)) for line in lines[1:]}
    read = rows[ids["canlian_reads_minzheng"]]
    assert read["时间"] == "2026-10-30 10:00:00", "Beijing time"
    assert (read["操作人"], read["部门或单位"], read["操作"], read["台账或对象"]) == (
        "区残联 陈静",
        "区残联",
        "明文读取",
        "人口台账",
    )
    assert (read["数据项"], read["记录数"], read["用途"], read["途径"]) == (
        "救助类别",
        "120",
        AUDIT_SAMPLE["canlian_reads_minzheng"][3]["purpose"],
        "提取",
    )
    assert [int(line[0]) for line in lines[1:]][0] == ids["visit_proposes_assistance"], "newest first"
    with engine.connect() as conn:
        logged = conn.execute(
            select(AuditEntry.actor_id, AuditEntry.target, AuditEntry.detail).where(
                AuditEntry.action == "audit.export"
            )
        ).one()
    assert logged == (admin, "audit_log", {"format": "csv", "rows": len(ids), "filters": {}})


def test_a_department_exports_only_its_part_narrowed_by_the_filter(log, specs, tmp_path):
    engine, ids, _admin = log
    target = tmp_path / "canlian.csv"
    reader = AuditReader(None, department="canlian")
    with engine.begin() as conn:
        assert export_log(conn, specs, reader, AuditFilter(), "csv", target) == 4
        assert (
            export_log(conn, specs, reader, AuditFilter(action="grant"), "csv", tmp_path / "grants.csv") == 3
        )
    exported = {int(line[0]) for line in _csv(target)[1:]}
    assert exported == {
        ids[n]
        for n in ("minzheng_reads_canlian", "canlian_applies", "minzheng_approves", "canlian_refuses_tuiyi")
    }
    assert "核对残疾人两项补贴对象的救助类别" in target.read_text(encoding="utf-8-sig")  # its grant's purpose
    with engine.connect() as conn:
        said = (
            conn.execute(select(AuditEntry.detail).where(AuditEntry.action == "audit.export")).scalars().all()
        )
    assert said[-1]["filters"] == {"action": "grant"}


def test_the_xlsx_holds_the_same_columns_and_rows(log, specs, tmp_path):
    engine, ids, admin = log
    target = tmp_path / "log.xlsx"
    with engine.begin() as conn:
        export_log(
            conn, specs, AuditReader(admin, everything=True), AuditFilter(ledger="land"), "xlsx", target
        )
    sheet = openpyxl.load_workbook(target).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert sheet.title == "审计日志" and rows[0] == HEADER
    assert len(rows) == 2 and rows[1][0] == ids["keeper_exports_land"]
    assert rows[1][4:8] == ["导出台账", "土地承包与流转台账", None, 40]


def test_text_a_spreadsheet_would_run_is_defused_in_the_csv(engine, specs, tmp_path):
    with engine.begin() as conn:
        conn.execute(
            insert(AuditEntry).values(
                action="read.clear", target="canlian/person", detail={"purpose": "=HYPERLINK()"}
            )
        )
        export_log(
            conn, specs, AuditReader(None, department="canlian"), AuditFilter(), "csv", tmp_path / "x.csv"
        )
    assert _csv(tmp_path / "x.csv")[1][8] == "'=HYPERLINK()"


def test_an_unknown_format_or_a_reader_of_nothing_is_refused(log, specs, tmp_path):
    engine, _ids, _admin = log
    with engine.begin() as conn:
        with pytest.raises(InvalidRequest, match="不支持的格式"):
            export_log(
                conn, specs, AuditReader(None, everything=True), AuditFilter(), "pdf", tmp_path / "x.pdf"
            )
        with pytest.raises(NotAllowed, match="无权查看审计日志"):
            export_log(conn, specs, AuditReader(None), AuditFilter(), "csv", tmp_path / "x.csv")

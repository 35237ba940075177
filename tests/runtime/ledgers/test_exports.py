"""Ledger export: .xlsx and .csv, filtered, scoped, masked, formula injection defused."""

import csv
import re

import openpyxl
import pytest

from runtime.access import Viewer
from runtime.ledgers.exports import export_ledger
from runtime.ledgers.store import Provenance, Query, upsert
from runtime.masking import mask_id
from runtime.org_scope import DISTRICT


@pytest.fixture
def stored(engine, specs, make_person):
    rows = [
        make_person(occupation='=HYPERLINK("http://x")', phone="13812345678"),
        make_person(township_code="500118108", village_code="500118108001"),
        make_person(is_veteran=True),
    ]
    with engine.begin() as conn:
        upsert(conn, specs.ledgers["person"], rows, Provenance("seed"), scope=DISTRICT)
    return rows


@pytest.fixture
def names(specs):
    return {u.code: u.name for u in specs.org_units.values()}


def test_xlsx_export_is_masked_scoped_and_keeps_text(engine, specs, stored, names, tmp_path):
    viewer = Viewer(3, "township", township="500118001")
    target = tmp_path / "out.xlsx"
    with engine.begin() as conn:
        n = export_ledger(conn, Query(specs.ledgers["person"], viewer.scope), viewer, "xlsx", target, names)
    sheet = openpyxl.load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert n == 2 and len(rows) == 3
    id_col, phone_col = header.index("公民身份号码"), header.index("联系电话")
    town_col = header.index("所属镇街")
    assert {r[id_col] for r in rows[1:]} == {mask_id(stored[0]["id_number"]), mask_id(stored[2]["id_number"])}
    assert rows[1][phone_col] == "138****5678"
    assert {r[town_col] for r in rows[1:]} == {"中山路街道"}
    veteran = header.index("是否退役军人")
    assert "是" in [r[veteran] for r in rows[1:]]
    occupation = header.index("职业")
    assert rows[1][occupation].startswith("=HYPERLINK"), "written as text, not a formula"
    assert sheet.cell(row=2, column=occupation + 1).data_type == "s"


def test_csv_export_filters_and_defuses_formulas(engine, specs, stored, names, tmp_path):
    viewer = Viewer(3, "keeper")
    target = tmp_path / "out.csv"
    ledger = specs.ledgers["person"]
    with engine.begin() as conn:
        n = export_ledger(
            conn, Query(ledger, filters=(("township_code", "500118001"),)), viewer, "csv", target, names
        )
    with open(target, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert n == 2
    occupation = rows[0].index("职业")
    assert rows[1][occupation] == '\'=HYPERLINK("http://x")'
    assert all(re.fullmatch(r"\*{14}[\dX]{4}", r[rows[0].index("公民身份号码")]) for r in rows[1:])
    assert all(re.fullmatch(r"\d{4}年", r[rows[0].index("出生日期")]) for r in rows[1:]), "beside a masked ID"

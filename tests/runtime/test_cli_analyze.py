"""`yibiaotong analyze PATH [--ledger CODE] --format json`: the exact shape other tools rely on."""

import json

import pytest

from runtime.cli import main
from runtime.demo.templates import sample_templates
from runtime.ledgers.holdings import forget

FIELD_KEYS = {"label", "parents", "element", "confidence", "reason", "kind"}
TOP_KEYS = {"title", "fields", "coverage", "rules", "overlaps", "decision"}
LAND = "农村土地经营权流转情况核查表.xlsx"


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBIAOTONG_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("YIBIAOTONG_ADMIN_PASSWORD", "verwalter-2026")
    forget()
    return tmp_path


def _analyze(capsys, *args) -> dict:
    assert main(["analyze", *args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


def _check_shape(result: dict) -> None:
    assert set(result) == TOP_KEYS
    assert all(set(f) == FIELD_KEYS for f in result["fields"])
    assert set(result["coverage"]) == {"data_fields", "bound", "ratio"}
    assert all(set(r) == {"id", "outcome", "message"} for r in result["rules"])
    assert all(r["outcome"] in ("pass", "warn", "block") for r in result["rules"])
    assert all(set(o) == {"report", "title", "shared", "ratio"} for o in result["overlaps"])
    assert result["decision"] in ("admit", "review", "reject", "extract")


def test_a_template_is_analyzed_in_column_order_without_a_database(cli_env, capsys):
    path = cli_env / LAND
    path.write_bytes(sample_templates()[LAND])
    result = _analyze(capsys, str(path))
    _check_shape(result)
    assert result["title"] == "农村土地经营权流转情况核查表"
    first = result["fields"][:4]
    assert [(f["label"], f["parents"], f["element"], f["kind"]) for f in first] == [
        ("序号", [], None, "layout"),
        ("地块编码", [], "land.parcel_code", "data"),
        ("姓名", ["承包方"], "land.contractor_name", "data"),
        ("身份证号", ["承包方"], "land.contractor_id_number", "data"),
    ]
    data = [f for f in result["fields"] if f["kind"] == "data"]
    assert result["coverage"]["data_fields"] == len(data)
    assert result["coverage"]["bound"] == sum(1 for f in data if f["element"])
    # A bare template states no basis, purpose or deadline: the rules block it.
    blocked = {r["id"] for r in result["rules"] if r["outcome"] == "block"}
    assert {"basis_required", "purpose_required", "deadline_working_days"} <= blocked
    assert result["decision"] == "reject"


def test_a_spec_is_analyzed_against_the_live_database(cli_env, capsys, specs):
    assert main(["init", "--quiet"]) == 0
    assert main(["seed", "--scale", "tiny", "--seed", "5"]) == 0
    capsys.readouterr()
    result = _analyze(capsys, str(specs.root / "reports" / "veteran_roster.json"))
    _check_shape(result)
    assert all(f["confidence"] == 1.0 and f["element"] for f in result["fields"])
    assert result["coverage"]["ratio"] >= 0.9
    assert result["decision"] == "extract"


def test_ledger_option_and_unreadable_files(cli_env, capsys):
    path = cli_env / LAND
    path.write_bytes(sample_templates()[LAND])
    as_houses = _analyze(capsys, str(path), "--ledger", "house")
    assert not any(f["element"] == "land.contract_area_mu" for f in as_houses["fields"])
    broken = cli_env / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    assert main(["analyze", str(broken), "--format", "json"]) == 2
    assert "无法分析" in capsys.readouterr().err
    assert main(["analyze", str(path), "--ledger", "nope", "--format", "json"]) == 2

"""The `yibiaotong` command line: init, seed, import-ledger, export-ledger."""

import csv

import pytest

from runtime.cli import main


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    monkeypatch.setenv("YIBIAOTONG_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    return tmp_path


def test_init_prints_the_demo_logins(cli_env, capsys):
    assert main(["init"]) == 0
    out = capsys.readouterr().out
    assert "keeper" in out and "zhongshanlu" in out and "yibiaotong" in out


def test_seed_refuses_to_overwrite_without_force(cli_env, capsys):
    assert main(["seed", "--scale", "tiny", "--seed", "3"]) == 0
    first = capsys.readouterr().out
    assert "人口台账" in first
    assert main(["seed", "--scale", "tiny"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["seed", "--scale", "tiny", "--if-empty"]) == 0
    assert main(["seed", "--scale", "tiny", "--seed", "3", "--force"]) == 0
    again = capsys.readouterr().out
    counts = [line for line in first.splitlines() if "台账:" in line]
    assert counts == [line for line in again.splitlines() if "台账:" in line], "same seed, same data"


def test_import_and_export_round_trip(cli_env, capsys):
    main(["seed", "--scale", "tiny"])
    exported = cli_env / "persons.csv"
    assert main(["export-ledger", "person", str(exported), "--township", "500118001"]) == 0
    assert "已导出" in capsys.readouterr().out
    with open(exported, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "公民身份号码" and "*" in rows[1][0], "exports are masked"
    broken = cli_env / "bad.txt"
    broken.write_bytes(b"\x00\x01\x02")
    assert main(["import-ledger", "person", str(broken)]) == 2
    assert "导入失败" in capsys.readouterr().err


def test_warnings_refresh_counts_and_keeps_the_warnings(cli_env, capsys):
    """The nightly command (of the console script, `web.cli`) counts every rule, or one ledger's."""
    from sqlalchemy import select

    from builder.specs import load_specs
    from runtime import config
    from runtime.db import make_engine
    from runtime.ledger_store import Provenance, upsert
    from runtime.models import WarningCount
    from runtime.org_scope import DISTRICT
    from web.cli import main as yibiaotong

    main(["init", "--quiet"])
    specs = load_specs(config.specs_path())
    engine = make_engine(config.database_url())
    parcel = {"parcel_code": "5001180010010000001", "location": "1号地块", "township_code": "500118001",
              "village_code": "500118001001", "contractor_name": "李四", "contract_area_mu": 250.0,
              "is_transferred": True, "transfer_area_mu": 250.0, "rent_arrears": 100.0}
    with engine.begin() as conn:
        upsert(conn, specs.ledgers["land"], [parcel], Provenance("import"), scope=DISTRICT)
    assert yibiaotong(["warnings-refresh", "--ledger", "land"]) == 0
    assert "已重新统计 4 条预警规则" in capsys.readouterr().out
    with engine.connect() as conn:
        kept = dict(conn.execute(select(WarningCount.rule, WarningCount.counts)).all())
    engine.dispose()
    assert set(kept) == {"land_rent_arrears", "land_large_transfer", "land_contractor_id_check_digit",
                         "land_stale"}
    assert kept["land_large_transfer"] == [["500118001", "500118001001", 1]]
    assert yibiaotong(["warnings-refresh"]) == 0
    assert yibiaotong(["warnings-refresh", "--ledger", "lands"]) == 2
    assert "未知的台账：lands" in capsys.readouterr().err

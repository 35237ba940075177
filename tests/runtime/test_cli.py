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

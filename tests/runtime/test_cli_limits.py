"""Every command answers in Chinese, never a traceback; a bomb is refused under a memory ceiling."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.cli import main
from tests import bombs

ROOT = Path(__file__).resolve().parents[2]
#: The address space the command runs in: a parse of the bombs below needs many gigabytes.
CEILING = 1536 * 1024 * 1024


def _run(args: list[str], env: dict[str, str], ceiling: int | None = CEILING) -> subprocess.CompletedProcess:
    """Run `yibiaotong args` in a child process, its memory capped at `ceiling` bytes."""

    def cap() -> None:
        if ceiling:
            resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))

    return subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=cap,
    )


@pytest.fixture
def env(tmp_path):
    """The environment of a command on an instance folder and a SQLite database of its own."""
    values = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    values.update(
        YIBIAOTONG_INSTANCE=str(tmp_path / "instance"),
        PYTHONPATH=str(ROOT),
        DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}",
        YIBIAOTONG_ADMIN_PASSWORD="verwalter-2026",
    )
    return values


def assert_refused(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode in (1, 2), (done.returncode, done.stderr[-2000:])
    assert "Traceback" not in done.stderr and "panicked" not in done.stderr, done.stderr[-2000:]
    for word in words:
        assert word in done.stderr, done.stderr[-2000:]


def test_a_bomb_is_refused_by_the_import_and_the_analysis_under_a_memory_ceiling(
    env, tmp_path, monkeypatch, add_demo_accounts
):
    """A 3.6 MB .xlsx that inflates to 1.1 GB (70 million cells) is refused before it is parsed."""
    bomb = tmp_path / "人员.xlsx"
    bomb.write_bytes(bombs.cell_bomb(1100))
    assert bomb.stat().st_size < 4 * 1024 * 1024
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["init", "--quiet"]) == 0
    add_demo_accounts()  # the import's default user, keeper
    done = _run(["import-ledger", "person", str(bomb)], env)
    assert_refused(done, "导入失败", "超过了 4,000,000 个的上限")
    done = _run(["analyze", str(bomb)], env)
    assert_refused(done, "无法分析", "超过了 1,000,000 个的上限")
    corners = tmp_path / "旧表.xls"
    corners.write_bytes(bombs.xls_corners())  # 6 KB that calamine opens into three 16-million-cell grids
    assert_refused(_run(["analyze", str(corners)], env), "无法分析", "个单元格")
    rows = tmp_path / "rows.csv"
    rows.write_bytes(b"1\n" * 5_000_000)
    assert_refused(_run(["import-ledger", "person", str(rows)], env), "超过了 4,000,000 个的上限")


def test_deeply_nested_json_is_answered_in_chinese(env, tmp_path):
    spec = tmp_path / "深.json"
    spec.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert_refused(_run(["analyze", str(spec)], env, ceiling=None), "嵌套层数过深")


def test_a_missing_file_or_an_unreachable_database_is_answered_in_chinese(env, tmp_path):
    assert_refused(
        _run(["import-ledger", "person", str(tmp_path / "无.csv")], env, ceiling=None), "文件不存在"
    )
    assert_refused(_run(["analyze", str(tmp_path / "无.xlsx")], env, ceiling=None), "文件不存在")
    table = tmp_path / "a.csv"
    table.write_text("姓名\n张三\n", encoding="utf-8")
    unreachable = env | {"DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    for args in (["import-ledger", "person", str(table)], ["init"], ["cleanup"]):
        assert_refused(_run(args, unreachable, ceiling=None), "无法连接或使用数据库")

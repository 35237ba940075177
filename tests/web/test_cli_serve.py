"""`yibiaotong serve`: it lists the demo logins and their public password only when they exist."""

from __future__ import annotations

import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from runtime.db import make_engine
from runtime.demo.accounts import DEMO_PASSWORD, create_demo_users

ROOT = Path(__file__).resolve().parents[2]
ADMIN_PASSWORD = "verwalter-2026"


@pytest.fixture
def env(tmp_path):
    """The environment of the console script on an instance folder and a SQLite database of its own."""
    values = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    values.update(
        YIBIAOTONG_INSTANCE=str(tmp_path / "instance"),
        PYTHONPATH=str(ROOT),
        PYTHONUNBUFFERED="1",  # the lines must reach the pipe before the server is stopped
        DATABASE_URL=f"sqlite:///{tmp_path / 'serve.db'}",
        YIBIAOTONG_ADMIN_PASSWORD=ADMIN_PASSWORD,
    )
    return values


def _yibiaotong(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "web.cli", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve_output(env: dict[str, str]) -> str:
    """Start `serve`, return what it printed up to the line saying it started, then stop it."""
    started = "一表通已启动".encode()
    printed = b""
    deadline = time.monotonic() + 60
    with subprocess.Popen(
        [sys.executable, "-m", "web.cli", "serve", "--port", str(_free_port())],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    ) as server:
        try:  # raw reads of the pipe: a buffered reader would hide lines from select
            while started not in printed and time.monotonic() < deadline:
                if select.select([server.stdout], [], [], 1)[0]:
                    chunk = os.read(server.stdout.fileno(), 4096)
                    if not chunk:
                        break
                    printed += chunk
        finally:
            server.terminate()
    out = printed.decode()
    assert "一表通已启动" in out, out
    return out


def test_serve_prints_no_password_without_demo_accounts(env):
    _yibiaotong(env, "init", "--quiet")
    out = _serve_output(env)
    assert "密码" not in out and "演示账号" not in out and ADMIN_PASSWORD not in out


def test_serve_lists_the_demo_logins_once_they_exist(env, specs):
    _yibiaotong(env, "init", "--quiet")
    engine = make_engine(env["DATABASE_URL"])
    with Session(engine) as session, session.begin():
        create_demo_users(session, specs)
    engine.dispose()
    out = _serve_output(env)
    assert f"演示账号（密码均为 {DEMO_PASSWORD}" in out
    assert "keeper" in out and "zhongshanlu" in out and "其余 21 个镇街账号" in out
    assert ADMIN_PASSWORD not in out and "admin" not in out, "the administrator has a password of its own"


def test_serve_lists_the_administrator_while_it_has_the_demo_password(env):
    """As `make run` sets the demo up: the administrator's password is the public one, and serve says so."""
    _yibiaotong(env | {"YIBIAOTONG_ADMIN_PASSWORD": DEMO_PASSWORD}, "init", "--quiet")
    out = _serve_output(env)
    assert f"演示账号（密码均为 {DEMO_PASSWORD}" in out and "admin" in out and "keeper" not in out

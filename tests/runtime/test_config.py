"""The settings: every variable `runtime.config` reads is documented in README's 配置 table."""

from __future__ import annotations

import re
from pathlib import Path

import runtime.config

ROOT = Path(__file__).resolve().parents[2]


def _read_names() -> set[str]:
    source = Path(runtime.config.__file__).read_text(encoding="utf-8")
    return set(re.findall(r'(?:os\.environ(?:\.get)?[\[(]|_number\()\s*"([A-Z][A-Z0-9_]+)"', source))


def _documented_names() -> set[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## 配置\n", 1)[1].split("\n## ", 1)[0]
    table = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for line in table for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])}


def test_every_setting_is_documented():
    """A variable read from the environment has a row in README's 配置 table, and no row is stale."""
    read = _read_names()
    assert len(read) > 15, read  # the pattern still finds the reads
    assert read == _documented_names()

"""The hand-written stylesheet stays well-formed: one unclosed block hides every later rule on desktops."""

from __future__ import annotations

import re

from runtime.config import PROJECT_ROOT


def test_every_block_of_app_css_is_closed_and_media_queries_do_not_nest():
    css = re.sub(
        r"/\*.*?\*/",
        "",
        (PROJECT_ROOT / "web" / "static" / "app.css").read_text(encoding="utf-8"),
        flags=re.S,
    )
    depth, in_media = 0, False
    for number, line in enumerate(css.splitlines(), 1):
        if line.startswith("@media"):
            assert depth == 0, f"第 {number} 行：@media 写在了未闭合的块里"
            in_media = True
        depth += line.count("{") - line.count("}")
        assert depth >= 0, f"第 {number} 行：多余的 }}"
        if depth == 0:
            in_media = False
        assert not (in_media and depth == 1 and line[:1] not in (" ", "}", "@", "")), (
            f"第 {number} 行：顶格的规则落在了 @media 块里（上面的 @media 少了一个 }}）"
        )
    assert depth == 0

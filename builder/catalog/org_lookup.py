"""Find townships and villages by code or by the names people write."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from builder.catalog.specs import OrgUnit
from builder.tabular.cells import CellError, shown, squeeze

_UNIT_TAIL = re.compile(r"(居民委员会|村民委员会|居委会|村委会)$")
_UNIT_KIND = re.compile(r"(街道办事处|街道|镇|乡|社区|村)$")


def _org_key(text: str) -> str:
    """Return the lookup form of an org-unit name."""
    return _UNIT_TAIL.sub("", squeeze(text))


class OrgIndex:
    """Look up townships and villages by code or name."""

    def __init__(self, units: Iterable[OrgUnit]) -> None:
        """Index the org units by code, by name and by name without 镇/街道/村/社区."""
        self.units = {u.code: u for u in units}
        self.prefixes = [
            _org_key(u.name) for u in self.units.values() if u.level not in ("township", "village")
        ]
        self.full: dict[tuple[str, str | None, str], list[str]] = {}
        self.short: dict[tuple[str, str | None, str], list[str]] = {}
        for unit in self.units.values():
            if unit.level in ("township", "village"):
                key = _org_key(unit.name)
                for scope in {None, unit.parent if unit.level == "village" else None}:
                    self.full.setdefault((unit.level, scope, key), []).append(unit.code)
                    short = _UNIT_KIND.sub("", key) or key
                    self.short.setdefault((unit.level, scope, short), []).append(unit.code)

    def find(self, level: str, value: Any, township: str | None = None) -> str:
        """Return the code of the township or village named or coded by `value`."""
        kind = "镇街" if level == "township" else "村（社区）"
        text = shown(value) if isinstance(value, int | float) else _org_key(str(value))
        if text.isdigit():
            unit = self.units.get(text)
            if unit is None or unit.level != level:
                raise CellError(f"未找到代码为“{text}”的{kind}")
            if township and unit.parent != township and township in self.units:
                raise CellError(f"{kind}“{unit.name}”不属于“{self.units[township].name}”")
            return unit.code
        scope = township if level == "village" else None
        keys = [text] + [text[len(p) :] for p in self.prefixes if p and text.startswith(p)]
        short = keys + [_UNIT_KIND.sub("", k) for k in keys]
        for index, candidates in ((self.full, keys), (self.short, short)):
            for key in candidates:
                codes = index.get((level, scope, key))
                if codes and len(codes) == 1:
                    return codes[0]
                if codes:
                    raise CellError(f"名为“{shown(value)}”的{kind}不止一个，请同时填写所属镇街")
        if township and township in self.units:
            where = self.units[township].name
            raise CellError(f"“{where}”下未找到名为“{shown(value)}”的{kind}")
        raise CellError(f"未找到名为“{shown(value)}”的{kind}")

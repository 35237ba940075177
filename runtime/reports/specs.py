"""Report specs as the runtime reads them: one loader, and each filed version checked only once.

Filing a version freezes it (`runtime.reports.store`), so the spec of a filed version is checked
against the meta-schema and bound to the catalog once and then kept in a small LRU. The key names
the database and the spec set as well as the report and the version: report ids restart in every
database, and a spec bound to one catalog must not be handed to another. A draft changes with
every save, so its spec is loaded afresh each time.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict
from typing import Any, NamedTuple

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from builder.catalog.specs import SpecSet
from builder.reports.spec import ReportSpec, load_report
from runtime.errors import ErrorCode
from runtime.models import ReportVersion
from runtime.reports.store import ReportError

#: Filed versions kept checked at most; a district has a few dozen live reports.
CACHE_SIZE = 256


class CacheInfo(NamedTuple):
    """How the cache of filed versions has served so far."""

    hits: int
    misses: int
    size: int


_lock = threading.Lock()
_specs: OrderedDict[tuple[int, int, int, int], ReportSpec] = OrderedDict()
_counts = {"hits": 0, "misses": 0}
#: id() of a live engine or spec set → (a weak reference to it, its token). A token is never
#: reused, unlike id(), so an entry left by a discarded object can never be found by a new one.
_tokens: dict[int, tuple[weakref.ref, int]] = {}
_next_token = itertools.count(1)


def document_spec(specs: SpecSet, document: Any) -> ReportSpec:
    """Check a report document against the spec set and bind it (raises ReportRefused); not cached."""
    return load_report(document, specs.elements, specs.ledgers, specs.org_units, meta=specs.report_meta)


def report_spec(db: Session | Connection, specs: SpecSet, report_id: int, version: int) -> ReportSpec:
    """Return the spec of one version of a report, checked once while that version stays filed."""
    key = _key(db, specs, report_id, version)
    found = _cached(key)
    if found is not None:
        return found
    row = db.execute(
        select(ReportVersion.document, ReportVersion.submitted_at).where(
            ReportVersion.report_id == report_id, ReportVersion.version == version
        )
    ).first()
    if row is None:
        raise ReportError(ErrorCode.REPORT_HAS_NO_VERSION, version=version)
    return _loaded(key, specs, row.document, filed=row.submitted_at is not None)


def version_spec(db: Session | Connection, specs: SpecSet, stored: ReportVersion) -> ReportSpec:
    """Return the spec of a version already read from the database (cached as `report_spec` is)."""
    key = _key(db, specs, stored.report_id, stored.version)
    return _cached(key) or _loaded(key, specs, stored.document, filed=stored.submitted_at is not None)


def cache_info() -> CacheInfo:
    """Return the hits, misses (versions checked) and size of the cache of filed versions."""
    with _lock:
        return CacheInfo(_counts["hits"], _counts["misses"], len(_specs))


def _cached(key: tuple[int, int, int, int]) -> ReportSpec | None:
    with _lock:
        spec = _specs.get(key)
        if spec is not None:
            _specs.move_to_end(key)
            _counts["hits"] += 1
        return spec


def _loaded(key: tuple[int, int, int, int], specs: SpecSet, document: Any, *, filed: bool) -> ReportSpec:
    spec = document_spec(specs, document)
    if not filed:
        return spec
    with _lock:
        _counts["misses"] += 1
        # Two requests may load the same version at once; the first one stored is the one kept.
        spec = _specs.setdefault(key, spec)
        _specs.move_to_end(key)
        while len(_specs) > CACHE_SIZE:
            _specs.popitem(last=False)
    return spec


def _key(db: Session | Connection, specs: SpecSet, report_id: int, version: int) -> tuple[int, int, int, int]:
    bind = db.get_bind() if isinstance(db, Session) else db
    return (_token(bind.engine), _token(specs), report_id, version)


def _token(thing: object) -> int:
    """Return the token of a live object: the same one for as long as it lives."""
    with _lock:
        known = _tokens.get(id(thing))
        if known is not None and known[0]() is thing:
            return known[1]
        for ident in [i for i, (ref, _t) in _tokens.items() if ref() is None]:
            del _tokens[ident]
        token = next(_next_token)
        _tokens[id(thing)] = (weakref.ref(thing), token)
        return token

"""A small cache of things built from an object (a catalog, a ledger), keyed by that object."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class IdentityCache(Generic[K, V]):
    """Build a value once per object; objects are compared by identity (specs are not hashable)."""

    def __init__(self, build: Callable[[K], V], limit: int) -> None:
        """Keep the builder and how many objects to remember before starting afresh."""
        self._build = build
        self._limit = limit
        self._items: dict[int, tuple[K, V]] = {}

    def get(self, key: K) -> V:
        """Return the value built for `key`, building it on first use."""
        cached = self._items.get(id(key))
        if cached is not None and cached[0] is key:
            return cached[1]
        if len(self._items) > self._limit:
            self._items.clear()
        value = self._build(key)
        self._items[id(key)] = (key, value)
        return value

"""Reading ahead in a thread: items in order, errors raised in the caller, an early stop ends it."""

from __future__ import annotations

import threading

import pytest

from runtime.exchange.ahead import read_ahead


def test_items_come_in_order_from_another_thread():
    threads = set()

    def items():
        for n in range(50):
            threads.add(threading.get_ident())
            yield n

    assert list(read_ahead(items(), depth=3)) == list(range(50))
    assert threads and threading.get_ident() not in threads


def test_an_error_while_reading_is_raised_in_the_caller():
    def items():
        yield 1
        raise ValueError("坏了")

    seen = []
    with pytest.raises(ValueError, match="坏了"):
        for item in read_ahead(items()):
            seen.append(item)
    assert seen == [1]


def test_a_caller_that_stops_early_stops_the_thread():
    produced = []

    def items():
        for n in range(1000):
            produced.append(n)
            yield n

    before = threading.active_count()
    for item in read_ahead(items(), depth=1):
        if item == 2:
            break
    assert threading.active_count() == before
    assert len(produced) < 10

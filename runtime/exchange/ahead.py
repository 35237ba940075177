"""Read ahead: compute an iterator's items in a thread while the caller stores the ones before.

A push spends its time in two halves that can overlap: reading and checking rows (pure Python)
and writing them (the database's work, during which the driver releases the GIL: PostgreSQL's
server process or SQLite's engine runs while Python waits). Reading the next chunk in a thread
while the caller writes the last one hides most of the smaller half. The database connection
stays in the caller's thread; the thread only parses. An error in the thread is raised in the
caller; a caller that stops early (an error while writing) stops the thread, and a generator
handed in is closed in the thread (so what it holds is released where it was taken).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()
#: How often a blocked side looks whether the other has stopped.
_POLL = 0.5


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Yield the items of `items`, computed in a thread at most `depth` items ahead."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if not _put(handoff, (item, None), stop):
                    return
            _put(handoff, (_DONE, None), stop)
        except BaseException as exc:  # noqa: BLE001 - every error must reach the caller
            _put(handoff, (_DONE, exc), stop)
        finally:  # a generator's own clean-up (a connection it holds) runs here, in its thread
            close = getattr(items, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="push-read-ahead", daemon=True)
    worker.start()
    try:
        while True:
            item, error = handoff.get()
            if error is not None:
                raise error
            if item is _DONE:
                return
            yield item
    finally:
        stop.set()
        worker.join()


def _put(handoff: queue.Queue, entry: tuple, stop: threading.Event) -> bool:
    """Hand one entry over, unless the caller stopped reading (then return False)."""
    while not stop.is_set():
        try:
            handoff.put(entry, timeout=_POLL)
            return True
        except queue.Full:
            continue
    return False

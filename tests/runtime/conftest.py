"""Fixtures of the run-time tests: a seeded district on a fresh database."""

import pytest

from runtime.demo.load import seed
from runtime.holdings import forget


@pytest.fixture
def district(engine, specs):
    """The tiny district seeded into this test's own database (which it may change)."""
    seed(engine, specs, "tiny", 7)
    forget()
    return engine

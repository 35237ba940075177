"""The demo district (永川区): a deterministic generator of realistic ledger records.

Rule: the generator modules are pure — no database, no Flask; they may import `builder`.
Only `load.py` writes the generated records into the ledger store.
"""

from runtime.demo.generate import DEFAULT_SEED, SCALES, generate

__all__ = ["DEFAULT_SEED", "SCALES", "generate"]

"""The catalog and spec set: data elements, ledger specs, org units; their checks and record validation."""

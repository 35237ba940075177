"""Run time, the state: database, ledger store, masking, imports, exports, audit.

Rule: `runtime` may import `builder`, never Flask, WTForms or flask-htmx; only `web` touches
HTTP, sessions and templates. `form_specs/` is reached through a configured path.
"""

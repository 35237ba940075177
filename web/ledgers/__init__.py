"""Ledger pages for keepers and readers: list, table, record, edit, import, export."""

"""Uploaded tables: reading a file within limits, finding its header, coercing cells, reporting rejects."""

"""The report spec language: schema, meta-schema checks, computed fields, forms, totals, diffs."""

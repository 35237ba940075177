"""The early-warnings pages: rules × townships with counts, the records behind a count."""

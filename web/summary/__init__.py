"""The department's summary pages of a dispatched report, and its data as files."""

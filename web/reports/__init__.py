"""The department's report pages: list, overview, the low-code editor, template import."""

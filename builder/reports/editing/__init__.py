"""The report editor's drafts, conditions and formulas, turned into a report spec and back."""

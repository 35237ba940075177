"""A department's Excel templates: their grid, header, sample values, consolidation and matching."""

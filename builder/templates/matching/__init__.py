"""Matching template column labels to catalog elements: the label reading, the index, the reasons."""

"""Admission (准入) at design time: the rules, their configuration, gatekeeping and analysis."""

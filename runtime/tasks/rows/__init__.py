"""A task's rows: the one place that reads and writes the drafts (`TaskRow`), and the row kinds.

`store` holds every query on task rows; `households` the household look-ups of person rows;
`kinds` tells ledger rows, added rows and org-unit rows apart once per task; `merge` puts a row's
draft over its ledger values, as submissions and summaries read it.
"""

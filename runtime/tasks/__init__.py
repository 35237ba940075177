"""Tasks (任务) of a dispatched report.

Dispatch, pre-fill, drafts, added rows, workbook, submission, write-back, summary.
"""

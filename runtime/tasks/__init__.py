"""Tasks (任务) of a dispatched report: dispatch, pre-fill, drafts, added rows, workbook, submission, write-back, summary."""

"""The township's task pages: list, grid, cell saves, dispatch, submit, workbook."""

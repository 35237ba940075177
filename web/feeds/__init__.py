"""数据对接 page: client systems' last pushes and pulls, and how fresh each element is."""

"""The data catalog page: whose each element is, how it is shared, and how the reader sees it."""

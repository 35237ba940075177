"""Login, logout, password changes, login throttling."""

"""Long work with progress: the job runner (thread or RQ), the work itself, and file retention."""

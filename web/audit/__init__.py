"""The audit log page: administrators read every entry, a department who read its data."""

"""Job progress pages and their downloads."""

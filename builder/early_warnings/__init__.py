"""The early-warning rules over the ledgers, read and checked."""

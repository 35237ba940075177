"""The ledgers: the versioned store, file imports and exports, holdings, planner statistics."""

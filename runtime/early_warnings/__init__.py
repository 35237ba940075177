"""Early warnings over the ledgers: which records each rule flags, the counts, the messages."""

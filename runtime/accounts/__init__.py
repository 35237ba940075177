"""Accounts: the org tree and users set up, passwords, login sessions."""

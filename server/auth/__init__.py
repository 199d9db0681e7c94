"""Accounts, sessions, scopes."""

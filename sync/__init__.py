"""Patrol's conflict-resolving sync layer.

Pure Python with no web framework imports. It defines the storage port it
needs (:mod:`sync.store`); the server provides SQLite and PostgreSQL adapters.
"""

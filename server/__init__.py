"""Patrol server: HTTP API, websocket gateway, Web Push, auth, storage adapters, CLI."""

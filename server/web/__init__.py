"""Serving the built PWA and the headers every response carries."""

"""Analytics: response times, availability, demand vs coverage, tracks, exports.

Pure domain (``intervals``, ``stats``) is separate from the portable SQL that
feeds it (``queries``, ``export``, ``retention``). Results are msgspec
Structs (``models``) so HTTP handlers can return them as they are.
"""

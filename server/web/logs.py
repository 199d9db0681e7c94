"""Log hygiene for what clients can trigger at will.

uvicorn's websocket protocol (``uvicorn/protocols/websockets/websockets_sansio_impl.py``,
``send_receive_event_to_app``) logs ``Invalid UTF-8 sequence received from client.``
with ``logger.exception`` on ``uvicorn.error``: an ERROR and a traceback for every
text frame that is not UTF-8, although it is handled (the socket is closed with
1007). Any client could fill the logs with them. :class:`QuietInvalidUtf8` turns
exactly that record into one INFO line without the traceback; every other
record, and every other exception, passes untouched.
"""

from __future__ import annotations

import logging

UVICORN_ERROR = "uvicorn.error"
_INVALID_UTF8 = "Invalid UTF-8 sequence received from client."


class QuietInvalidUtf8(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if record.msg == _INVALID_UTF8 and isinstance(exc, UnicodeDecodeError):
            record.levelno, record.levelname = logging.INFO, logging.getLevelName(logging.INFO)
            record.msg = "websocket: a text frame that is not UTF-8 (%s); closed with 1007"
            record.args = (exc.reason,)
            record.exc_info, record.exc_text = None, None
        return True


def quiet_client_noise() -> None:
    """Install the filters (idempotent; uvicorn's own logging setup keeps them)."""
    logger = logging.getLogger(UVICORN_ERROR)
    if not any(isinstance(f, QuietInvalidUtf8) for f in logger.filters):
        logger.addFilter(QuietInvalidUtf8())

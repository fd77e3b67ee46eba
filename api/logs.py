"""Logging of the server processes (``serve``, its workers, ``worker``): level and format from
``Settings`` — plain text lines, or one JSON object per line (python-json-logger) for log collectors.

uvicorn's loggers are routed through the same handler; library code only ever calls
``logging.getLogger(__name__)``.
"""

from __future__ import annotations

import logging
import sys
from typing import Final

from api.settings import Settings

#: Fields of every JSON line (besides anything passed as ``extra=``).
JSON_FIELDS: Final[str] = "%(asctime)s %(levelname)s %(name)s %(process)d %(message)s"
TEXT_FORMAT: Final[str] = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: Loggers of the web server, sent through the root handler instead of uvicorn's own.
SERVER_LOGGERS: Final[tuple[str, ...]] = ("uvicorn", "uvicorn.error", "uvicorn.access")


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for ``text`` or ``json``."""
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            JSON_FIELDS,
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            timestamp=False,
        )
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings) -> None:
    """Send every log record at ``settings.log_level`` or above to stderr in ``settings.log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(settings.log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in SERVER_LOGGERS:
        server_logger = logging.getLogger(name)
        server_logger.handlers.clear()
        server_logger.propagate = True
    # procrastinate logs every job start and end at INFO; its warnings and errors are what matter
    if root.level == logging.INFO:
        logging.getLogger("procrastinate").setLevel(logging.WARNING)

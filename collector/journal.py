"""Log lines for an unattended collector: one line per record on standard error, prefixed with the
syslog priority (``<3>`` error … ``<7>`` debug) that journald reads as the entry's level.

journald adds the time stamp and the unit name; outside systemd the prefix is harmless text.
"""

from __future__ import annotations

import logging
import sys
from typing import Final, TextIO

#: Python level → syslog priority (RFC 5424): err, warning, notice/info, debug.
SYSLOG_PRIORITY: Final[dict[int, int]] = {
    logging.CRITICAL: 2,
    logging.ERROR: 3,
    logging.WARNING: 4,
    logging.INFO: 6,
    logging.DEBUG: 7,
}


class JournalFormatter(logging.Formatter):
    """``<priority>logger: message`` on one line (tracebacks folded onto it with `` | ``)."""

    def format(self, record: logging.LogRecord) -> str:
        priority = SYSLOG_PRIORITY.get(record.levelno, 6 if record.levelno < logging.WARNING else 3)
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += " | " + self.formatException(record.exc_info)
        return f"<{priority}>" + text.replace("\n", " | ")


def log_to_journal(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """Replace the root logger's handlers with one journald-friendly handler on ``stream``."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JournalFormatter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request at INFO: an upload every few seconds would flood the journal.
    logging.getLogger("httpx").setLevel(logging.WARNING)

"""Clock check: this computer's clock against the server's ``Date`` header, and what to say about it.

Pure: parses the header and judges the offset; the uploader feeds it every response it gets.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Final

from wire import MAX_FUTURE_SKEW_MS

logger = logging.getLogger(__name__)

#: Offsets up to this are agreement: ``Date`` has 1 s resolution and the request takes time.
CLOCK_AGREE_S: Final[float] = 30.0
#: The server refuses beats more than this far ahead of its clock (``wire.MAX_FUTURE_SKEW_MS``).
SERVER_FUTURE_LIMIT_S: Final[float] = MAX_FUTURE_SKEW_MS / 1000


def parse_http_date(value: str) -> float | None:
    """Unix seconds of an HTTP ``Date`` header (RFC 9110 IMF-fixdate), or None if unreadable."""
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


def describe_offset(offset_s: float) -> str:
    """Plain words for ``offset_s`` = this computer's clock minus the server's."""
    minutes, seconds = divmod(round(abs(offset_s)), 60)
    amount = f"{minutes} min {seconds} s" if minutes else f"{seconds} s"
    if abs(offset_s) <= CLOCK_AGREE_S:
        return f"agrees with the server's clock (within {amount})"
    direction = "ahead of" if offset_s > 0 else "behind"
    text = f"this computer's clock is {amount} {direction} the server's"
    if offset_s > SERVER_FUTURE_LIMIT_S:
        text += (
            f"; the server refuses beats more than {SERVER_FUTURE_LIMIT_S / 60:.0f} min in its"
            " future, so they wait in quarantine"
        )
    return text + ". Turn on automatic time (e.g. `timedatectl set-ntp true`)."


@dataclass
class ClockCheck:
    """The latest offset seen and whether it was reported; logs once per change of verdict."""

    offset_s: float | None = None
    checked_at_s: float | None = None
    _warned: bool = False

    @property
    def agrees(self) -> bool | None:
        """Whether the clocks agree within ``CLOCK_AGREE_S`` (None before the first response)."""
        return None if self.offset_s is None else abs(self.offset_s) <= CLOCK_AGREE_S

    def observe(self, date_header: str | None, local_s: float) -> None:
        """Record one response's ``Date`` header, read at local time ``local_s`` (Unix seconds)."""
        server_s = parse_http_date(date_header) if date_header else None
        if server_s is None:
            return
        self.offset_s = local_s - server_s
        self.checked_at_s = local_s
        if not self.agrees and not self._warned:
            logger.error("clock check: %s", describe_offset(self.offset_s))
            self._warned = True
        elif self.agrees and self._warned:
            logger.warning("clock check: %s", describe_offset(self.offset_s))
            self._warned = False

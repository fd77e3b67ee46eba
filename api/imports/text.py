"""Line-by-line reading of text exports with line numbers, and local-time parsing.

Shared by the text formats of ``api.imports`` (Kubios, Elite HRV, Polar Sensor Logger,
HRV4Training); pure functions over a binary file object.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from datetime import datetime, tzinfo
from typing import BinaryIO

from api.imports.errors import ImportFileError

#: Longest line a text export may have, in characters (HRV4Training RR lists are the longest).
MAX_LINE_CHARS = 1_000_000
_NUMBER = re.compile(r"^[+]?(\d+(?:[.,]\d*)?|[.,]\d+)$")


def text_lines(fh: BinaryIO, file_name: str) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` pairs of a UTF-8 text file (BOM and CRLF tolerated), lazily."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    number = 0
    pending = ""
    while True:
        block = fh.read(1 << 16)
        try:
            text = decoder.decode(block, final=not block)
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                file_name, f"not UTF-8 text ({exc.reason})", line=number + pending.count("\n") + 1
            ) from None
        pending += text
        *complete, pending = pending.split("\n")
        for line in complete:
            number += 1
            yield number, line.rstrip("\r")
        if len(pending) > MAX_LINE_CHARS:
            raise ImportFileError(
                file_name, f"line longer than {MAX_LINE_CHARS} characters", line=number + 1
            )
        if not block:
            break
    if pending.strip():
        yield number + 1, pending.rstrip("\r")


def parse_number(text: str) -> float | None:
    """A plain non-negative decimal (``.`` or ``,`` as the decimal mark), else ``None``."""
    s = text.strip()
    if not _NUMBER.match(s):
        return None
    return float(s.replace(",", "."))


def decimals(text: str) -> int:
    """Digits after the decimal mark of a number as written."""
    s = text.strip().replace(",", ".")
    return len(s.split(".", 1)[1]) if "." in s else 0


def local_datetime(text: str, tz: tzinfo) -> datetime:
    """An ISO 8601 date-time; without an offset it is read in ``tz``. Raises ``ValueError``."""
    value = datetime.fromisoformat(text.strip().replace(" ", "T", 1))
    return value if value.tzinfo is not None else value.replace(tzinfo=tz)


def epoch_ms(value: datetime) -> float:
    """Epoch milliseconds of a tz-aware datetime (sub-ms kept as a fraction)."""
    return value.timestamp() * 1000.0

"""Parser of researcher RR files: Kubios-style text (one RR per line, s or ms) or CSV (rr_ms).

Pure: text in, :class:`RRSeries` out; reading the file from disk is left to ``analysis.cli``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

from analysis.errors import AnalysisError

#: Values whose median is below this are taken to be seconds (as Kubios detects units), in s.
SECONDS_MEDIAN_MAX: Final[float] = 10.0
#: Column that holds the intervals in a CSV file.
CSV_COLUMN: Final[str] = "rr_ms"
_DELIMITERS: Final[tuple[str, ...]] = (",", ";", "\t")


class RRFileError(AnalysisError):
    """An RR file cannot be read; ``line`` (1-based, 0 for the whole file) names where."""

    def __init__(self, message: str, *, line: int, **fields: object) -> None:
        where = f"line {line}: " if line > 0 else ""
        super().__init__(f"{where}{message}", line=line, **fields)
        self.line = line


@dataclass(frozen=True)
class RRSeries:
    """RR intervals read from a file.

    Attributes
    ----------
    rr_ms:
        Intervals in ms, file order.
    unit:
        Unit found in the file: ``"s"`` (converted to ms) or ``"ms"``.
    kind:
        ``"text"`` (one value per line) or ``"csv"`` (``rr_ms`` column).
    header:
        The header line, if the file had one.
    lines:
        1-based line number of each interval in the file.
    """

    rr_ms: NDArray[np.float64]
    unit: Literal["s", "ms"]
    kind: Literal["text", "csv"]
    header: str | None
    lines: NDArray[np.int64]


def parse_rr_text(text: str) -> RRSeries:
    """Parse an RR file's text.

    Two layouts are accepted. Plain text: one RR interval per line, in seconds or milliseconds
    (seconds when the median value is below 10, as Kubios decides), an optional non-numeric
    header on the first line. CSV (``,`` ``;`` or tab separated): a header row with an ``rr_ms``
    column, then one row per interval. Blank lines and lines starting with ``#`` are skipped.

    Parameters
    ----------
    text:
        The file's content.

    Returns
    -------
    RRSeries

    Raises
    ------
    RRFileError
        A value that is not a number, not finite or not positive; a line with several values in
        a plain-text file; a CSV row too short for the ``rr_ms`` column; a CSV header without
        ``rr_ms``; a second header; or no values at all. The message names the line.
    """
    content = [
        (number, raw.strip())
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip() and not raw.lstrip().startswith("#")
    ]
    if not content:
        raise RRFileError("no RR values found (the file is empty)", line=0)
    first_no, first = content[0]
    delimiter = next((d for d in _DELIMITERS if d in first), None)
    if delimiter is not None and _parse_number(first.split(delimiter)[0]) is None:
        return _parse_csv(content, delimiter)
    header: str | None = None
    rows = content
    if _parse_number(first) is None:
        if not any(ch.isalpha() for ch in first):
            raise RRFileError(f"cannot read {first!r} as an RR interval", line=first_no)
        header = first
        rows = content[1:]
    values: list[float] = []
    lines: list[int] = []
    for number, line in rows:
        parts = line.split()
        if len(parts) != 1 or delimiter_in(line):
            raise RRFileError(
                f"expected one RR value per line, got {line!r}", line=number, text=line
            )
        values.append(_positive(parts[0], number))
        lines.append(number)
    if not values:
        raise RRFileError("no RR values found after the header", line=first_no)
    return _series(values, lines, "text", header)


def delimiter_in(line: str) -> bool:
    """True when ``line`` contains a CSV delimiter (``,`` ``;`` or tab)."""
    return any(d in line for d in _DELIMITERS)


def _parse_csv(content: list[tuple[int, str]], delimiter: str) -> RRSeries:
    header_no, header = content[0]
    names = [name.strip().strip('"').strip("'").lower() for name in header.split(delimiter)]
    if CSV_COLUMN not in names:
        raise RRFileError(
            f"CSV header has no {CSV_COLUMN!r} column (columns: {', '.join(names)})",
            line=header_no,
        )
    col = names.index(CSV_COLUMN)
    values: list[float] = []
    lines: list[int] = []
    for number, line in content[1:]:
        fields = line.split(delimiter)
        if len(fields) <= col:
            raise RRFileError(
                f"row has {len(fields)} fields, {CSV_COLUMN!r} is column {col + 1}", line=number
            )
        values.append(_positive(fields[col].strip().strip('"'), number))
        lines.append(number)
    if not values:
        raise RRFileError("CSV file has a header but no rows", line=header_no)
    series = _series(values, lines, "csv", header)
    if series.unit != "ms":
        raise RRFileError(
            f"{CSV_COLUMN!r} values look like seconds (median below {SECONDS_MEDIAN_MAX:g})",
            line=header_no,
        )
    return series


def _parse_number(token: str) -> float | None:
    try:
        return float(token.strip().strip('"'))
    except ValueError:
        return None


def _positive(token: str, line: int) -> float:
    value = _parse_number(token)
    if value is None:
        raise RRFileError(f"cannot read {token!r} as an RR interval", line=line, text=token)
    if not math.isfinite(value) or value <= 0:
        raise RRFileError(
            f"RR interval must be a positive finite number, got {token!r}", line=line, text=token
        )
    return value


def _series(
    values: list[float], lines: list[int], kind: Literal["text", "csv"], header: str | None
) -> RRSeries:
    arr = np.asarray(values, dtype=np.float64)
    unit: Literal["s", "ms"] = "s" if float(np.median(arr)) < SECONDS_MEDIAN_MAX else "ms"
    if unit == "s":
        arr = arr * 1000.0
    return RRSeries(arr, unit, kind, header, np.asarray(lines, dtype=np.int64))

"""Kubios-style RR text: one RR interval per line in seconds, one file per patient and recording.

A recording is a continuous run of beats (``beats.segment_starts``); RR values are exact (ticks / 1024 s).
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray


def rr_lines(rr_ticks: NDArray[np.int32]) -> bytes:
    """RR intervals as seconds, one per line; ``ticks / 1024`` is exact in binary and printed exactly."""
    seconds = (rr_ticks.astype(np.float64) / 1024.0).tolist()
    return ("\n".join(map(repr, seconds)) + "\n").encode() if seconds else b""


def recording_file_name(pseudonym: str, number: int, first_beat_ms: int, first_rr_ms: float) -> str:
    """``kubios/<pseudonym>/<pseudonym>_rec0001_20260301T071502Z.txt``: start = first beat minus its RR."""
    start = datetime.fromtimestamp((first_beat_ms - first_rr_ms) / 1000.0, tz=UTC)
    return f"kubios/{pseudonym}/{pseudonym}_rec{number:04d}_{start.strftime('%Y%m%dT%H%M%SZ')}.txt"

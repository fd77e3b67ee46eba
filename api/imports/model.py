"""What a parser yields: beats in bounded chunks with their provenance, and summaries kept apart.

Pure data; the parsers are the format modules of ``api.imports``, storage is ``api.imports.storage``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Final, Literal

import numpy as np
from numpy.typing import NDArray

#: Beats per chunk a parser yields (and per stored batch): bounds memory on any file size.
CHUNK_BEATS: Final[int] = 10_000
#: RR intervals outside the wire contract's bounds (``wire.bounds``: 200-3000 ms) are not beats: an
#: import skips and counts them (a pause or missed beats), advancing the clock by them.
IMPORT_RR_MIN_MS: Final[float] = 200.0
IMPORT_RR_MAX_MS: Final[float] = 3000.0

Source = Literal["apple_health", "fit", "polar", "elite_hrv", "hrv4training", "kubios"]


@dataclass(frozen=True)
class ImportContext:
    """What the parser may need besides the bytes.

    Attributes
    ----------
    file_name:
        The uploaded file's name (errors name it; Elite HRV keeps the reading's time in it).
    tz:
        Time zone for local times without an offset (Polar, Elite HRV, HRV4Training): the patient's.
    start:
        Absolute start of a file without one (Kubios RR text), tz-aware; ``None`` if not given.
    """

    file_name: str
    tz: tzinfo
    start: datetime | None = None


@dataclass
class BeatChunk:
    """Beats of one device: end time of each RR interval (epoch ms) and the RR in ms as the file
    holds it; ``gaps_ms`` are stretches the file shows to have no beats (series breaks)."""

    device: str
    t_ms: NDArray[np.int64]
    rr_ms: NDArray[np.float64]
    gaps_ms: list[tuple[int, int]] = field(default_factory=list)
    #: Beats whose RR came from a rate, not an interval (Apple's first beat of a series): flagged.
    rr_from_rate: NDArray[np.bool_] | None = None
    #: RR values of the file skipped as impossible (outside the wire bounds).
    skipped: int = 0

    @property
    def n_beats(self) -> int:
        return int(self.t_ms.shape[0])


@dataclass(frozen=True)
class Summary:
    """A value the source computed itself (e.g. Apple's SDNN of a reading): stored as what it is,
    never mixed into markers computed from beats."""

    device: str
    metric: str  # e.g. "sdnn_ms", "rmssd_ms", "hr_bpm"
    start: datetime
    end: datetime | None
    value: float


@dataclass
class ParsedImport:
    """A detected file being parsed: its source, time resolution and a stream of chunks.

    ``chunks`` yields :class:`BeatChunk` and :class:`Summary` items lazily; iterating it raises
    :class:`api.imports.errors.ImportFileError` at the first bad line or record.
    """

    source: Source
    resolution_ms: float
    chunks: Iterator[BeatChunk | Summary]


def chunk_arrays(
    t_ms: list[int], rr_ms: list[float]
) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
    """Lists of one chunk as arrays."""
    return np.asarray(t_ms, dtype=np.int64), np.asarray(rr_ms, dtype=np.float64)

"""Places imported beats on the clock and cuts them into chunks.

``ChunkBuffer`` collects beats with given times; ``RrTimeline`` turns RR intervals without times of
their own into beat times (cumulative sum from an anchor, re-anchored with a gap when the file's own
time says the beats fell behind or ran ahead). Pure; used by the format modules of ``api.imports``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from api.imports.model import CHUNK_BEATS, IMPORT_RR_MAX_MS, IMPORT_RR_MIN_MS, BeatChunk

#: An RR sum that drifts this far from the file's own time re-anchors the beats (with a gap), ms.
RESYNC_MS = 2500.0


class ChunkBuffer:
    """Beats of one device in arrival order; full chunks are taken as they fill."""

    def __init__(self, device: str) -> None:
        self.device = device
        self._t: list[int] = []
        self._rr: list[float] = []
        self._rate: list[bool] = []
        self._gaps: list[tuple[int, int]] = []
        self._skipped = 0
        self.count = 0

    @staticmethod
    def plausible(rr_ms: float) -> bool:
        """Whether an RR interval can be a beat (the wire contract's bounds)."""
        return IMPORT_RR_MIN_MS <= rr_ms <= IMPORT_RR_MAX_MS

    def skip(self) -> None:
        """Count an RR value that is not a beat."""
        self._skipped += 1

    def add(self, t_ms: int, rr_ms: float, *, from_rate: bool = False) -> None:
        """One beat; an implausible RR is counted as skipped instead."""
        if not self.plausible(rr_ms):
            self._skipped += 1
            return
        self._t.append(t_ms)
        self._rr.append(rr_ms)
        self._rate.append(from_rate)
        self.count += 1

    def gap(self, start_ms: int, end_ms: int) -> None:
        if end_ms >= start_ms:
            self._gaps.append((start_ms, end_ms))

    def _take(self) -> BeatChunk:
        rate = np.asarray(self._rate, dtype=bool)
        chunk = BeatChunk(
            device=self.device,
            t_ms=np.asarray(self._t, dtype=np.int64),
            rr_ms=np.asarray(self._rr, dtype=np.float64),
            gaps_ms=self._gaps,
            rr_from_rate=rate if rate.any() else None,
            skipped=self._skipped,
        )
        self._t, self._rr, self._rate, self._gaps, self._skipped = [], [], [], [], 0
        return chunk

    def full(self) -> Iterator[BeatChunk]:
        """The buffered beats as a chunk once ``CHUNK_BEATS`` have gathered."""
        if len(self._t) >= CHUNK_BEATS:
            yield self._take()

    def rest(self) -> Iterator[BeatChunk]:
        """Whatever is left (at the end of the file)."""
        if self._t or self._gaps or self._skipped:
            yield self._take()


class RrTimeline:
    """Beat times for RR intervals that carry no time of their own.

    Each beat ends ``rr_ms`` after the previous one; the first after :meth:`anchor` ends ``rr_ms``
    after the anchor. ``add(..., file_t_ms=...)`` passes the file's own time of that beat: when the
    RR sum falls more than ``RESYNC_MS`` behind it, the beat is placed at the file's time and a gap
    is recorded (beats were missing, or the recording paused); beats never move backwards.
    """

    def __init__(self, buffer: ChunkBuffer) -> None:
        self.buffer = buffer
        self._pos_ms: float | None = None
        self._last_t: int | None = None

    def anchor(self, start_ms: float, *, gap: bool = True) -> None:
        """The next beat ends its RR after ``start_ms``; a gap from the last beat if there was one."""
        if gap and self._last_t is not None and start_ms > self._last_t:
            self.buffer.gap(self._last_t, round(start_ms))
        self._pos_ms = start_ms if self._pos_ms is None else max(start_ms, self._pos_ms)

    @property
    def position_ms(self) -> float | None:
        return self._pos_ms

    def add(self, rr_ms: float, file_t_ms: float | None = None) -> None:
        if self._pos_ms is None:
            if file_t_ms is None:
                raise ValueError("RrTimeline.add before anchor")
            self._pos_ms = file_t_ms - rr_ms
        pos = self._pos_ms + rr_ms
        if file_t_ms is not None and file_t_ms - pos > RESYNC_MS:
            # The file's clock is well ahead of the RR sum: beats are missing (or it paused).
            if self._last_t is not None:
                self.buffer.gap(self._last_t, round(file_t_ms))
            pos = file_t_ms
        self._pos_ms = pos
        if not self.buffer.plausible(rr_ms):
            # Not a beat (a pause, missed beats): time moves on, the next beat follows a gap.
            self.buffer.skip()
            if self._last_t is not None:
                self.buffer.gap(self._last_t, round(pos))
            return
        t = round(pos)
        if self._last_t is not None and t <= self._last_t:
            t = self._last_t + 1
        self.buffer.add(t, rr_ms)
        self._last_t = t

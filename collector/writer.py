"""Spool writer: commits beats to the spool, and while its disk is full holds them in a bounded memory
buffer, repeating a loud error, until space returns; warns early when free space runs low.

Storage itself is ``collector.spool``; what the recorder does with beats is ``collector.recorder``.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from collector.beats import Beat, Gap
from collector.spool import Spool, SpoolFull

logger = logging.getLogger(__name__)

#: Beats held in memory at most while the disk is full: about 48 h at 70 bpm, ~25 MB.
DEFAULT_BUFFER_MAX_BEATS: Final[int] = 200_000
#: Free space below which a warning repeats (bytes).
DEFAULT_LOW_SPACE_BYTES: Final[int] = 100 * 1024 * 1024
#: How often the error (disk full) and the warning (space low) are repeated, seconds.
DEFAULT_REPEAT_S: Final[float] = 60.0
#: How often writing is retried while the disk is full, seconds.
DEFAULT_RETRY_S: Final[float] = 5.0


@dataclass(frozen=True, slots=True)
class DiskState:
    """What the writer knows about the spool's disk."""

    full: bool
    free_bytes: int | None
    low: bool
    buffered_beats: int
    lost_beats: int


class SpoolWriter:
    """Writes beats to ``spool``; on ``SpoolFull`` keeps them (and gaps, dropped counts) in memory.

    Parameters
    ----------
    spool:
        The spool.
    buffer_max_beats:
        Most beats held in memory; beyond it the oldest are discarded and counted in ``lost_beats``
        (said in the repeated error).
    low_space_bytes:
        Free space on the spool's file system below which a warning repeats.
    repeat_s, retry_s:
        Repetition of the error / warning, and spacing of write retries while full.
    clock:
        Monotonic clock, seconds.
    free_bytes:
        Free bytes of the file system holding a path (``shutil.disk_usage``; tests pass their own).
    """

    def __init__(
        self,
        spool: Spool,
        *,
        buffer_max_beats: int = DEFAULT_BUFFER_MAX_BEATS,
        low_space_bytes: int = DEFAULT_LOW_SPACE_BYTES,
        repeat_s: float = DEFAULT_REPEAT_S,
        retry_s: float = DEFAULT_RETRY_S,
        clock: Callable[[], float] = time.monotonic,
        free_bytes: Callable[[str], int] | None = None,
    ) -> None:
        self.spool = spool
        self.buffer_max_beats = buffer_max_beats
        self.low_space_bytes = low_space_bytes
        self._repeat_s = repeat_s
        self._retry_s = retry_s
        self._clock = clock
        self._free_bytes = free_bytes or (lambda path: shutil.disk_usage(path).free)
        self._beats: deque[Beat] = deque()
        self._gaps: list[Gap] = []
        self._dropped = 0
        self.full = False
        self.lost_beats = 0
        self.free_bytes: int | None = None
        self._last_error_s = float("-inf")
        self._last_warning_s = float("-inf")
        self._last_retry_s = float("-inf")
        #: Beats this writer committed to the spool (directly or from the buffer).
        self.committed_beats = 0

    @property
    def buffered_beats(self) -> int:
        """Beats held in memory, not yet in the spool."""
        return len(self._beats)

    def state(self) -> DiskState:
        """The disk's state for status displays."""
        return DiskState(
            full=self.full,
            free_bytes=self.free_bytes,
            low=self.free_bytes is not None and self.free_bytes < self.low_space_bytes,
            buffered_beats=len(self._beats),
            lost_beats=self.lost_beats,
        )

    def append(self, beats: Sequence[Beat], gaps: Sequence[Gap] = (), dropped: int = 0) -> int:
        """Commit beats, gaps and a dropped count, or hold them while the disk is full.

        Returns
        -------
        int
            Beats committed to the spool by this call (held ones included once they are written).

        Raises
        ------
        SpoolError
            For anything but a full disk (bad input, a broken spool file).
        """
        now = self._clock()
        if self.full and now - self._last_retry_s < self._retry_s:
            self._hold(beats, gaps, dropped, now)
            return 0
        if self._beats or self._gaps or self._dropped:
            self._hold(beats, gaps, dropped, now)
            return self.flush()
        try:
            self.spool.append(beats, gaps, dropped)
        except SpoolFull as exc:
            self._became_full(exc, now)
            self._hold(beats, gaps, dropped, now)
            return 0
        self.committed_beats += len(beats)
        return len(beats)

    def flush(self) -> int:
        """Try to write what is held; returns the beats written (0 while the disk is still full)."""
        now = self._clock()
        self._last_retry_s = now
        if not (self._beats or self._gaps or self._dropped):
            return 0
        held = list(self._beats)
        try:
            self.spool.append(held, self._gaps, self._dropped)
        except SpoolFull as exc:
            self._became_full(exc, now)
            self._say_full(now)
            return 0
        self._beats.clear()
        self._gaps.clear()
        self._dropped = 0
        if self.full:
            logger.warning(
                "spool writable again (%s): wrote %d beats held in memory",
                self.spool.path,
                len(held),
            )
        self.full = False
        self.committed_beats += len(held)
        return len(held)

    def check_space(self) -> DiskState:
        """Measure free space, warn (repeatedly) when it is low, retry writing when full."""
        now = self._clock()
        try:
            self.free_bytes = int(self._free_bytes(str(self.spool.path.parent)))
        except OSError as exc:
            logger.warning("cannot measure free space of %s: %s", self.spool.path.parent, exc)
            self.free_bytes = None
        if (
            not self.full
            and self.free_bytes is not None
            and self.free_bytes < self.low_space_bytes
            and now - self._last_warning_s >= self._repeat_s
        ):
            self._last_warning_s = now
            logger.warning(
                "spool disk space low: %.1f MB free on %s (warning below %.0f MB); free some space",
                self.free_bytes / 1e6,
                self.spool.path.parent,
                self.low_space_bytes / 1e6,
            )
        if self.full and now - self._last_retry_s >= self._retry_s:
            self.flush()
        elif self.full:
            self._say_full(now)
        return self.state()

    def _became_full(self, exc: SpoolFull, now: float) -> None:
        if not self.full:
            self.full = True
            self._last_error_s = float("-inf")
            logger.error("%s; recording goes on in memory", exc)
        self._last_retry_s = now

    def _say_full(self, now: float) -> None:
        if now - self._last_error_s < self._repeat_s:
            return
        self._last_error_s = now
        lost = f", {self.lost_beats} oldest beats discarded" if self.lost_beats else ""
        logger.error(
            "SPOOL DISK FULL (%s): %d beats held in memory (at most %d%s); free space on that disk",
            self.spool.path.parent,
            len(self._beats),
            self.buffer_max_beats,
            lost,
        )

    def _hold(self, beats: Sequence[Beat], gaps: Sequence[Gap], dropped: int, now: float) -> None:
        self._beats.extend(beats)
        self._gaps.extend(gaps)
        self._dropped += dropped
        over = len(self._beats) - self.buffer_max_beats
        if over > 0:
            for _ in range(over):
                self._beats.popleft()
            self.lost_beats += over
        if self.full:
            self._say_full(now)

"""The recompute job: a patient's 5-min windows over the dirty range, then their daily values and
trends.

Windows come from ``analysis.compute_windows_timed`` on the stored beats (clock-aligned epoch
windows), one ``BLOCK_S`` block at a time with ``CONTEXT_S`` of beats either side for artifact
correction, so only the blocks a change touches are re-analysed; daily values from
``api.worker.daily``. Scheduling and retries are left to ``api.worker.runner``.
"""

from __future__ import annotations

import logging
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import numpy as np
import psycopg

from analysis import compute_windows_timed
from analysis.bounds import DEFAULT_WINDOW_S
from analysis.quality import split_quality
from api.db.queries import q
from api.errors import SomatraceError
from api.worker.daily import recompute_daily
from api.worker.window_frame import MARKER_COLUMNS

logger = logging.getLogger(__name__)

#: Window length, s (clock-aligned to the epoch: windows start at :00, :05, ... UTC).
WINDOW_S: Final[int] = int(DEFAULT_WINDOW_S)
#: Beats loaded before and after the recomputed windows, s: artifact correction looks at ±45 beats
#: (91-beat quartile window, Lipponen & Tarvainen 2019), which 600 s covers down to 9 bpm.
CONTEXT_S: Final[int] = 600
#: Analysis block, s: NN beat times are anchored afresh at the start of each clock-aligned block, so
#: a change re-analyses at most the blocks it touches (a live upload: about an hour of beats, at 1 h
#: as at 12 h into a night), and memory stays bounded for long backfills.
BLOCK_S: Final[int] = 1800


class RecomputeError(SomatraceError):
    """A recompute job could not finish; the dirty range is kept, so a retry redoes it."""

    code = "recompute_failed"


@dataclass(frozen=True)
class RecomputeReport:
    """What one job recomputed."""

    patient_id: uuid.UUID
    start: datetime
    end: datetime
    windows_written: int
    days_written: int
    complete: bool  # False when new beats widened the dirty range meanwhile (another job follows)


def slot_floor(t: datetime) -> datetime:
    """Start of the clock-aligned window holding ``t``."""
    epoch_s = math.floor(t.timestamp() / WINDOW_S) * WINDOW_S
    return datetime.fromtimestamp(epoch_s, UTC)


def _none_if_nan(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return float(value)


def compute_window_rows(
    patient_id: uuid.UUID,
    beat_t_s: np.ndarray[Any, np.dtype[np.float64]],
    rr_ms: np.ndarray[Any, np.dtype[np.float64]],
    start: datetime,
    end: datetime,
) -> list[tuple[Any, ...]]:
    """``hrv_windows`` rows of the windows starting in ``[start, end)``, from beats with context."""
    if beat_t_s.size == 0:
        return []
    frame = compute_windows_timed(beat_t_s, rr_ms, window_s=WINDOW_S, clean=True, origin_s=0.0)
    lo, hi = start.timestamp(), end.timestamp()
    frame = frame[(frame["window_start_s"] >= lo) & (frame["window_start_s"] < hi)]
    rows: list[tuple[Any, ...]] = []
    for rec in frame.to_dict("records"):
        grade, reasons = split_quality(str(rec["quality"]))
        rows.append(
            (
                patient_id,
                datetime.fromtimestamp(float(rec["window_start_s"]), UTC),
                WINDOW_S,
                int(rec["n_beats"]),
                *(_none_if_nan(rec[c]) for c in MARKER_COLUMNS),
                grade,
                reasons,
            )
        )
    return rows


def block_floor(t: datetime) -> datetime:
    """Start of the clock-aligned analysis block holding ``t``."""
    epoch_s = math.floor(t.timestamp() / BLOCK_S) * BLOCK_S
    return datetime.fromtimestamp(epoch_s, UTC)


def touched_windows(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """``[first, stop)``: the window starts whose values beats changed in ``[start, end]`` can move.

    Artifact correction reaches ``CONTEXT_S`` either side of a changed beat; NN beat times are
    cumulative from their block's anchor, so a change moves every later window of its block (and
    of the block its correction context reaches), never a window of a later block.
    """
    first = slot_floor(start - timedelta(seconds=CONTEXT_S))
    stop = block_floor(end + timedelta(seconds=CONTEXT_S)) + timedelta(seconds=BLOCK_S)
    return first, stop


def recompute_windows(
    conn: psycopg.Connection[Any], patient_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Replace the patient's windows that beats changed in ``[start, end]`` touch; returns windows
    written.

    Incremental: each clock-aligned block of ``BLOCK_S`` is analysed on its own beats with
    ``CONTEXT_S`` of beats either side (``analysis.compute_windows_timed`` anchors NN beat times at
    the first beat it is given, so every block is anchored at its own start minus the context, at
    the strap's recorded beat time). A block's windows are therefore the same whether they are
    computed now or from the whole night, and a live upload re-analyses at most two blocks (about an
    hour of beats) however long the recording already is. Against ``analysis`` run on a whole
    recording segment at once, NN times are re-anchored to the recorded beat times at each block
    start instead of accumulating the NN sum across blocks: they differ only by what artifact
    corrections added to that sum and by the strap's clock drift since the segment began (ms).
    Runs on ``conn`` inside the caller's transaction.
    """
    first, stop = touched_windows(start, end)
    written = 0
    block = block_floor(first)
    while block < stop:
        block_end = block + timedelta(seconds=BLOCK_S)
        w_lo, w_hi = max(first, block), min(stop, block_end)
        beats = conn.execute(
            q("windows_load_beats"),
            {
                "patient_id": patient_id,
                "start": block - timedelta(seconds=CONTEXT_S),
                "end": block_end + timedelta(seconds=CONTEXT_S),
            },
        ).fetchall()
        t_s = np.fromiter((r["t_s"] for r in beats), dtype=np.float64, count=len(beats))
        rr = np.fromiter((r["rr_ms"] for r in beats), dtype=np.float64, count=len(beats))
        rows = compute_window_rows(patient_id, t_s, rr, w_lo, w_hi)
        conn.execute(
            q("windows_delete_range"), {"patient_id": patient_id, "start": w_lo, "end": w_hi}
        )
        if rows:
            with conn.cursor() as cur, cur.copy(q("windows_copy")) as copy:
                for row in rows:
                    copy.write_row(row)
        written += len(rows)
        block = block_end
    return written


def recompute_patient(
    conn: psycopg.Connection[Any], patient_id: uuid.UUID
) -> RecomputeReport | None:
    """Recompute what the patient's dirty range touched, in one transaction; ``None`` if clean.

    Windows of the touched 5-min slots are replaced and the wear segments rebuilt; then the daily
    values of the days those windows belong to (``api.worker.daily.recompute_daily``). The dirty
    row is deleted only if no ingest widened it meanwhile; otherwise the job
    that ingest deferred meanwhile picks it up.
    """
    dirty = conn.execute(q("worker_take_dirty"), {"patient_id": patient_id}).fetchone()
    if dirty is None:
        return None
    start, end = dirty["start_at"], dirty["end_at"]
    with conn.transaction():
        n_windows = recompute_windows(conn, patient_id, start, end)
        conn.execute(q("wear_segments_delete"), {"patient_id": patient_id})
        conn.execute(q("wear_segments_rebuild"), {"patient_id": patient_id})
        n_days = recompute_daily(conn, patient_id, str(dirty["timezone"]), (start, end))
        cur = conn.execute(
            q("worker_clear_dirty"), {"patient_id": patient_id, "version": dirty["version"]}
        )
        complete = cur.rowcount == 1
    return RecomputeReport(patient_id, start, end, n_windows, n_days, complete)

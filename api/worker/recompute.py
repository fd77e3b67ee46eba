"""The recompute job: a patient's 5-min windows over the dirty range, then their daily values and
trends.

Windows come from ``analysis.compute_windows_timed`` on the stored beats (clock-aligned epoch
windows) with ``CONTEXT_S`` of beats either side for artifact correction; daily values from
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
from analysis.bounds import DEFAULT_WINDOW_S, GAP_MAX_S
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
#: Windows recomputed per analysis call, s (bounds memory for long backfills).
CHUNK_S: Final[int] = 6 * 3600
#: A pause longer than this ends a recording segment (``analysis.bounds.GAP_MAX_S``).
SEGMENT_GAP: Final[timedelta] = timedelta(seconds=GAP_MAX_S)
#: How far the start (end) of a segment is searched before (after) the changed beats.
SEGMENT_SEARCH: Final[timedelta] = timedelta(hours=12)


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


def _segment_start(conn: psycopg.Connection[Any], patient_id: uuid.UUID, t: datetime) -> datetime:
    row = conn.execute(
        q("windows_segment_start"),
        {"patient_id": patient_id, "t": t, "floor": t - SEGMENT_SEARCH, "gap": SEGMENT_GAP},
    ).fetchone()
    found = row["start_at"] if row is not None else None
    return found if isinstance(found, datetime) and found < t else t


def _segment_end(conn: psycopg.Connection[Any], patient_id: uuid.UUID, t: datetime) -> datetime:
    row = conn.execute(
        q("windows_segment_end"),
        {"patient_id": patient_id, "t": t, "ceiling": t + SEGMENT_SEARCH, "gap": SEGMENT_GAP},
    ).fetchone()
    found = row["end_at"] if row is not None else None
    return found if isinstance(found, datetime) and found > t else t


def recompute_windows(
    conn: psycopg.Connection[Any], patient_id: uuid.UUID, start: datetime, end: datetime
) -> int:
    """Replace the patient's windows that beats changed in ``[start, end]`` touch; returns windows
    written.

    Beats changed at ``start``..``end`` move the artifact correction ``CONTEXT_S`` around them and
    the NN beat times of the rest of their recording segment (``analysis`` places NN beats at the
    segment's first beat time plus the cumulative NN sum). So the windows from ``start - CONTEXT_S``
    to the end of the segment holding ``end`` are rewritten, from beats loaded from the start of the
    segment holding each chunk (segments are searched ``SEGMENT_SEARCH`` back and ahead at most):
    the result equals ``analysis`` on the whole recording for segments shorter than that.
    Runs on ``conn`` inside the caller's transaction.
    """
    seg_start = _segment_start(conn, patient_id, start)
    first = slot_floor(max(seg_start, start - timedelta(seconds=CONTEXT_S)))
    stop = slot_floor(_segment_end(conn, patient_id, end)) + timedelta(seconds=WINDOW_S)
    written = 0
    chunk_start = first
    while chunk_start < stop:
        chunk_end = min(stop, chunk_start + timedelta(seconds=CHUNK_S))
        anchor = (
            seg_start if chunk_start == first else _segment_start(conn, patient_id, chunk_start)
        )
        beats = conn.execute(
            q("windows_load_beats"),
            {
                "patient_id": patient_id,
                "start": slot_floor(min(anchor, chunk_start)) - timedelta(seconds=CONTEXT_S),
                "end": chunk_end + timedelta(seconds=CONTEXT_S),
            },
        ).fetchall()
        t_s = np.fromiter((r["t_s"] for r in beats), dtype=np.float64, count=len(beats))
        rr = np.fromiter((r["rr_ms"] for r in beats), dtype=np.float64, count=len(beats))
        rows = compute_window_rows(patient_id, t_s, rr, chunk_start, chunk_end)
        conn.execute(
            q("windows_delete_range"),
            {"patient_id": patient_id, "start": chunk_start, "end": chunk_end},
        )
        if rows:
            with conn.cursor() as cur, cur.copy(q("windows_copy")) as copy:
                for row in rows:
                    copy.write_row(row)
        written += len(rows)
        chunk_start = chunk_end
    return written


def recompute_patient(
    conn: psycopg.Connection[Any], patient_id: uuid.UUID
) -> RecomputeReport | None:
    """Recompute what the patient's dirty range touched, in one transaction; ``None`` if clean.

    Windows of the touched 5-min slots are replaced and the wear segments rebuilt; then all daily values of the patient are
    rebuilt (a changed day moves the rolling means after it and, inside the baseline, the band of
    every day). The dirty row is deleted only if no ingest widened it meanwhile; otherwise the job
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
        n_days = recompute_daily(conn, patient_id, str(dirty["timezone"]))
        cur = conn.execute(
            q("worker_clear_dirty"), {"patient_id": patient_id, "version": dirty["version"]}
        )
        complete = cur.rowcount == 1
    return RecomputeReport(patient_id, start, end, n_windows, n_days, complete)

"""The stored 5-minute windows of a patient as the per-window table ``analysis.trends`` reads.

Shared by the recompute job (``api.worker.recompute``, which writes windows) and the daily values
(``api.worker.daily``, which reads them); computing windows and daily values is left to those modules.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Final

import pandas as pd
import psycopg

from analysis import COLUMNS
from api.db.queries import q

#: Marker columns copied from ``analysis.compute_windows_timed`` into ``hrv_windows``, in order.
MARKER_COLUMNS: Final[tuple[str, ...]] = tuple(
    c for c in COLUMNS if c not in ("window_start_s", "n_beats", "quality")
)


def windows_frame(
    conn: psycopg.Connection[Any],
    patient_id: uuid.UUID,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pd.DataFrame:
    """The patient's stored windows (all, or those starting in ``[start, end)``) as the per-window
    table ``analysis.trends`` expects."""
    if start is None or end is None:
        rows = conn.execute(q("windows_for_trends"), {"patient_id": patient_id}).fetchall()
    else:
        rows = conn.execute(
            q("windows_for_trends_range"), {"patient_id": patient_id, "start": start, "end": end}
        ).fetchall()
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    frame["window_start"] = pd.to_datetime(frame["window_start"], utc=True)
    frame["window_start_s"] = frame["window_start"].map(lambda t: t.timestamp())
    frame["quality"] = [
        f"{g}: {'; '.join(n)}" if n else str(g)
        for g, n in zip(frame["quality"], frame["quality_notes"], strict=True)
    ]
    for col in MARKER_COLUMNS:
        frame[col] = frame[col].astype("float64")
    return frame

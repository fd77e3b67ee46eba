"""Streams a patient's beats out of PostgreSQL in pages (keyset, packed arrays), with per-beat artifact flags.

Flags come from ``analysis.clean`` (Lipponen & Tarvainen 2019); this module only reads and maps them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from numpy.typing import NDArray

from analysis.clean import clean_rr
from api.db.queries import q

#: Beats per chunk handed to the format writers (bounds memory whatever the export's size).
CHUNK_BEATS = 100_000
#: A new continuous segment starts when a beat ends this much later than its own RR allows (ms).
SEGMENT_GAP_MS = 3000.0
#: Tolerance when matching original and corrected beat times / intervals (ms).
MATCH_TOLERANCE_MS = 0.5


@dataclass(frozen=True)
class BeatChunk:
    """Consecutive beats of one patient: beat times (epoch ms), RR (1/1024 s ticks, ms), artifact flags."""

    t_ms: NDArray[np.int64]
    rr_ticks: NDArray[np.int32]
    rr_ms: NDArray[np.float64]
    artifact: NDArray[np.bool_]
    segment_start: NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.t_ms.size)


def segment_starts(
    t_ms: NDArray[np.int64], rr_ms: NDArray[np.float64], previous_t_ms: int | None
) -> NDArray[np.bool_]:
    """True where a beat does not follow the previous one within its own RR (+ ``SEGMENT_GAP_MS``)."""
    prev = np.empty(t_ms.size, dtype=np.float64)
    if t_ms.size:
        prev[0] = np.nan if previous_t_ms is None else float(previous_t_ms)
        prev[1:] = t_ms[:-1]
    with np.errstate(invalid="ignore"):
        gap = (t_ms - prev) > (rr_ms + SEGMENT_GAP_MS)
    gap |= np.isnan(prev)
    return gap


def artifact_flags(rr_ms: NDArray[np.float64], starts: NDArray[np.bool_]) -> NDArray[np.bool_]:
    """Per original beat: True when artifact correction removed it or changed the interval ending at it.

    Beats outside the physiological bounds are flagged; for the others, the corrected NN series is laid
    on the same time axis and a beat is flagged unless an NN interval of the same length ends at its time.
    """
    flags = np.ones(rr_ms.size, dtype=bool)
    if rr_ms.size == 0:
        return flags
    result = clean_rr(rr_ms, breaks=starts)
    kept = result.keep_index
    if kept.size == 0:
        return flags
    # Times on a per-segment axis: segment ids of kept beats follow result.segment_id order.
    seg_of_kept = np.cumsum(starts, dtype=np.int64)[kept]
    orig_rr = rr_ms[kept]
    # cumulative time within each segment (original and corrected)
    orig_t = _segment_cumsum(orig_rr, seg_of_kept)
    nn_seg_ids = (
        np.unique(seg_of_kept)[result.segment_id] if result.nn_ms.size else np.zeros(0, np.int64)
    )
    nn_t = _segment_cumsum(result.nn_ms, nn_seg_ids)
    # compare on a global key: (segment, time)
    span = float(max(orig_t.max(initial=0.0), nn_t.max(initial=0.0))) + 1e6
    key_orig = seg_of_kept * span + orig_t
    key_nn = nn_seg_ids * span + nn_t
    pos = np.searchsorted(key_nn, key_orig)
    pos_c = np.clip(pos, 0, max(key_nn.size - 1, 0))
    pos_l = np.clip(pos - 1, 0, max(key_nn.size - 1, 0))
    if key_nn.size:
        near_c = np.abs(key_nn[pos_c] - key_orig)
        near_l = np.abs(key_nn[pos_l] - key_orig)
        best = np.where(near_c <= near_l, pos_c, pos_l)
        same_time = np.minimum(near_c, near_l) <= MATCH_TOLERANCE_MS
        same_rr = np.abs(result.nn_ms[best] - orig_rr) <= MATCH_TOLERANCE_MS
        flags[kept] = ~(same_time & same_rr)
    return flags


def _segment_cumsum(values: NDArray[np.float64], seg: NDArray[np.int64]) -> NDArray[np.float64]:
    """Running sum of ``values`` restarting where ``seg`` changes."""
    if values.size == 0:
        return np.zeros(0, dtype=np.float64)
    csum = np.cumsum(values)
    first = np.concatenate(([True], seg[1:] != seg[:-1]))
    start_idx = np.maximum.accumulate(np.where(first, np.arange(values.size), 0))
    out: NDArray[np.float64] = csum - (csum - values)[start_idx]
    return out


async def iter_beats(
    conn: Any, patient_id: Any, start: datetime, end: datetime, *, chunk_beats: int = CHUNK_BEATS
) -> AsyncIterator[BeatChunk]:
    """Yield the patient's beats in ``[start, end)`` in time order, ``chunk_beats`` at a time."""
    after_t: datetime = start - timedelta(microseconds=1)
    after_device = uuid.UUID(int=0)
    previous_t: int | None = None
    while True:
        cur = await conn.execute(
            q("export_beats_page"),
            {
                "patient_id": patient_id,
                "start": start,
                "end": end,
                "after_t": after_t,
                "after_device": after_device,
                "limit": chunk_beats,
            },
        )
        page = await cur.fetchone()
        if page is None or not page["n"]:
            return
        t_ms = np.frombuffer(page["t_ms"], dtype=">i8").astype(np.int64)
        ticks = np.frombuffer(page["rr_ticks"], dtype=">i4").astype(np.int32)
        rr_ms = ticks.astype(np.float64) * 1000.0 / 1024.0
        starts = segment_starts(t_ms, rr_ms, previous_t)
        flags = await asyncio.to_thread(artifact_flags, rr_ms, starts)
        yield BeatChunk(t_ms, ticks, rr_ms, flags, starts)
        previous_t = int(t_ms[-1])
        after_t, after_device = page["last_t"], page["last_device"]
        if page["n"] < chunk_beats:
            return

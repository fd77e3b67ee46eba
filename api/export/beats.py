"""Streams a patient's beats out of PostgreSQL (binary COPY) in chunks, with per-beat artifact flags.

Flags come from ``analysis.clean`` (Lipponen & Tarvainen 2019); this module only reads and maps them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
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

_HEADER = b"PGCOPY\n\xff\r\n\x00"
_HEADER_LEN = 19
_ROW = np.dtype(
    [
        ("n", ">i2"),
        ("l1", ">i4"),
        ("t_ms", ">i8"),
        ("l2", ">i4"),
        ("rr_ticks", ">i4"),
        ("l3", ">i4"),
        ("flags", ">i2"),
    ]
)


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


def _decode(buffer: bytes, *, header: bool) -> tuple[NDArray[np.void], bytes]:
    """Decode the whole rows at the front of a binary COPY buffer; returns them and the undecoded rest."""
    offset = 0
    if header:
        if buffer[: len(_HEADER)] != _HEADER:
            raise ValueError("unexpected binary COPY header")
        offset = _HEADER_LEN
    n_rows = (len(buffer) - offset) // _ROW.itemsize
    rows = np.frombuffer(buffer, dtype=_ROW, count=n_rows, offset=offset).copy()
    return rows, buffer[offset + n_rows * _ROW.itemsize :]


async def iter_beats(
    conn: Any, patient_id: Any, start: datetime, end: datetime, *, chunk_beats: int = CHUNK_BEATS
) -> AsyncIterator[BeatChunk]:
    """Yield the patient's beats in ``[start, end)`` in time order, ``chunk_beats`` at a time."""
    pending: list[NDArray[np.void]] = []
    n_pending = 0
    previous_t: int | None = None
    buffer = b""
    header = True

    def build(rows: NDArray[np.void], prev: int | None) -> BeatChunk:
        t_ms = rows["t_ms"].astype(np.int64)
        ticks = rows["rr_ticks"].astype(np.int32)
        rr_ms = ticks.astype(np.float64) * 1000.0 / 1024.0
        starts = segment_starts(t_ms, rr_ms, prev)
        return BeatChunk(t_ms, ticks, rr_ms, artifact_flags(rr_ms, starts), starts)

    async with (
        conn.cursor() as cur,
        cur.copy(
            q("export_beats_binary"), {"patient_id": patient_id, "start": start, "end": end}
        ) as copy,
    ):
        async for data in copy:
            buffer += bytes(data)
            if header and len(buffer) < _HEADER_LEN:
                continue
            rows, buffer = _decode(buffer, header=header)
            header = False
            if rows.size:
                pending.append(rows)
                n_pending += rows.size
            while n_pending >= chunk_beats:
                merged = np.concatenate(pending)
                head, tail = merged[:chunk_beats], merged[chunk_beats:]
                chunk = build(head, previous_t)
                previous_t = int(chunk.t_ms[-1])
                yield chunk
                pending = [tail] if tail.size else []
                n_pending = int(tail.size)
    if buffer not in (b"", b"\xff\xff"):
        raise ValueError(f"binary COPY ended with {len(buffer)} undecoded bytes")
    if n_pending:
        yield build(np.concatenate(pending), previous_t)

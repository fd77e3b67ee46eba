"""Storage of a validated beat batch: COPY into a staging table, one set-based insert per batch.

A batch is stored completely or not at all; a batch id is accepted once per device; beats already
stored for (device, time) count as duplicates. Validation is ``api.ingest.validation``; re-analysis of
what a batch touched is left to ``api.worker``.
"""

from __future__ import annotations

import logging
import math
import uuid
import weakref
from dataclasses import dataclass
from typing import Any, Final

import psycopg

from analysis.bounds import RR_MAX_MS, RR_MIN_MS
from api.db.queries import q
from api.errors import Conflict
from api.ingest.validation import BeatBatch
from api.worker.queue import defer_params
from wire import RR_TICKS_PER_S, StrapInfo

logger = logging.getLogger(__name__)

#: Beats outside the analysis bounds (``analysis.bounds``) are stored as raw truth and flagged.
ANALYSIS_RR_MIN_TICKS: Final[int] = math.ceil(RR_MIN_MS * RR_TICKS_PER_S / 1000)
ANALYSIS_RR_MAX_TICKS: Final[int] = math.floor(RR_MAX_MS * RR_TICKS_PER_S / 1000)
#: Flag bit of beats outside the analysis bounds (stored as raw truth, flagged for the analysis).
FLAG_OUTSIDE_ANALYSIS_BOUNDS: Final[int] = 1

#: Pooled connections that already have the ``ingest_stage`` temporary table (one per session).
_STAGED: weakref.WeakSet[psycopg.AsyncConnection[Any]] = weakref.WeakSet()


@dataclass(frozen=True)
class IngestResult:
    """What happened to a batch: beats newly stored and beats that were already there."""

    batch_id: uuid.UUID
    accepted: int
    duplicates: int
    replayed: bool = False


@dataclass(frozen=True)
class Provenance:
    """Where a batch comes from: its source (``None``: the device's own), the time resolution of
    its beats in ms (``None``: the strap's 1/1024 s) and the import it belongs to."""

    source: str | None = None
    resolution_ms: float | None = None
    import_id: uuid.UUID | None = None


#: Time resolution of beats from a strap's 0x2A37 RR values, ms.
STRAP_RESOLUTION_MS: Final[float] = 1000.0 / RR_TICKS_PER_S


@dataclass(frozen=True)
class DeviceRef:
    """The authenticated device and the patient it is bound to."""

    device_id: uuid.UUID
    patient_id: uuid.UUID


def _copy_text(batch: BeatBatch) -> bytes:
    """The staging rows in COPY text format: t_ms, rr_ticks, rr_ms (``\\N``: from the ticks), flags."""
    t_ms, rr_ticks = batch.t_ms.tolist(), batch.rr_ticks.tolist()
    if batch.rr_ms is None and batch.flags is None:
        return "".join(
            [f"{t}\t{r}\t{_NULL}\t0\n" for t, r in zip(t_ms, rr_ticks, strict=True)]
        ).encode()
    n = batch.n_beats
    rr_ms = [
        _NULL if m is None else repr(float(m))
        for m in (batch.rr_ms.tolist() if batch.rr_ms is not None else [None] * n)
    ]
    flags = batch.flags.tolist() if batch.flags is not None else [0] * n
    return "".join(
        [f"{t}\t{r}\t{m}\t{f}\n" for t, r, m, f in zip(t_ms, rr_ticks, rr_ms, flags, strict=True)]
    ).encode()


#: NULL in COPY text format.
_NULL: Final[str] = "\\N"


async def store_batch(
    conn: psycopg.AsyncConnection[dict[str, Any]],
    device: DeviceRef,
    batch: BeatBatch,
    provenance: Provenance | None = None,
) -> IngestResult:
    """Store ``batch`` for ``device`` atomically and idempotently; enqueue re-analysis of it.

    One transaction on ``conn`` (an autocommit connection) in four round trips: batches of one device
    are serialised by an advisory lock and the batch id is claimed (a concurrent identical request
    waits for this one and then answers as a replay); beats go through COPY into a temporary staging
    table; one statement inserts them (``INSERT ... SELECT ... ON CONFLICT DO NOTHING``), widens the
    patient's dirty range, defers the patient's recompute job (``api.worker.queue``) and records the
    batch counts, gaps and strap info.

    ``provenance`` records the batch's source, time resolution and import (default: the device's
    source at the strap's resolution). Inside a transaction the caller opened (an import stores
    many batches atomically) this one nests as a savepoint.

    Raises
    ------
    Conflict
        The batch id was already used by another device.
    """
    strap = batch.strap or StrapInfo()
    origin = provenance or Provenance()
    params: dict[str, Any] = {
        "device_id": device.device_id,
        "patient_id": device.patient_id,
        "batch_id": batch.batch_id,
        "n_beats": batch.n_beats,
        "analysis_min_ticks": ANALYSIS_RR_MIN_TICKS,
        "analysis_max_ticks": ANALYSIS_RR_MAX_TICKS,
        "starts_ms": [g[0] for g in batch.gaps_ms],
        "ends_ms": [g[1] for g in batch.gaps_ms],
        "address": strap.address,
        "name": strap.name,
        "model": strap.model,
        "firmware": strap.firmware,
        "battery_pct": strap.battery_pct,
        "source": origin.source,
        "resolution_ms": origin.resolution_ms or STRAP_RESOLUTION_MS,
        "import_id": origin.import_id,
        **defer_params(device.patient_id),
    }
    nested = conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE
    async with conn.transaction():
        cur = await conn.execute(q("ingest_claim_batch"), params)
        if await cur.fetchone() is None:
            cur = await conn.execute(q("ingest_get_batch"), params)
            row = await cur.fetchone()
            if row is None or row["device_id"] != device.device_id:
                raise Conflict(
                    "this batch id was already used by another device", batch_id=str(batch.batch_id)
                )
            return IngestResult(batch.batch_id, accepted=0, duplicates=batch.n_beats, replayed=True)
        created_stage = conn not in _STAGED
        if created_stage:  # kept for the session once this transaction commits
            await conn.execute(q("ingest_create_stage"))
        elif nested:  # the stage empties at commit only: clear the previous batch's rows
            await conn.execute(q("ingest_clear_stage"))
        if batch.n_beats:
            async with conn.cursor() as copy_cur, copy_cur.copy(q("ingest_copy_stage")) as copy:
                await copy.write(_copy_text(batch))
        cur = await conn.execute(q("ingest_insert_beats"), params)
        row = await cur.fetchone()
        assert row is not None
        accepted = int(row["accepted"])
    if created_stage:
        _STAGED.add(conn)
    logger.debug(
        "batch %s of device %s: %d accepted, %d duplicates",
        batch.batch_id,
        device.device_id,
        accepted,
        batch.n_beats - accepted,
    )
    return IngestResult(batch.batch_id, accepted=accepted, duplicates=batch.n_beats - accepted)

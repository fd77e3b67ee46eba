"""Storing an import: every beat batch with its provenance, in one transaction with the import's
own record, so a file is stored completely or not at all.

Parsing is the format modules of ``api.imports`` (run chunk by chunk in a worker thread); each
chunk becomes a batch stored by ``api.ingest.storage`` under the import device of its source and
device name, with a batch id derived from the file, so re-importing a file stores nothing twice.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any, Final

import numpy as np
import psycopg
from anyio import to_thread

from api.db.queries import q
from api.imports.errors import ImportFileError
from api.imports.model import BeatChunk, ParsedImport, Summary
from api.ingest.storage import DeviceRef, Provenance, store_batch
from api.ingest.validation import BeatBatch
from wire import MAX_FUTURE_SKEW_MS, MIN_T_MS, RR_MAX_TICKS, RR_MIN_TICKS, RR_TICKS_PER_S

logger = logging.getLogger(__name__)

#: Flag bit of a beat whose RR was derived from a rate (Apple's first beat of a series).
FLAG_RR_FROM_RATE: Final[int] = 2
#: Namespace of the batch ids derived from a file (uuid5).
BATCH_NAMESPACE: Final[uuid.UUID] = uuid.UUID("5d1f0a3c-6f0e-4a53-9b0a-13c0a7e2d113")
#: Longest device label kept.
MAX_LABEL: Final[int] = 100
#: Summaries gathered per round trip.
SUMMARY_BATCH: Final[int] = 1000


@dataclass(frozen=True)
class ImportResult:
    """What an import stored: beats of the file, newly stored and already there."""

    import_id: uuid.UUID
    source: str
    file_name: str
    beats: int
    accepted: int
    duplicates: int
    skipped: int
    summaries: int
    first: datetime | None
    last: datetime | None
    resolution_ms: float


def file_digest(fh: IO[bytes]) -> tuple[bytes, int]:
    """SHA-256 and size of a file object (read once, in blocks); the file is rewound."""
    digest = hashlib.sha256()
    size = 0
    fh.seek(0)
    while block := fh.read(1 << 20):
        digest.update(block)
        size += len(block)
    fh.seek(0)
    return digest.digest(), size


def _pull(items: Iterator[BeatChunk | Summary]) -> list[BeatChunk | Summary]:
    """The next items up to one beat chunk or ``SUMMARY_BATCH`` summaries (runs in a thread)."""
    out: list[BeatChunk | Summary] = []
    for item in items:
        out.append(item)
        if isinstance(item, BeatChunk) or len(out) >= SUMMARY_BATCH:
            break
    return out


def chunk_batch(
    chunk: BeatChunk, batch_id: uuid.UUID, now_ms: int, file_name: str
) -> tuple[BeatBatch, int]:
    """A chunk as a storable batch (time order, one beat per ms) and the beats it held twice."""
    order = np.argsort(chunk.t_ms, kind="stable")
    t = chunk.t_ms[order]
    rr = chunk.rr_ms[order]
    rate = chunk.rr_from_rate[order] if chunk.rr_from_rate is not None else None
    keep = np.ones(t.size, dtype=bool)
    if t.size > 1:
        keep[1:] = np.diff(t) != 0
    t, rr = t[keep], rr[keep]
    if t.size and (int(t[0]) < MIN_T_MS or int(t[-1]) > now_ms + MAX_FUTURE_SKEW_MS):
        bad = int(t[0]) if int(t[0]) < MIN_T_MS else int(t[-1])
        when = datetime.fromtimestamp(bad / 1000, UTC).isoformat()
        raise ImportFileError(
            file_name, f"a beat at {when} is before 2000 or in the future: check the file's clock"
        )
    ticks = np.clip(np.rint(rr * RR_TICKS_PER_S / 1000.0), RR_MIN_TICKS, RR_MAX_TICKS).astype(
        np.int64
    )
    flags = None
    if rate is not None:
        flags = np.where(rate[keep], FLAG_RR_FROM_RATE, 0).astype(np.int16)
    batch = BeatBatch(
        batch_id=batch_id,
        t_ms=t.astype(np.int64),
        rr_ticks=ticks,
        gaps_ms=list(chunk.gaps_ms),
        rr_ms=rr,
        flags=flags,
    )
    return batch, int((~keep).sum())


async def store_import(
    conn: psycopg.AsyncConnection[dict[str, Any]],
    *,
    patient_id: uuid.UUID,
    created_by: uuid.UUID | None,
    file_name: str,
    file_sha256: bytes,
    file_bytes: int,
    parsed: ParsedImport,
) -> ImportResult:
    """Parse and store a whole file in one transaction on ``conn`` (autocommit connection).

    Raises
    ------
    ImportFileError
        From the parser, at the first bad line or record: the transaction is rolled back and
        nothing of the file is stored.
    """
    started = time.perf_counter()
    devices: dict[str, uuid.UUID] = {}
    n_chunks: dict[str, int] = {}
    accepted = duplicates = skipped = n_summaries = 0
    first_ms: int | None = None
    last_ms: int | None = None
    now_ms = time.time_ns() // 1_000_000
    items = parsed.chunks
    async with conn.transaction():
        cur = await conn.execute(
            q("import_insert"),
            {
                "patient_id": patient_id,
                "source": parsed.source,
                "file_name": file_name,
                "file_sha256": file_sha256,
                "file_bytes": file_bytes,
                "resolution_ms": parsed.resolution_ms,
                "created_by": created_by,
            },
        )
        row = await cur.fetchone()
        assert row is not None
        import_id: uuid.UUID = row["id"]

        async def device_id(label: str) -> uuid.UUID:
            label = label[:MAX_LABEL] or parsed.source
            if label not in devices:
                cur = await conn.execute(
                    q("import_device"),
                    {
                        "patient_id": patient_id,
                        "source": parsed.source,
                        "label": label,
                        "created_by": created_by,
                    },
                )
                found = await cur.fetchone()
                assert found is not None
                devices[label] = found["id"]
            return devices[label]

        provenance = Provenance(
            source=parsed.source, resolution_ms=parsed.resolution_ms, import_id=import_id
        )
        while batch_items := await to_thread.run_sync(_pull, items):
            summaries = [i for i in batch_items if isinstance(i, Summary)]
            if summaries:
                by_device: dict[str, list[Summary]] = {}
                for s in summaries:
                    by_device.setdefault(s.device, []).append(s)
                for label, group in by_device.items():
                    await conn.execute(
                        q("import_summaries_insert"),
                        {
                            "device_id": await device_id(label),
                            "patient_id": patient_id,
                            "import_id": import_id,
                            "metrics": [s.metric for s in group],
                            "starts": [s.start for s in group],
                            "ends": [s.end for s in group],
                            "values": [s.value for s in group],
                        },
                    )
                n_summaries += len(summaries)
            for chunk in (i for i in batch_items if isinstance(i, BeatChunk)):
                skipped += chunk.skipped
                if chunk.n_beats == 0 and not chunk.gaps_ms:
                    continue
                dev = await device_id(chunk.device)
                index = n_chunks.get(chunk.device, 0)
                n_chunks[chunk.device] = index + 1
                batch_id = uuid.uuid5(
                    BATCH_NAMESPACE, f"{patient_id}:{file_sha256.hex()}:{chunk.device}:{index}"
                )
                batch, twice = chunk_batch(chunk, batch_id, now_ms, file_name)
                result = await store_batch(conn, DeviceRef(dev, patient_id), batch, provenance)
                accepted += result.accepted
                duplicates += result.duplicates + twice
                if batch.n_beats:
                    lo, hi = int(batch.t_ms[0]), int(batch.t_ms[-1])
                    first_ms = lo if first_ms is None else min(first_ms, lo)
                    last_ms = hi if last_ms is None else max(last_ms, hi)
        cur = await conn.execute(
            q("import_finish"),
            {
                "import_id": import_id,
                "beats": accepted + duplicates,
                "accepted": accepted,
                "duplicates": duplicates,
                "skipped": skipped,
                "summaries": n_summaries,
                "first_at": None
                if first_ms is None
                else datetime.fromtimestamp(first_ms / 1000, UTC),
                "last_at": None if last_ms is None else datetime.fromtimestamp(last_ms / 1000, UTC),
            },
        )
        done = await cur.fetchone()
        assert done is not None
    logger.info(
        "import %s (%s, %s): %d beats, %d new, %d duplicates, %d skipped in %.1f s",
        import_id,
        parsed.source,
        file_name,
        accepted + duplicates,
        accepted,
        duplicates,
        skipped,
        time.perf_counter() - started,
    )
    return ImportResult(
        import_id=import_id,
        source=parsed.source,
        file_name=file_name,
        beats=done["beats"],
        accepted=accepted,
        duplicates=duplicates,
        skipped=skipped,
        summaries=n_summaries,
        first=done["first_at"],
        last=done["last_at"],
        resolution_ms=float(done["resolution_ms"]),
    )

"""Durable local spool: each beat is committed to SQLite (WAL, synchronous=FULL) before use.

Groups pending beats into batches with stable ids so a retried upload re-sends the same batch, and
keeps batches the server refused (4xx) in quarantine with its reason until they are retried on demand.
Sending is left to ``collector.uploader``; holding beats while the disk is full to ``collector.writer``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from collector.beats import Beat, Gap
from collector.errors import CollectorError
from wire import StrapInfo

__all__ = ["QuarantinedBatch", "Spool", "SpoolBatch", "SpoolError", "SpoolFull", "SpoolStats"]

logger = logging.getLogger(__name__)

#: Schema version kept in PRAGMA user_version: 1 = beats, gaps, batches; 2 = quarantine columns.
_SCHEMA_VERSION = 2
_SCHEMA = """
CREATE TABLE IF NOT EXISTS beats (
    t_ms INTEGER PRIMARY KEY,
    rr_ticks INTEGER NOT NULL CHECK (rr_ticks > 0),
    batch_id TEXT,
    sent INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS beats_by_batch ON beats (batch_id);
CREATE TABLE IF NOT EXISTS gaps (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL CHECK (end_ms >= start_ms),
    batch_id TEXT,
    sent INTEGER NOT NULL DEFAULT 0,
    UNIQUE (start_ms, end_ms)
);
CREATE TABLE IF NOT EXISTS batches (
    batch_id TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    sent_ms INTEGER,
    strap_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (
    name TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO counters (name, value) VALUES
    ('spooled', 0), ('uploaded', 0), ('dropped', 0), ('gaps', 0), ('last_beat_ms', 0),
    ('last_upload_ms', 0);
"""

#: Version 1 → 2: a batch the server refused is kept with the status and the server's reason.
_MIGRATE_TO_2 = (
    "ALTER TABLE batches ADD COLUMN quarantined_ms INTEGER",
    "ALTER TABLE batches ADD COLUMN reject_status INTEGER",
    "ALTER TABLE batches ADD COLUMN reject_reason TEXT",
)

#: Most gaps carried by one batch (gaps are rare; this only bounds a pathological backlog).
_MAX_GAPS_PER_BATCH = 1000


class SpoolError(CollectorError):
    """The spool file cannot be used, or a call got invalid input."""


class SpoolFull(SpoolError):
    """The spool's disk (or file system quota) is full: nothing of the call was written."""


def _write_error(path: Path, exc: sqlite3.Error) -> SpoolError:
    """Wrap a failed write: ``SpoolFull`` for SQLITE_FULL (disk or quota full), else ``SpoolError``."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code == sqlite3.SQLITE_FULL:
        return SpoolFull(
            f"spool disk is full ({path}): {exc}", path=str(path), sqlite_errorcode=code
        )
    return SpoolError(f"cannot write to spool {path}: {exc}", path=str(path), sqlite_errorcode=code)


@dataclass(frozen=True, slots=True)
class SpoolBatch:
    """Beats and gaps to upload together under one stable ``batch_id``."""

    batch_id: uuid.UUID
    beats: tuple[Beat, ...]
    gaps: tuple[Gap, ...]
    strap: StrapInfo


@dataclass(frozen=True, slots=True)
class QuarantinedBatch:
    """A batch the server refused, kept with its answer (never deleted, retried on demand)."""

    batch_id: uuid.UUID
    beats: int
    first_t_ms: int | None
    last_t_ms: int | None
    status: int
    reason: str
    quarantined_ms: int


@dataclass(frozen=True, slots=True)
class SpoolStats:
    """Counters of the spool (totals survive pruning).

    Attributes
    ----------
    spooled:
        Distinct beats ever committed.
    uploaded:
        Beats acknowledged by the server.
    pending:
        Beats in the spool not yet acknowledged.
    dropped:
        RR values dropped as impossible (reported by the beat clock).
    gaps:
        Gaps ever recorded.
    pending_gaps:
        Gaps not yet acknowledged.
    last_beat_ms:
        Latest beat time ever committed (epoch ms), or ``None``.
    quarantined_batches, quarantined_beats:
        Batches the server refused and their beats (included in ``pending``).
    last_upload_ms:
        When the server last acknowledged a batch (epoch ms), or ``None``.
    """

    spooled: int
    uploaded: int
    pending: int
    dropped: int
    gaps: int
    pending_gaps: int = 0
    last_beat_ms: int | None = None
    quarantined_batches: int = 0
    quarantined_beats: int = 0
    last_upload_ms: int | None = None


def _now_ms() -> int:
    return int(time.time() * 1000)


class Spool:
    """SQLite spool of beats and gaps awaiting upload.

    Parameters
    ----------
    path:
        Database file; parent directories are created. Several processes may open the same file
        (SQLite serialises writers); one connection is shared by the threads of a process.
    read_only:
        Open an existing spool for reading only (``somatrace status`` beside a running recorder,
        also while the disk is full). A spool of an older schema is upgraded by a normal open.

    Raises
    ------
    SpoolError
        When the file is not a usable SQLite database or WAL mode cannot be enabled.
    """

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        if read_only:
            self._open_read_only()
            return
        try:
            # Heartbeats are health data: a new spool directory and file are private to the user.
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if not self.path.exists():
                self.path.touch(mode=0o600)
            self._conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise SpoolError(f"cannot open spool {self.path}: {exc}", path=str(self.path)) from exc
        try:
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise SpoolError(
                    f"spool {self.path} cannot use WAL journaling (got {mode})", path=str(self.path)
                )
            self._conn.execute("PRAGMA synchronous=FULL")
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
            if version not in (0, 1, _SCHEMA_VERSION):
                raise SpoolError(
                    f"spool {self.path} has schema version {version}, expected {_SCHEMA_VERSION}",
                    path=str(self.path),
                )
            # Every statement is idempotent (IF NOT EXISTS / OR IGNORE): safe on reopen.
            self._conn.executescript(_SCHEMA)
            if version < _SCHEMA_VERSION:
                self._migrate()
        except sqlite3.Error as exc:
            self._conn.close()
            raise SpoolError(
                f"spool {self.path} is not a usable SQLite database: {exc}", path=str(self.path)
            ) from exc
        except SpoolError:
            self._conn.close()
            raise

    def _open_read_only(self) -> None:
        try:
            self._conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=30.0,
                isolation_level=None,
                check_same_thread=False,
            )
            version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise SpoolError(f"cannot read spool {self.path}: {exc}", path=str(self.path)) from exc
        if version != _SCHEMA_VERSION:
            self._conn.close()
            raise SpoolError(
                f"spool {self.path} has schema version {version}; open it for writing once "
                "(e.g. `somatrace upload`) to upgrade it",
                path=str(self.path),
            )

    def _migrate(self) -> None:
        """Bring a new or version-1 spool to the current schema in one transaction."""
        with self._write() as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(batches)")}
            for statement in _MIGRATE_TO_2:
                if statement.split()[5] not in columns:  # ALTER TABLE batches ADD COLUMN <name>
                    conn.execute(statement)
            conn.execute("PRAGMA user_version=2")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE … COMMIT), rolled back on any error."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # SQLite may have rolled back already (SQLITE_FULL does): only roll back what is open.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def _counter(self, name: str) -> int:
        row = self._conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    @staticmethod
    def _add(conn: sqlite3.Connection, name: str, delta: int) -> None:
        conn.execute("UPDATE counters SET value = value + ? WHERE name = ?", (delta, name))

    def append(self, beats: Iterable[Beat], gaps: Iterable[Gap] = (), dropped: int = 0) -> None:
        """Commit beats, gaps and the dropped count in one transaction before returning.

        A beat whose ``t_ms`` is already spooled (or was, until pruned after upload) is ignored.

        Raises
        ------
        SpoolError
            For a non-positive RR, a negative time, a gap ending before it starts, a negative
            ``dropped``, or a database failure (nothing of the call is then stored).
        """
        beat_rows = [(b.t_ms, b.rr_ticks) for b in beats]
        gap_rows = [(g.start_ms, g.end_ms) for g in gaps]
        for t_ms, rr_ticks in beat_rows:
            if not isinstance(t_ms, int) or not isinstance(rr_ticks, int):
                raise SpoolError("beat time and RR must be integers", t_ms=t_ms, rr_ticks=rr_ticks)
            if t_ms < 0 or rr_ticks <= 0:
                raise SpoolError(
                    f"invalid beat t_ms={t_ms} rr_ticks={rr_ticks}", t_ms=t_ms, rr_ticks=rr_ticks
                )
        for start_ms, end_ms in gap_rows:
            if end_ms < start_ms:
                raise SpoolError(
                    f"gap ends ({end_ms}) before it starts ({start_ms})",
                    start_ms=start_ms,
                    end_ms=end_ms,
                )
        if dropped < 0:
            raise SpoolError(f"dropped count must not be negative, got {dropped}", dropped=dropped)
        if not beat_rows and not gap_rows and dropped == 0:
            return
        try:
            with self._write() as conn:
                before = conn.total_changes
                conn.executemany(
                    "INSERT OR IGNORE INTO beats (t_ms, rr_ticks) VALUES (?, ?)", beat_rows
                )
                new_beats = conn.total_changes - before
                before = conn.total_changes
                conn.executemany(
                    "INSERT OR IGNORE INTO gaps (start_ms, end_ms) VALUES (?, ?)", gap_rows
                )
                new_gaps = conn.total_changes - before
                self._add(conn, "spooled", new_beats)
                self._add(conn, "gaps", new_gaps)
                self._add(conn, "dropped", dropped)
                if beat_rows:
                    conn.execute(
                        "UPDATE counters SET value = max(value, ?) WHERE name = 'last_beat_ms'",
                        (max(t for t, _ in beat_rows),),
                    )
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc

    def set_strap_info(self, info: StrapInfo) -> None:
        """Store the strap identity sent with batches created from now on."""
        if info.battery_pct is not None and not 0 <= info.battery_pct <= 100:
            raise SpoolError(
                f"battery_pct must be 0–100, got {info.battery_pct}", battery_pct=info.battery_pct
            )
        try:
            with self._write() as conn:
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('strap', ?) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (json.dumps(asdict(info)),),
                )
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc

    def strap_info(self) -> StrapInfo:
        """The strap identity last stored (all ``None`` when never set)."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = 'strap'").fetchone()
        return _strap_from_json(row[0]) if row else StrapInfo()

    def last_beat_ms(self) -> int | None:
        """Latest beat time ever committed (epoch ms), to resume the beat clock after a restart."""
        with self._lock:
            value = self._counter("last_beat_ms")
        return value if value > 0 else None

    def next_batch(self, max_beats: int = 5000) -> SpoolBatch | None:
        """The batch to upload next, or ``None`` when nothing is pending.

        An unacknowledged batch is returned again unchanged (same id, beats, gaps and strap) until
        ``mark_sent``, ``release_batch`` or ``quarantine``; otherwise a new batch of up to
        ``max_beats`` oldest pending beats and the pending gaps is created and persisted first.
        Quarantined batches are skipped.

        Raises
        ------
        SpoolFull
            When a new batch cannot be written (the disk is full).
        """
        if max_beats < 1:
            raise SpoolError(f"max_beats must be at least 1, got {max_beats}", max_beats=max_beats)
        try:
            return self._next_batch(max_beats)
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc

    def _next_batch(self, max_beats: int) -> SpoolBatch | None:
        with self._write() as conn:
            row = conn.execute(
                "SELECT batch_id, strap_json FROM batches"
                " WHERE sent_ms IS NULL AND quarantined_ms IS NULL"
                " ORDER BY created_ms, batch_id LIMIT 1"
            ).fetchone()
            if row is not None:
                return self._load_batch(conn, row[0], row[1])
            beat_rows = conn.execute(
                "SELECT t_ms FROM beats WHERE batch_id IS NULL AND sent = 0 ORDER BY t_ms LIMIT ?",
                (max_beats,),
            ).fetchall()
            gap_ids = conn.execute(
                "SELECT id FROM gaps WHERE batch_id IS NULL AND sent = 0 ORDER BY start_ms LIMIT ?",
                (_MAX_GAPS_PER_BATCH,),
            ).fetchall()
            if not beat_rows and not gap_ids:
                return None
            batch_id = str(uuid.uuid4())
            strap_row = conn.execute("SELECT value FROM meta WHERE key = 'strap'").fetchone()
            strap_json = strap_row[0] if strap_row else json.dumps(asdict(StrapInfo()))
            conn.execute(
                "INSERT INTO batches (batch_id, created_ms, strap_json) VALUES (?, ?, ?)",
                (batch_id, _now_ms(), strap_json),
            )
            if beat_rows:
                conn.execute(
                    "UPDATE beats SET batch_id = ?"
                    " WHERE batch_id IS NULL AND sent = 0 AND t_ms <= ?",
                    (batch_id, beat_rows[-1][0]),
                )
            conn.executemany(
                "UPDATE gaps SET batch_id = ? WHERE id = ?", [(batch_id, g[0]) for g in gap_ids]
            )
            return self._load_batch(conn, batch_id, strap_json)

    @staticmethod
    def _load_batch(conn: sqlite3.Connection, batch_id: str, strap_json: str) -> SpoolBatch:
        beats = tuple(
            Beat(t_ms=int(t), rr_ticks=int(r))
            for t, r in conn.execute(
                "SELECT t_ms, rr_ticks FROM beats WHERE batch_id = ? ORDER BY t_ms", (batch_id,)
            )
        )
        gaps = tuple(
            Gap(start_ms=int(s), end_ms=int(e))
            for s, e in conn.execute(
                "SELECT start_ms, end_ms FROM gaps WHERE batch_id = ? ORDER BY start_ms, end_ms",
                (batch_id,),
            )
        )
        return SpoolBatch(
            batch_id=uuid.UUID(batch_id), beats=beats, gaps=gaps, strap=_strap_from_json(strap_json)
        )

    def mark_sent(self, batch_id: uuid.UUID) -> None:
        """Record the server's acknowledgement of a batch (idempotent).

        Raises
        ------
        SpoolError
            When no such batch exists; ``SpoolFull`` when the disk is full (the batch stays
            unacknowledged and is re-sent later: the server answers it as duplicates).
        """
        try:
            self._mark_sent(batch_id)
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc

    def _mark_sent(self, batch_id: uuid.UUID) -> None:
        key = str(batch_id)
        with self._write() as conn:
            row = conn.execute("SELECT sent_ms FROM batches WHERE batch_id = ?", (key,)).fetchone()
            if row is None:
                raise SpoolError(f"unknown batch {key}", batch_id=key)
            if row[0] is not None:
                return
            now_ms = _now_ms()
            conn.execute("UPDATE batches SET sent_ms = ? WHERE batch_id = ?", (now_ms, key))
            conn.execute(
                "UPDATE counters SET value = max(value, ?) WHERE name = 'last_upload_ms'", (now_ms,)
            )
            cur = conn.execute("UPDATE beats SET sent = 1 WHERE batch_id = ?", (key,))
            self._add(conn, "uploaded", cur.rowcount)
            conn.execute("UPDATE gaps SET sent = 1 WHERE batch_id = ?", (key,))

    def release_batch(self, batch_id: uuid.UUID) -> None:
        """Dissolve an unacknowledged batch (e.g. the server said it is too big) so it is rebuilt.

        Only for batches the server did not store; an acknowledged batch cannot be released.
        """
        key = str(batch_id)
        with self._write() as conn:
            row = conn.execute("SELECT sent_ms FROM batches WHERE batch_id = ?", (key,)).fetchone()
            if row is None:
                raise SpoolError(f"unknown batch {key}", batch_id=key)
            if row[0] is not None:
                raise SpoolError(f"batch {key} was already acknowledged", batch_id=key)
            conn.execute("UPDATE beats SET batch_id = NULL WHERE batch_id = ?", (key,))
            conn.execute("UPDATE gaps SET batch_id = NULL WHERE batch_id = ?", (key,))
            conn.execute("DELETE FROM batches WHERE batch_id = ?", (key,))

    def quarantine(self, batch_id: uuid.UUID, status: int, reason: str) -> None:
        """Set a refused batch aside with the server's status and reason; later batches flow on.

        Its beats stay in the spool (pending) until ``release_quarantine`` and a successful upload.
        """
        key = str(batch_id)
        try:
            with self._write() as conn:
                row = conn.execute(
                    "SELECT sent_ms FROM batches WHERE batch_id = ?", (key,)
                ).fetchone()
                if row is None:
                    raise SpoolError(f"unknown batch {key}", batch_id=key)
                if row[0] is not None:
                    raise SpoolError(f"batch {key} was already acknowledged", batch_id=key)
                conn.execute(
                    "UPDATE batches SET quarantined_ms = ?, reject_status = ?, reject_reason = ?"
                    " WHERE batch_id = ?",
                    (_now_ms(), status, reason[:2000], key),
                )
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc
        logger.error("batch %s quarantined after HTTP %d: %s", key, status, reason)

    def quarantined(self) -> list[QuarantinedBatch]:
        """Batches the server refused, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT b.batch_id, count(t.t_ms), min(t.t_ms), max(t.t_ms), b.reject_status,"
                " b.reject_reason, b.quarantined_ms FROM batches b"
                " LEFT JOIN beats t ON t.batch_id = b.batch_id"
                " WHERE b.quarantined_ms IS NOT NULL AND b.sent_ms IS NULL"
                " GROUP BY b.batch_id ORDER BY b.created_ms, b.batch_id"
            ).fetchall()
        return [
            QuarantinedBatch(
                batch_id=uuid.UUID(r[0]),
                beats=int(r[1]),
                first_t_ms=r[2],
                last_t_ms=r[3],
                status=int(r[4] or 0),
                reason=str(r[5] or ""),
                quarantined_ms=int(r[6]),
            )
            for r in rows
        ]

    def release_quarantine(self, batch_id: uuid.UUID | None = None) -> int:
        """Put quarantined batches (one, or all when ``batch_id`` is None) back in line for upload,
        unchanged (same id and content). Returns how many were released."""
        try:
            with self._write() as conn:
                if batch_id is None:
                    cur = conn.execute(
                        "UPDATE batches SET quarantined_ms = NULL, reject_status = NULL,"
                        " reject_reason = NULL WHERE quarantined_ms IS NOT NULL AND sent_ms IS NULL"
                    )
                else:
                    cur = conn.execute(
                        "UPDATE batches SET quarantined_ms = NULL, reject_status = NULL,"
                        " reject_reason = NULL WHERE batch_id = ? AND quarantined_ms IS NOT NULL",
                        (str(batch_id),),
                    )
                return int(cur.rowcount)
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc

    def size_bytes(self) -> int:
        """Bytes the spool takes on disk (database file and its write-ahead log)."""
        total = 0
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                total += (self.path.parent / (self.path.name + suffix)).stat().st_size
        return total

    def prune(self, retention_s: float, *, now_s: float | None = None) -> int:
        """Delete beats and gaps acknowledged more than ``retention_s`` seconds ago.

        Returns
        -------
        int
            Number of beats deleted. Pending beats are never deleted.
        """
        if retention_s < 0:
            raise SpoolError(
                f"retention_s must not be negative, got {retention_s}", retention_s=retention_s
            )
        now_ms = _now_ms() if now_s is None else int(now_s * 1000)
        cutoff_ms = now_ms - int(retention_s * 1000)
        try:
            deleted = self._prune(cutoff_ms)
        except sqlite3.Error as exc:
            raise _write_error(self.path, exc) from exc
        if deleted:
            logger.info("pruned %d uploaded beats from %s", deleted, self.path)
        return deleted

    def _prune(self, cutoff_ms: int) -> int:
        with self._write() as conn:
            cur = conn.execute(
                "DELETE FROM beats WHERE sent = 1 AND batch_id IN (SELECT batch_id FROM batches"
                " WHERE sent_ms IS NOT NULL AND sent_ms <= ?)",
                (cutoff_ms,),
            )
            deleted = cur.rowcount
            conn.execute(
                "DELETE FROM gaps WHERE sent = 1 AND batch_id IN (SELECT batch_id FROM batches"
                " WHERE sent_ms IS NOT NULL AND sent_ms <= ?)",
                (cutoff_ms,),
            )
            conn.execute(
                "DELETE FROM batches WHERE sent_ms IS NOT NULL AND sent_ms <= ?", (cutoff_ms,)
            )
        return int(deleted)

    def stats(self) -> SpoolStats:
        """Current counters."""
        with self._lock:
            # Every stored beat is pending until mark_sent counts it as uploaded, and only
            # uploaded beats are pruned, so pending = spooled - uploaded without a table scan.
            spooled = self._counter("spooled")
            uploaded = self._counter("uploaded")
            pending_gaps = self._conn.execute(
                "SELECT count(*) FROM gaps WHERE sent = 0"
            ).fetchone()[0]
            last = self._counter("last_beat_ms")
            q_batches, q_beats = self._conn.execute(
                "SELECT count(DISTINCT b.batch_id), count(t.t_ms) FROM batches b"
                " LEFT JOIN beats t ON t.batch_id = b.batch_id"
                " WHERE b.quarantined_ms IS NOT NULL AND b.sent_ms IS NULL"
            ).fetchone()
            last_upload = self._counter("last_upload_ms")
            return SpoolStats(
                spooled=spooled,
                uploaded=uploaded,
                pending=spooled - uploaded,
                dropped=self._counter("dropped"),
                gaps=self._counter("gaps"),
                pending_gaps=int(pending_gaps),
                last_beat_ms=last if last > 0 else None,
                quarantined_batches=int(q_batches),
                quarantined_beats=int(q_beats),
                last_upload_ms=last_upload if last_upload > 0 else None,
            )

    def close(self) -> None:
        """Close the database (a checkpoint folds the WAL into the main file)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Spool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _strap_from_json(text: str) -> StrapInfo:
    return StrapInfo.from_doc(json.loads(text))

"""The collector's status: what the running recorder writes to a small JSON file, and what
``somatrace status`` shows from it together with the spool and its disk.

Writing is atomic (temporary file, then rename) into the runtime directory, not beside the spool, so
it still works while the spool's disk is full. Recording is ``collector.unattended``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import warnings
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import platformdirs

from collector.clock import describe_offset
from collector.errors import CollectorError
from collector.spool import QuarantinedBatch, Spool, SpoolStats

logger = logging.getLogger(__name__)

STATUS_FILE: Final[str] = "collector-status.json"
#: The status file of a system service (systemd ``RuntimeDirectory=somatrace``).
SYSTEM_STATUS_PATH: Final[Path] = Path("/run/somatrace") / STATUS_FILE
#: A status older than this many write intervals means the recorder is not running.
STALE_INTERVALS: Final[int] = 5


class StatusError(CollectorError):
    """The status file cannot be written or read."""


@dataclass(frozen=True)
class RecorderStatus:
    """What the running recorder reports (times are Unix seconds; ``None``: not known yet)."""

    pid: int
    updated_s: float
    started_s: float
    interval_s: float
    target: str
    spool_path: str
    link_state: str
    strap_name: str | None = None
    strap_address: str | None = None
    battery_pct: int | None = None
    contact: bool | None = None
    heart_rate_bpm: int | None = None
    last_beat_s: float | None = None
    connections: int = 0
    beats_recorded: int = 0
    disk_full: bool = False
    disk_free_bytes: int | None = None
    disk_low: bool = False
    beats_buffered: int = 0
    beats_lost: int = 0
    uploading: bool = False
    last_upload_s: float | None = None
    upload_error: str | None = None
    token_rejected: bool = False
    clock_offset_s: float | None = None
    last_error: str | None = None
    last_error_s: float | None = None


def default_status_path() -> Path:
    """``<user runtime dir>/somatrace/collector-status.json`` (``$XDG_RUNTIME_DIR``: memory-backed)."""
    with warnings.catch_warnings():  # no XDG_RUNTIME_DIR (no login session): platformdirs' fallback
        warnings.simplefilter("ignore")
        return Path(platformdirs.user_runtime_dir("somatrace")) / STATUS_FILE


def write_status(path: Path, status: RecorderStatus) -> None:
    """Replace the status file atomically (readable by the user only).

    Raises
    ------
    StatusError
        When the directory or file cannot be written.
    """
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(asdict(status), indent=1) + "\n", encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(path)
    except OSError as exc:
        raise StatusError(f"cannot write status file {path}: {exc}", path=str(path)) from exc


def read_status(path: Path) -> RecorderStatus | None:
    """The status in ``path``, or None when there is none (never run, or removed).

    Raises
    ------
    StatusError
        When the file exists but is not a status file.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise StatusError(f"cannot read status file {path}: {exc}", path=str(path)) from exc
    known = {f.name for f in fields(RecorderStatus)}
    if not isinstance(raw, dict) or not {"pid", "updated_s", "target"} <= raw.keys():
        raise StatusError(f"{path} is not a collector status file", path=str(path))
    return RecorderStatus(**{k: v for k, v in raw.items() if k in known})


def find_status(explicit: Path | None) -> tuple[Path, RecorderStatus | None]:
    """The status file to show: ``explicit``, else the newest of the user's and the system
    service's."""
    if explicit is not None:
        return explicit, read_status(explicit)
    found: list[tuple[Path, RecorderStatus]] = []
    for candidate in (default_status_path(), SYSTEM_STATUS_PATH):
        with contextlib.suppress(StatusError):
            status = read_status(candidate)
            if status is not None:
                found.append((candidate, status))
    if not found:
        return default_status_path(), None
    return max(found, key=lambda item: item[1].updated_s)


def is_running(status: RecorderStatus, now_s: float) -> bool:
    """Whether the process that wrote ``status`` is alive and wrote it recently."""
    if now_s - status.updated_s > STALE_INTERVALS * max(status.interval_s, 1.0):
        return False
    try:
        os.kill(status.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's (a system service)
        return True
    return True


@dataclass(frozen=True)
class SpoolView:
    """What ``somatrace status`` reads from the spool itself."""

    path: Path
    size_bytes: int
    stats: SpoolStats
    quarantined: list[QuarantinedBatch]
    disk_free_bytes: int | None


def read_spool(path: Path) -> SpoolView | None:
    """Counters, quarantine and disk space of the spool at ``path`` (None if there is none)."""
    if not path.exists():
        return None
    spool = Spool(path, read_only=True)
    try:
        free: int | None
        try:
            free = shutil.disk_usage(path.parent).free
        except OSError:
            free = None
        return SpoolView(path, spool.size_bytes(), spool.stats(), spool.quarantined(), free)
    finally:
        spool.close()


def _ago(then_s: float | None, now_s: float) -> str:
    if then_s is None:
        return "never"
    stamp = datetime.fromtimestamp(then_s, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")
    seconds = max(0, round(now_s - then_s))
    if seconds < 120:
        ago = f"{seconds} s ago"
    elif seconds < 7200:
        ago = f"{seconds // 60} min ago"
    else:
        ago = f"{seconds / 3600:.1f} h ago"
    return f"{stamp} ({ago})"


def _mb(n: int | None) -> str:
    return "unknown" if n is None else f"{n / 1e6:.1f} MB"


def status_lines(
    status_path: Path, status: RecorderStatus | None, spool: SpoolView | None, now_s: float
) -> list[tuple[str, str]]:
    """``somatrace status`` as (label, text) rows, in plain words."""
    rows: list[tuple[str, str]] = []
    if status is None:
        rows.append(("collector", f"not running (no status file at {status_path})"))
    else:
        running = is_running(status, now_s)
        state = f"running (pid {status.pid})" if running else "NOT RUNNING"
        rows.append(("collector", f"{state}, status updated {_ago(status.updated_s, now_s)}"))
        strap = status.strap_name or status.strap_address or status.target
        link = status.link_state if running else f"{status.link_state} (when it last ran)"
        extra = f", battery {status.battery_pct} %" if status.battery_pct is not None else ""
        rows.append(("strap", f"{link}: {strap}{extra}; {status.connections} connection(s)"))
        rows.append(("last beat", _ago(status.last_beat_s, now_s)))
    if spool is None:
        rows.append(("spool", "none yet"))
    else:
        st = spool.stats
        rows.append(
            (
                "spool",
                f"{spool.path} ({_mb(spool.size_bytes)}): {st.spooled} beats recorded, "
                f"{st.uploaded} uploaded, {st.pending} pending",
            )
        )
        if spool.quarantined:
            rows.append(
                (
                    "quarantined",
                    f"{st.quarantined_batches} batch(es), {st.quarantined_beats} beats refused by "
                    "the server; retry with `somatrace upload --retry-quarantined`",
                )
            )
            for q in spool.quarantined:
                rows.append(("", f"{q.batch_id}: HTTP {q.status} — {q.reason}"))
        else:
            rows.append(("quarantined", "none"))
    free = status.disk_free_bytes if status is not None else None
    if spool is not None and spool.disk_free_bytes is not None:
        free = spool.disk_free_bytes
    if status is not None and status.disk_full:
        lost = f", {status.beats_lost} discarded" if status.beats_lost else ""
        rows.append(
            (
                "disk",
                f"FULL ({_mb(free)} free): {status.beats_buffered} beats held in memory{lost}; "
                "free space on the spool's disk",
            )
        )
    elif status is not None and status.disk_low:
        rows.append(("disk", f"space low: {_mb(free)} free"))
    else:
        rows.append(("disk", f"{_mb(free)} free"))
    last_upload = status.last_upload_s if status is not None else None
    if spool is not None and spool.stats.last_upload_ms is not None:
        last_upload = max(last_upload or 0.0, spool.stats.last_upload_ms / 1000)
    rows.append(("last upload", _ago(last_upload, now_s)))
    if status is not None and status.token_rejected:
        rows.append(("upload", "the server refuses the device token: pair again"))
    elif status is not None and status.upload_error:
        rows.append(("upload", status.upload_error))
    if status is not None and status.clock_offset_s is not None:
        rows.append(("clock", describe_offset(status.clock_offset_s)))
    if status is not None and status.last_error:
        when = f" ({_ago(status.last_error_s, now_s)})" if status.last_error_s is not None else ""
        rows.append(("last error", f"{status.last_error}{when}"))
    return rows


def status_json(
    status_path: Path, status: RecorderStatus | None, spool: SpoolView | None, now_s: float
) -> dict[str, Any]:
    """The same as a JSON object (``somatrace status --json``)."""
    out: dict[str, Any] = {
        "status_file": str(status_path),
        "running": status is not None and is_running(status, now_s),
        "recorder": asdict(status) if status is not None else None,
    }
    if spool is not None:
        out["spool"] = {
            "path": str(spool.path),
            "size_bytes": spool.size_bytes,
            "disk_free_bytes": spool.disk_free_bytes,
            **asdict(spool.stats),
            "quarantine": [{**asdict(q), "batch_id": str(q.batch_id)} for q in spool.quarantined],
        }
    return out

"""Validation of a ``POST /v1/ingest/beats`` body against the wire contract (``wire``): pure, no I/O.

Vectorised over the beats (numpy, no per-beat objects); every bad item is named in one ``InvalidInput``.
Storing a validated batch is left to ``api.ingest.storage``.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson

from api.errors import InvalidInput, MalformedRequest, PayloadTooLarge
from wire import (
    MAX_BEATS_PER_BATCH,
    MAX_FUTURE_SKEW_MS,
    MAX_GAPS_PER_BATCH,
    MAX_STRAP_TEXT,
    MIN_T_MS,
    RR_MAX_MS,
    RR_MAX_TICKS,
    RR_MIN_MS,
    RR_MIN_TICKS,
    STRAP_TEXT_FIELDS,
    StrapInfo,
)

#: At most this many bad items are listed in a 422 (the total is always given).
MAX_REPORTED_ERRORS: Final[int] = 100


@dataclass(frozen=True)
class BeatBatch:
    """A validated batch: strictly increasing beat times (epoch ms), RR values (1/1024 s ticks)."""

    batch_id: uuid.UUID
    t_ms: npt.NDArray[np.int64]
    rr_ticks: npt.NDArray[np.int64]
    gaps_ms: list[tuple[int, int]] = field(default_factory=list)
    strap: StrapInfo | None = None
    #: RR in ms as the source holds it (imports); ``None``: exactly ``rr_ticks * 1000 / 1024``.
    rr_ms: npt.NDArray[np.float64] | None = None
    #: Extra flag bits per beat (imports, e.g. an RR derived from a rate); ``None``: none.
    flags: npt.NDArray[np.int16] | None = None

    @property
    def n_beats(self) -> int:
        return int(self.t_ms.shape[0])

    @property
    def content_sha256(self) -> bytes:
        """SHA-256 of what the batch holds (beat times, RR values as sent, gaps; not strap info,
        which may change between retries): a batch id sent again must carry the same."""
        digest = hashlib.sha256(b"somatrace-batch-v1")
        digest.update(np.ascontiguousarray(self.t_ms, dtype="<i8").tobytes())
        digest.update(np.ascontiguousarray(self.rr_ticks, dtype="<i8").tobytes())
        if self.rr_ms is not None:
            digest.update(b"rr_ms")
            digest.update(np.ascontiguousarray(self.rr_ms, dtype="<f8").tobytes())
        if self.flags is not None:
            digest.update(b"flags")
            digest.update(np.ascontiguousarray(self.flags, dtype="<i2").tobytes())
        digest.update(b"gaps")
        digest.update(np.asarray(self.gaps_ms, dtype="<i8").reshape(-1).tobytes())
        return digest.digest()


class _Errors:
    """Collects bad items as ``{"loc", "index", "field", "reason", "value"}`` dicts."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        self.total = 0

    def add(
        self, section: str, index: int | None, fld: str, reason: str, value: object = None
    ) -> None:
        self.total += 1
        if len(self.items) >= MAX_REPORTED_ERRORS:
            return
        loc: list[str | int] = [section] if index is None else [section, index]
        if fld:
            loc.append(fld)
        item: dict[str, Any] = {"loc": loc, "index": index, "field": fld, "reason": reason}
        if value is not None and isinstance(value, int | float | str | bool):
            item["value"] = value
        self.items.append(item)

    def raise_if_any(self) -> None:
        if self.total:
            raise InvalidInput(
                f"the batch has {self.total} invalid item(s); nothing of it was stored",
                errors=self.items,
                error_count=self.total,
            )


def _is_int(value: object) -> bool:
    """An integer as JSON Schema means it: ``7`` or ``7.0`` (never ``true``)."""
    if type(value) is int:
        return True
    return type(value) is float and value.is_integer() and abs(value) < 2**53


def _as_ints(values: list[Any]) -> list[int] | None:
    """``values`` as Python ints when each is a JSON integer, else ``None``."""
    kinds = set(map(type, values))
    if kinds <= {int}:
        return values
    if kinds <= {int, float} and all(_is_int(v) for v in values):
        return [int(v) for v in values]
    return None


def _check_beat_items(beats: list[Any], errors: _Errors) -> None:
    """Slow path: name every beat that is not ``{"t_ms": int, "rr_ticks": int}``."""
    for i, beat in enumerate(beats):
        if not isinstance(beat, dict):
            errors.add("beats", i, "", "must be an object with t_ms and rr_ticks")
            continue
        for fld in ("t_ms", "rr_ticks"):
            if fld not in beat:
                errors.add("beats", i, fld, "is missing")
            elif not _is_int(beat[fld]):
                errors.add("beats", i, fld, "must be an integer", beat[fld])
            elif not -(2**62) < beat[fld] < 2**62:
                errors.add("beats", i, fld, "is out of range", beat[fld])


def _beat_arrays(
    beats: list[Any], errors: _Errors
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]] | None:
    """Beat times and RR values as int64 arrays, or ``None`` after recording structural errors."""
    try:
        t_list = [b["t_ms"] for b in beats]
        rr_list = [b["rr_ticks"] for b in beats]
    except (TypeError, KeyError):
        _check_beat_items(beats, errors)
        return None
    t_ints, rr_ints = _as_ints(t_list), _as_ints(rr_list)
    if t_ints is None or rr_ints is None:
        _check_beat_items(beats, errors)
        return None
    try:
        return np.array(t_ints, dtype=np.int64), np.array(rr_ints, dtype=np.int64)
    except OverflowError:
        _check_beat_items(beats, errors)
        return None


def _check_beat_values(
    t_ms: npt.NDArray[np.int64], rr_ticks: npt.NDArray[np.int64], now_ms: int, errors: _Errors
) -> None:
    bad_rr = np.flatnonzero((rr_ticks < RR_MIN_TICKS) | (rr_ticks > RR_MAX_TICKS))
    for i in bad_rr[:MAX_REPORTED_ERRORS].tolist():
        errors.add(
            "beats",
            i,
            "rr_ticks",
            f"outside physiological bounds {RR_MIN_TICKS}-{RR_MAX_TICKS} ticks "
            f"({RR_MIN_MS:g}-{RR_MAX_MS:g} ms)",
            int(rr_ticks[i]),
        )
    errors.total += max(0, bad_rr.size - MAX_REPORTED_ERRORS)
    too_old = np.flatnonzero(t_ms < MIN_T_MS)
    for i in too_old[:MAX_REPORTED_ERRORS].tolist():
        errors.add("beats", i, "t_ms", "before 2000-01-01 (strap clock not set?)", int(t_ms[i]))
    errors.total += max(0, too_old.size - MAX_REPORTED_ERRORS)
    future = np.flatnonzero(t_ms > now_ms + MAX_FUTURE_SKEW_MS)
    for i in future[:MAX_REPORTED_ERRORS].tolist():
        errors.add(
            "beats",
            i,
            "t_ms",
            f"more than {MAX_FUTURE_SKEW_MS // 1000} s in the future",
            int(t_ms[i]),
        )
    errors.total += max(0, future.size - MAX_REPORTED_ERRORS)
    if t_ms.size > 1:
        step = np.diff(t_ms)
        dup = np.flatnonzero(step == 0) + 1
        back = np.flatnonzero(step < 0) + 1
        for i in dup[:MAX_REPORTED_ERRORS].tolist():
            errors.add("beats", i, "t_ms", "duplicates the previous beat's time", int(t_ms[i]))
        for i in back[:MAX_REPORTED_ERRORS].tolist():
            errors.add(
                "beats", i, "t_ms", "not increasing (earlier than the previous beat)", int(t_ms[i])
            )
        errors.total += max(0, dup.size - MAX_REPORTED_ERRORS) + max(
            0, back.size - MAX_REPORTED_ERRORS
        )


def _parse_gaps(raw: object, now_ms: int, errors: _Errors) -> list[tuple[int, int]]:
    if not isinstance(raw, list):
        errors.add("gaps", None, "", "must be a list of {start_ms, end_ms}")
        return []
    if len(raw) > MAX_GAPS_PER_BATCH:
        raise PayloadTooLarge(
            f"a batch may carry at most {MAX_GAPS_PER_BATCH} gaps, got {len(raw)}",
            limit=MAX_GAPS_PER_BATCH,
            count=len(raw),
        )
    gaps: list[tuple[int, int]] = []
    starts: dict[int, int] = {}
    for i, gap in enumerate(raw):
        if not isinstance(gap, dict):
            errors.add("gaps", i, "", "must be an object with start_ms and end_ms")
            continue
        ok = True
        for fld in ("start_ms", "end_ms"):
            value = gap.get(fld)
            if fld not in gap:
                errors.add("gaps", i, fld, "is missing")
                ok = False
            elif not _is_int(value):
                errors.add("gaps", i, fld, "must be an integer", value)
                ok = False
            elif not MIN_T_MS <= value <= now_ms + MAX_FUTURE_SKEW_MS:  # type: ignore[operator]
                errors.add("gaps", i, fld, "outside 2000-01-01 .. now", value)
                ok = False
        if ok:
            start, end = int(gap["start_ms"]), int(gap["end_ms"])
            if end < start:
                errors.add("gaps", i, "end_ms", "ends before it starts", end)
            elif start in starts:
                errors.add("gaps", i, "start_ms", f"starts where gap {starts[start]} starts", start)
            else:
                starts[start] = i
                gaps.append((start, end))
    return gaps


def _parse_strap(raw: object, errors: _Errors) -> StrapInfo | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        errors.add("strap", None, "", "must be an object")
        return None
    texts: dict[str, str | None] = {}
    for fld in STRAP_TEXT_FIELDS:
        value = raw.get(fld)
        if value is None:
            texts[fld] = None
        elif not isinstance(value, str) or len(value) > MAX_STRAP_TEXT or "\x00" in value:
            errors.add("strap", None, fld, f"must be text of at most {MAX_STRAP_TEXT} characters")
            texts[fld] = None
        else:
            texts[fld] = value
    battery = raw.get("battery_pct")
    if battery is not None and (not _is_int(battery) or not 0 <= battery <= 100):
        errors.add("strap", None, "battery_pct", "must be an integer 0-100", battery)
        battery = None
    return StrapInfo(battery_pct=int(battery) if battery is not None else None, **texts)


def _canonical_uuid(text: str) -> uuid.UUID | None:
    """``text`` as a UUID when it is in the canonical form JSON Schema's ``uuid`` format means
    (``uuid.UUID`` also takes braces, ``urn:uuid:`` and 32 bare digits)."""
    try:
        value = uuid.UUID(text)
    except ValueError:
        return None
    return value if str(value) == text.lower() else None


def parse_batch(body: bytes, *, now_ms: int) -> BeatBatch:
    """Parse and validate a ``POST /v1/ingest/beats`` body.

    Parameters
    ----------
    body:
        The raw JSON request body.
    now_ms:
        The server clock in epoch ms (beats further ahead than ``MAX_FUTURE_SKEW_MS`` are refused).

    Returns
    -------
    BeatBatch
        The validated batch.

    Raises
    ------
    MalformedRequest
        The body is not JSON (400).
    InvalidInput
        Naming each bad item (``fields["errors"]``: loc, index, field, reason, value); the body
        follows ``wire.BATCH_JSON_SCHEMA`` strictly (``beats`` required, a canonical UUID, no
        ``null`` where the schema has none).
    PayloadTooLarge
        More than ``MAX_BEATS_PER_BATCH`` beats or ``MAX_GAPS_PER_BATCH`` gaps.
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedRequest(f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("the body must be a JSON object with batch_id and beats")
    errors = _Errors()
    raw_id = doc.get("batch_id")
    batch_id: uuid.UUID | None = None
    if not isinstance(raw_id, str):
        errors.add("batch_id", None, "", "must be a UUID string")
    else:
        batch_id = _canonical_uuid(raw_id)
        if batch_id is None:
            errors.add(
                "batch_id", None, "", "is not a UUID (8-4-4-4-12 hexadecimal digits)", raw_id[:64]
            )
    beats = doc.get("beats")
    t_ms = np.zeros(0, dtype=np.int64)
    rr_ticks = np.zeros(0, dtype=np.int64)
    if "beats" not in doc:
        errors.add("beats", None, "", "is missing")
    elif not isinstance(beats, list):
        errors.add("beats", None, "", "must be a list of {t_ms, rr_ticks}")
    else:
        if len(beats) > MAX_BEATS_PER_BATCH:
            raise PayloadTooLarge(
                f"a batch may carry at most {MAX_BEATS_PER_BATCH} beats, got {len(beats)}",
                limit=MAX_BEATS_PER_BATCH,
                count=len(beats),
            )
        arrays = _beat_arrays(beats, errors)
        if arrays is not None:
            t_ms, rr_ticks = arrays
            _check_beat_values(t_ms, rr_ticks, now_ms, errors)
    gaps = _parse_gaps(doc["gaps"], now_ms, errors) if "gaps" in doc else []
    strap = _parse_strap(doc.get("strap"), errors)
    errors.raise_if_any()
    assert batch_id is not None  # an absent or bad id was recorded as an error above
    return BeatBatch(batch_id=batch_id, t_ms=t_ms, rr_ticks=rr_ticks, gaps_ms=gaps, strap=strap)

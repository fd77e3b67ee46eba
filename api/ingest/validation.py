"""Validation of a ``POST /v1/ingest/beats`` body against the wire contract (``wire``): pure, no I/O.

Vectorised over the beats (numpy, no per-beat objects); every bad item is named in one ``InvalidInput``.
Storing a validated batch is left to ``api.ingest.storage``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import orjson

from api.errors import InvalidInput, PayloadTooLarge
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
    return type(value) is int


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
    if not (set(map(type, t_list)) <= {int} and set(map(type, rr_list)) <= {int}):
        _check_beat_items(beats, errors)
        return None
    try:
        return np.array(t_list, dtype=np.int64), np.array(rr_list, dtype=np.int64)
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
    if raw is None:
        return []
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
            else:
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
    return StrapInfo(battery_pct=battery, **texts)


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
    InvalidInput
        Naming each bad item (``fields["errors"]``: loc, index, field, reason, value).
    PayloadTooLarge
        More than ``MAX_BEATS_PER_BATCH`` beats or ``MAX_GAPS_PER_BATCH`` gaps.
    """
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"the body is not valid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise InvalidInput("the body must be a JSON object with batch_id and beats")
    errors = _Errors()
    raw_id = doc.get("batch_id")
    batch_id: uuid.UUID | None = None
    if not isinstance(raw_id, str):
        errors.add("batch_id", None, "", "must be a UUID string")
    else:
        try:
            batch_id = uuid.UUID(raw_id)
        except ValueError:
            errors.add("batch_id", None, "", "is not a UUID", raw_id[:64])
    beats = doc.get("beats", [])
    t_ms = np.zeros(0, dtype=np.int64)
    rr_ticks = np.zeros(0, dtype=np.int64)
    if not isinstance(beats, list):
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
    gaps = _parse_gaps(doc.get("gaps"), now_ms, errors)
    strap = _parse_strap(doc.get("strap"), errors)
    errors.raise_if_any()
    assert batch_id is not None  # an absent or bad id was recorded as an error above
    return BeatBatch(batch_id=batch_id, t_ms=t_ms, rr_ticks=rr_ticks, gaps_ms=gaps, strap=strap)

"""The beat-batch document of ``POST /v1/ingest/beats``: its shape, its limits and its JSON Schema.

The collector builds it with ``encode_batch``; the API validates it (``api.ingest.validation``) and
publishes ``BATCH_JSON_SCHEMA`` in its OpenAPI description.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any, Final, TypedDict

from wire.bounds import MIN_T_MS, RR_MAX_TICKS, RR_MIN_TICKS
from wire.strap import MAX_STRAP_TEXT, StrapDoc, StrapInfo

#: Path of the ingest endpoint below the server's base URL.
INGEST_PATH: Final[str] = "/v1/ingest/beats"
#: Most beats one batch may carry (about 2.5 h at 65 bpm); more is answered 413.
MAX_BEATS_PER_BATCH: Final[int] = 10_000
#: Most gaps one batch may carry.
MAX_GAPS_PER_BATCH: Final[int] = 1_000


class BeatDoc(TypedDict):
    """One beat: its time (end of its RR interval, epoch ms) and its RR interval (1/1024 s ticks)."""

    t_ms: int
    rr_ticks: int


class GapDoc(TypedDict):
    """A stretch without beats (disconnect, missed beats), epoch ms."""

    start_ms: int
    end_ms: int


class _BatchRequired(TypedDict):
    batch_id: str
    beats: list[BeatDoc]


class BatchDoc(_BatchRequired, total=False):
    """A batch: an id chosen by the collector (a re-sent id is answered as duplicates), strictly
    increasing beats, optional gaps and strap info."""

    gaps: list[GapDoc]
    strap: StrapDoc | None


class AckDoc(TypedDict):
    """The 2xx answer: beats newly stored and beats the server already had."""

    batch_id: str
    accepted: int
    duplicates: int


def encode_batch(
    batch_id: uuid.UUID,
    beats: Iterable[tuple[int, int]],
    gaps: Iterable[tuple[int, int]] = (),
    strap: StrapInfo | None = None,
) -> BatchDoc:
    """The wire document of a batch.

    Parameters
    ----------
    batch_id:
        Stable id of the batch (the same id on every retry).
    beats:
        ``(t_ms, rr_ticks)`` pairs in increasing time.
    gaps:
        ``(start_ms, end_ms)`` pairs.
    strap:
        What is known about the strap, or ``None``.
    """
    doc: BatchDoc = {
        "batch_id": str(batch_id),
        "beats": [{"t_ms": t, "rr_ticks": r} for t, r in beats],
        "gaps": [{"start_ms": s, "end_ms": e} for s, e in gaps],
    }
    if strap is not None:
        doc["strap"] = strap.to_doc()
    return doc


_TEXT: Final[dict[str, Any]] = {"type": ["string", "null"], "maxLength": MAX_STRAP_TEXT}

#: JSON Schema (2020-12) of a batch document: structure and per-item bounds. Rules across items (beat
#: times strictly increasing, nothing more than ``MAX_FUTURE_SKEW_MS`` ahead of the server's clock,
#: gaps not ending before they start) are checked by the API and described here in words.
BATCH_JSON_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "required": ["batch_id", "beats"],
    "properties": {
        "batch_id": {
            "type": "string",
            "format": "uuid",
            "description": "Chosen by the collector; a re-sent id is answered as duplicates.",
        },
        "beats": {
            "type": "array",
            "maxItems": MAX_BEATS_PER_BATCH,
            "description": "Strictly increasing beat times.",
            "items": {
                "type": "object",
                "required": ["t_ms", "rr_ticks"],
                "properties": {
                    "t_ms": {
                        "type": "integer",
                        "minimum": MIN_T_MS,
                        "description": "Beat time (end of its RR interval), epoch ms.",
                    },
                    "rr_ticks": {
                        "type": "integer",
                        "minimum": RR_MIN_TICKS,
                        "maximum": RR_MAX_TICKS,
                        "description": "RR interval in 1/1024 s.",
                    },
                },
            },
        },
        "gaps": {
            "type": "array",
            "maxItems": MAX_GAPS_PER_BATCH,
            "description": "Recording gaps (disconnects, missed beats), epoch ms.",
            "items": {
                "type": "object",
                "required": ["start_ms", "end_ms"],
                "properties": {
                    "start_ms": {"type": "integer", "minimum": MIN_T_MS},
                    "end_ms": {"type": "integer", "minimum": MIN_T_MS},
                },
            },
        },
        "strap": {
            "type": ["object", "null"],
            "properties": {
                "address": _TEXT,
                "name": _TEXT,
                "model": _TEXT,
                "firmware": _TEXT,
                "battery_pct": {"type": ["integer", "null"], "minimum": 0, "maximum": 100},
            },
        },
    },
}

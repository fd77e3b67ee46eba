"""The collector↔API wire contract: tick rate, RR bounds, strap info and the beat-batch schema.

Standard library only and imported by both sides (``collector`` writes batches, ``api`` validates
them); it imports neither, nor ``analysis``. Validation and storage are left to ``api.ingest``.
"""

from wire.batch import (
    BATCH_JSON_SCHEMA,
    INGEST_PATH,
    MAX_BEATS_PER_BATCH,
    MAX_GAPS_PER_BATCH,
    AckDoc,
    BatchDoc,
    BeatDoc,
    GapDoc,
    encode_batch,
)
from wire.bounds import (
    MAX_FUTURE_SKEW_MS,
    MIN_T_MS,
    RR_MAX_MS,
    RR_MAX_TICKS,
    RR_MIN_MS,
    RR_MIN_TICKS,
    is_plausible_rr_ticks,
)
from wire.strap import MAX_STRAP_TEXT, STRAP_TEXT_FIELDS, StrapDoc, StrapInfo
from wire.units import RR_TICKS_PER_S, ms_to_ticks, ticks_to_ms

__all__ = [
    "BATCH_JSON_SCHEMA",
    "INGEST_PATH",
    "MAX_BEATS_PER_BATCH",
    "MAX_FUTURE_SKEW_MS",
    "MAX_GAPS_PER_BATCH",
    "MAX_STRAP_TEXT",
    "MIN_T_MS",
    "RR_MAX_MS",
    "RR_MAX_TICKS",
    "RR_MIN_MS",
    "RR_MIN_TICKS",
    "RR_TICKS_PER_S",
    "STRAP_TEXT_FIELDS",
    "AckDoc",
    "BatchDoc",
    "BeatDoc",
    "GapDoc",
    "StrapDoc",
    "StrapInfo",
    "encode_batch",
    "is_plausible_rr_ticks",
    "ms_to_ticks",
    "ticks_to_ms",
]

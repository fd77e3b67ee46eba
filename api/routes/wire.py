"""``GET /v1/wire``: the collector↔API wire contract (``wire``) for browser clients, so pages never copy it.

Public (nothing in it is secret); the contract itself is the ``wire`` package.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

import wire

router = APIRouter(prefix="/v1", tags=["ingest"])


class WireContract(BaseModel):
    """The constants a client needs to read straps and write batches."""

    rr_ticks_per_s: int = Field(description="RR resolution: ticks per second (0x2A37: 1024).")
    rr_min_ms: float = Field(description="Shortest RR interval that is a beat, ms.")
    rr_max_ms: float = Field(description="Longest RR interval that is a beat, ms.")
    rr_min_ticks: int = Field(description="rr_min_ms in whole ticks (inclusive).")
    rr_max_ticks: int = Field(description="rr_max_ms in whole ticks (inclusive).")
    min_t_ms: int = Field(description="Earliest accepted beat time, epoch ms.")
    max_future_skew_ms: int = Field(description="How far a beat may lie ahead of the server, ms.")
    max_beats_per_batch: int
    max_gaps_per_batch: int
    max_strap_text: int = Field(description="Longest strap text field, characters.")
    ingest_path: str = Field(description="Path of the ingest endpoint.")
    batch_schema: dict[str, Any] = Field(description="JSON Schema of a batch document.")


@router.get("/wire", response_model=WireContract, summary="The ingest wire contract (public)")
async def wire_contract() -> WireContract:
    """Tick rate, RR bounds, batch limits and the batch JSON Schema, as the API enforces them."""
    return WireContract(
        rr_ticks_per_s=wire.RR_TICKS_PER_S,
        rr_min_ms=wire.RR_MIN_MS,
        rr_max_ms=wire.RR_MAX_MS,
        rr_min_ticks=wire.RR_MIN_TICKS,
        rr_max_ticks=wire.RR_MAX_TICKS,
        min_t_ms=wire.MIN_T_MS,
        max_future_skew_ms=wire.MAX_FUTURE_SKEW_MS,
        max_beats_per_batch=wire.MAX_BEATS_PER_BATCH,
        max_gaps_per_batch=wire.MAX_GAPS_PER_BATCH,
        max_strap_text=wire.MAX_STRAP_TEXT,
        ingest_path=wire.INGEST_PATH,
        batch_schema=wire.BATCH_JSON_SCHEMA,
    )

"""``POST /v1/ingest/beats``: collectors upload beat batches with their device token.

The body is parsed and validated by ``api.ingest`` (vectorised, no per-beat objects); this module
only wires the device dependency, the database connection and the OpenAPI description.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_db, require_device
from api.ingest import (
    INGEST_RR_MAX_TICKS,
    INGEST_RR_MIN_TICKS,
    MAX_BEATS_PER_BATCH,
    MAX_GAPS_PER_BATCH,
    MAX_STRAP_TEXT,
    MIN_T_MS,
    DeviceRef,
    parse_batch,
    store_batch,
)
from api.routes.responses import errors

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


class IngestResponse(BaseModel):
    """Beats newly stored and beats already stored (a re-sent batch is all duplicates)."""

    batch_id: uuid.UUID
    accepted: int = Field(ge=0)
    duplicates: int = Field(ge=0)


_TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": MAX_STRAP_TEXT}
#: The request body's JSON schema, inline (the body is parsed by ``api.ingest.parse_batch``).
INGEST_BODY_SCHEMA: dict[str, Any] = {
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
                        "minimum": INGEST_RR_MIN_TICKS,
                        "maximum": INGEST_RR_MAX_TICKS,
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


@router.post(
    "/beats",
    response_model=IngestResponse,
    summary="Upload a batch of beats (device token)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": INGEST_BODY_SCHEMA}},
        }
    },
    responses=errors(401, 409, 413, 422),
)
async def ingest_beats(
    request: Request, device: Principal = Depends(require_device)
) -> IngestResponse:
    """Store a batch of beats for the token's patient: all of it, or none if an item is bad."""
    assert device.device_id is not None and device.patient_id is not None
    batch = parse_batch(await request.body(), now_ms=time.time_ns() // 1_000_000)
    async with get_db(request).connection() as conn:
        result = await store_batch(
            conn, DeviceRef(device_id=device.device_id, patient_id=device.patient_id), batch
        )
    return IngestResponse(
        batch_id=result.batch_id, accepted=result.accepted, duplicates=result.duplicates
    )

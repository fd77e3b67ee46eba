"""``POST /v1/ingest/beats``: collectors upload beat batches with their device token.

The body is validated by ``api.ingest.validation`` against the ``wire`` contract (vectorised, no
per-beat objects) and stored by ``api.ingest.storage``; this module only wires the device
dependency, the database connection and the OpenAPI description.
"""

from __future__ import annotations

import time
import uuid

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_db, require_device
from api.ingest.storage import DeviceRef, store_batch
from api.ingest.validation import parse_batch
from api.routes.responses import errors
from wire import BATCH_JSON_SCHEMA

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])


class IngestResponse(BaseModel):
    """Beats newly stored and beats already stored (a re-sent batch is all duplicates)."""

    batch_id: uuid.UUID
    accepted: int = Field(ge=0)
    duplicates: int = Field(ge=0)


@router.post(
    "/beats",
    response_model=IngestResponse,
    summary="Upload a batch of beats (device token)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": BATCH_JSON_SCHEMA}},
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

"""Device tokens for collectors and the patient's own browser: create (shown once) and list per
patient, revoke by id.

The token format and hashing are ``api.auth.device_tokens``; ingest with a token is another router.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal, cast

from fastapi import APIRouter, Body, Depends, Request, Response
from pydantic import BaseModel, Field

from api.audit import record
from api.auth.deps import (
    Principal,
    device_owner_writer,
    get_db,
    patient_reader,
    patient_self_writer,
    patient_writer,
    route_name,
)
from api.auth.device_tokens import hash_device_token, new_device_token
from api.db.queries import q
from api.errors import NotFound
from api.form_rules import blank_to_none, enforce, schema_extra
from api.routes.integrity import integrity_errors
from api.routes.responses import PATIENT_ERRORS, errors

router = APIRouter(tags=["devices"])


class DeviceCreate(BaseModel):
    label: str | None = Field(
        default=None,
        description="e.g. 'Polar H10, living room laptop'",
        json_schema_extra=schema_extra("device", "label"),
    )


class DeviceCreated(BaseModel):
    device_id: uuid.UUID
    token: str = Field(description="Shown once; only its SHA-256 is stored")
    patient_id: uuid.UUID
    label: str | None
    created_at: datetime


class BrowserDeviceCreate(BaseModel):
    label: str | None = Field(
        default=None,
        description="e.g. 'Chrome on Android'; 'This browser' when absent",
        json_schema_extra=schema_extra("device", "label"),
    )


#: Label of a browser's device when the page names none.
BROWSER_DEVICE_LABEL = "This browser"


class Device(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    label: str | None
    source: str = Field(
        description="collector, browser, or the import format (apple_health, fit, polar, ...)"
    )
    created_at: datetime
    revoked_at: datetime | None
    last_seen_at: datetime | None
    strap_address: str | None
    strap_name: str | None
    strap_model: str | None
    strap_firmware: str | None
    battery_pct: int | None


@router.post(
    "/v1/patients/{patient_id}/devices",
    status_code=201,
    response_model=DeviceCreated,
    responses=errors(*PATIENT_ERRORS),
)
async def create_device(
    request: Request,
    patient_id: uuid.UUID,
    body: DeviceCreate | None = Body(default=None),
    principal: Principal = Depends(patient_writer),
) -> DeviceCreated:
    """A new device token bound to the patient (their therapist or the patient)."""
    label = body.label if body is not None else None
    return await _issue_device(request, principal, patient_id, label, "collector")


@router.post(
    "/v1/patients/{patient_id}/browser-devices",
    status_code=201,
    response_model=DeviceCreated,
    responses=errors(*PATIENT_ERRORS),
)
async def create_browser_device(
    request: Request,
    patient_id: uuid.UUID,
    body: BrowserDeviceCreate | None = Body(default=None),
    principal: Principal = Depends(patient_self_writer),
) -> DeviceCreated:
    """A device token for the patient's own browser, asked for through their signed-in session.

    Only the patient themself gets one (their therapist pairs collectors instead). Like every
    device token it reaches ingest only, is bound to this patient, is listed with the patient's
    devices (``source`` ``browser``) and is revoked with ``DELETE /v1/devices/{device_id}``.
    """
    label = body.label if body is not None else None
    return await _issue_device(
        request, principal, patient_id, label, "browser", default_label=BROWSER_DEVICE_LABEL
    )


async def _issue_device(
    request: Request,
    principal: Principal,
    patient_id: uuid.UUID,
    label: str | None,
    source: Literal["collector", "browser"],
    *,
    default_label: str | None = None,
) -> DeviceCreated:
    """Store a new device of ``source`` with a fresh token (shown once) and audit it; ``label`` as
    sent (checked by the device form's rules), ``default_label`` when it is blank."""
    enforce("device", {"label": label})
    token = new_device_token()
    async with get_db(request).connection() as conn, conn.transaction():
        with integrity_errors("token collision; try again", missing="patient not found"):
            cur = await conn.execute(
                q("devices_insert"),
                {
                    "patient_id": patient_id,
                    "token_hash": hash_device_token(token),
                    "label": blank_to_none(label) or default_label,
                    "created_by": principal.user_id,
                    "source": source,
                },
            )
            row = await cur.fetchone()
        assert row is not None
        details = {"device_id": str(row["id"]), "label": row["label"]}
        if source != "collector":
            details["source"] = source
        await record(conn, principal, "create_device", route_name(request), patient_id, details)
    return DeviceCreated(
        device_id=row["id"],
        token=token,
        patient_id=row["patient_id"],
        label=row["label"],
        created_at=row["created_at"],
    )


@router.get(
    "/v1/patients/{patient_id}/devices",
    response_model=list[Device],
    responses=errors(*PATIENT_ERRORS),
)
async def list_devices(
    request: Request, patient_id: uuid.UUID, _: Principal = Depends(patient_reader)
) -> list[Device]:
    """The patient's devices, revoked ones included (tokens are never shown again)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("devices_list"), {"patient_id": patient_id})
        rows = await cur.fetchall()
    return [Device.model_validate(r) for r in rows]


@router.delete("/v1/devices/{device_id}", status_code=204, responses=errors(*PATIENT_ERRORS))
async def revoke_device(
    request: Request, device_id: uuid.UUID, principal: Principal = Depends(device_owner_writer)
) -> Response:
    """Revoke a device token at once (idempotent); its uploads then answer 401."""
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(q("devices_revoke"), {"id": device_id})
        row = await cur.fetchone()
        if row is None:
            raise NotFound("device not found", device_id=str(device_id))
        await record(
            conn,
            principal,
            "revoke_device",
            route_name(request),
            cast(uuid.UUID, row["patient_id"]),
            {"device_id": str(device_id)},
        )
    return Response(status_code=204)

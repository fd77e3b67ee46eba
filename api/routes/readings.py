"""Guided morning readings recorded in the patient's browser: the page registers each reading with its
device token; the patient and their therapist read its verdict (``analysis.reading``).

The reading's beats arrive through ``POST /v1/ingest/beats`` like any device's; this module only
stores the reading's interval and judges the beats stored inside it.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator

from analysis.band import NormalBand
from analysis.reading import MORNING_READING_S, ReadingVerdict, UsualRange, judge_reading
from api.auth.deps import Principal, get_db, patient_reader, require_device
from api.db.queries import q
from api.errors import Conflict, NotFound
from api.ingest.storage import STRAP_RESOLUTION_MS
from api.routes.fields import JSON_INT, Time
from api.routes.responses import PATIENT_ERRORS, errors
from api.trend_view import judged_trend, load_patient_days

router = APIRouter(tags=["readings"])

#: Shortest and longest planned reading the page may register, s (the table's bounds).
MIN_PLANNED_S = 10
MAX_PLANNED_S = 3600
#: Readings listed at most.
MAX_LISTED = 100


class ReadingIn(BaseModel):
    """A reading's interval as the page recorded it (its beats go to ``POST /v1/ingest/beats``)."""

    started_at: Time = Field(description="When the still reading began (ISO 8601 with offset)")
    ended_at: Time = Field(description="When it ended; after started_at")
    planned_s: Annotated[int, Field(ge=MIN_PLANNED_S, le=MAX_PLANNED_S), JSON_INT] = Field(
        default=int(MORNING_READING_S), description="Planned length, s"
    )

    @model_validator(mode="after")
    def _ordered(self) -> ReadingIn:
        if self.ended_at <= self.started_at:
            raise ValueError("ended_at must be after started_at")
        return self


class Reading(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    device_id: uuid.UUID
    kind: Literal["morning"]
    started_at: datetime
    ended_at: datetime
    planned_s: int
    created_at: datetime


class ReadingStored(Reading):
    created: bool = Field(description="False when this id was stored before (same content)")


class ReadingListed(Reading):
    beats: int = Field(ge=0, description="Beats stored inside the reading's interval")


class Verdict(BaseModel):
    """``analysis.reading.ReadingVerdict``: markers, signal grade and the comparison."""

    state: Literal["verdict", "cannot_tell"]
    position: Literal["below", "within", "above"] | None
    grade: str
    n_beats: int
    duration_s: float
    artifact_share: float | None
    rmssd_ms: float | None
    ln_rmssd: float | None
    mean_hr_bpm: float | None
    usual_low_ln: float | None
    usual_high_ln: float | None
    level: float = Field(description="Share of a stable person's mornings inside the usual range")
    reasons: list[str]
    usual_source: str | None = Field(description="How the usual range's mornings were measured")


class ReadingJudged(Reading):
    beats: int = Field(ge=0)
    verdict: Verdict


@router.put(
    "/v1/ingest/readings/{reading_id}",
    response_model=ReadingStored,
    summary="Register a guided reading (device token)",
    responses=errors(401, 409, 422),
)
async def put_reading(
    request: Request,
    reading_id: uuid.UUID,
    body: ReadingIn,
    device: Principal = Depends(require_device),
) -> ReadingStored:
    """Store the reading's interval for the token's patient; sending it again changes nothing.

    The id is chosen by the page (it is known before the upload, so a retry carries the same one);
    the same id with another interval or from another device is answered 409.
    """
    assert device.device_id is not None and device.patient_id is not None
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("readings_upsert"),
            {
                "id": reading_id,
                "patient_id": device.patient_id,
                "device_id": device.device_id,
                "started_at": body.started_at,
                "ended_at": body.ended_at,
                "planned_s": body.planned_s,
            },
        )
        row = await cur.fetchone()
    assert row is not None
    same = (
        row["device_id"] == device.device_id
        and row["started_at"] == body.started_at
        and row["ended_at"] == body.ended_at
        and row["planned_s"] == body.planned_s
    )
    if not same:
        raise Conflict(
            "this reading id was stored before with other content", reading_id=str(reading_id)
        )
    return ReadingStored.model_validate(row)


@router.get(
    "/v1/patients/{patient_id}/readings",
    response_model=list[ReadingListed],
    responses=errors(*PATIENT_ERRORS),
)
async def list_readings(
    request: Request,
    patient_id: uuid.UUID,
    limit: int = Query(default=20, ge=1, le=MAX_LISTED),
    _: Principal = Depends(patient_reader),
) -> list[ReadingListed]:
    """The patient's guided readings, newest first, with the beats stored inside each."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("readings_list"), {"patient_id": patient_id, "limit": limit})
        rows = await cur.fetchall()
    return [ReadingListed.model_validate(r) for r in rows]


@router.get(
    "/v1/patients/{patient_id}/readings/{reading_id}",
    response_model=ReadingJudged,
    responses=errors(*PATIENT_ERRORS),
)
async def get_reading(
    request: Request,
    patient_id: uuid.UUID,
    reading_id: uuid.UUID,
    _: Principal = Depends(patient_reader),
) -> ReadingJudged:
    """One reading with its verdict on the beats stored so far (``analysis.reading``).

    The usual range is the patient's baseline of morning readings (the band's days); without one,
    the verdict is "cannot tell yet" with the reason.
    """
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("readings_get"), {"id": reading_id, "patient_id": patient_id})
        reading = await cur.fetchone()
        if reading is None:
            raise NotFound("reading not found", reading_id=str(reading_id))
        cur = await conn.execute(q("readings_beats"), reading)
        beats = await cur.fetchall()
        days = await load_patient_days(conn, patient_id, str(reading["timezone"]))
    trend = await judged_trend(days)
    band = trend.band
    usual = (
        UsualRange(band.mean_ln_rmssd, band.sd_ln_rmssd, band.n_days, band.source)
        if isinstance(band, NormalBand)
        else None
    )
    verdict = await asyncio.to_thread(_judge, reading, beats, usual)
    doc: dict[str, Any] = verdict.to_dict()
    if usual is None and verdict.grade in ("good", "fair") and not isinstance(band, NormalBand):
        doc["reasons"] = [*doc["reasons"], band.reason]
    doc["usual_source"] = usual.source if usual is not None else None
    return ReadingJudged(**{**reading, "beats": len(beats), "verdict": Verdict(**doc)})


def _judge(
    reading: dict[str, Any], beats: list[dict[str, Any]], usual: UsualRange | None
) -> ReadingVerdict:
    return judge_reading(
        [float(b["t_s"]) for b in beats],
        [float(b["rr_ms"]) for b in beats],
        start_s=reading["started_at"].timestamp(),
        end_s=reading["ended_at"].timestamp(),
        usual=usual,
        resolution_ms=STRAP_RESOLUTION_MS,
    )

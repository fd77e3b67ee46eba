"""``POST /v1/patients/{id}/imports`` (multipart ``file``, optional ``start``): import a beat file
the patient already holds; ``GET`` lists the patient's imports.

Detection and parsing are ``api.imports``, storage ``api.imports.storage``; this module wires the
upload, the rule (the patient or an assigned therapist) and the OpenAPI description.
"""

from __future__ import annotations

import uuid
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from anyio import to_thread
from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_db, patient_reader, patient_writer
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.imports import SOURCES, ImportContext, open_import
from api.imports.storage import file_digest, store_import
from api.routes.responses import PATIENT_ERRORS, errors

router = APIRouter(tags=["imports"])

#: Longest file name kept (longer names are cut).
MAX_FILE_NAME = 255


class ImportCreated(BaseModel):
    """What one import stored; ``beats`` = ``accepted`` + ``duplicates`` (a re-import accepts 0)."""

    import_id: uuid.UUID
    source: str = Field(description="Detected format: " + ", ".join(SOURCES))
    file_name: str
    beats: int = Field(ge=0, description="Beats in the file (one per instant)")
    accepted: int = Field(ge=0, description="Beats newly stored")
    duplicates: int = Field(ge=0, description="Beats already stored (or twice in the file)")
    skipped: int = Field(ge=0, description="RR values outside 200-3000 ms, which are not beats")
    summaries: int = Field(
        ge=0, description="Values the source computed itself (e.g. Apple's SDNN), kept apart"
    )
    first: datetime | None = Field(description="First beat")
    last: datetime | None = Field(description="Last beat")
    resolution_ms: float = Field(description="Time resolution of the file's beats, ms")


class ImportListed(BaseModel):
    id: uuid.UUID
    source: str
    file_name: str
    beats: int
    accepted: int
    duplicates: int
    skipped: int
    summaries: int
    first_at: datetime | None
    last_at: datetime | None
    resolution_ms: float
    created_at: datetime


def _start(value: str | None) -> datetime | None:
    if value is None or not value.strip():
        return None
    try:
        start = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(
            f"start is not an ISO 8601 date and time: {value[:40]!r}", field="start"
        ) from None
    if start.tzinfo is None:
        raise InvalidInput("start needs an offset, e.g. 2026-03-01T07:05:00+01:00", field="start")
    return start


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


@router.post(
    "/v1/patients/{patient_id}/imports",
    status_code=201,
    response_model=ImportCreated,
    summary="Import a beat file (Apple Health, FIT, Polar, Elite HRV, HRV4Training, Kubios)",
    responses=errors(*PATIENT_ERRORS),
)
async def create_import(
    request: Request,
    patient_id: uuid.UUID,
    file: UploadFile = File(description="The export file; its format is detected from its content"),
    start: str | None = Form(
        default=None,
        description="Start of a file without absolute time (Kubios RR text): ISO 8601 with offset",
    ),
    principal: Principal = Depends(patient_writer),
) -> ImportCreated:
    """Store every beat of the file, labelled with its source, device and time resolution.

    The whole file is stored or nothing: a malformed or truncated file answers 422 naming the file
    and the line or record. Re-importing a file stores nothing twice (``accepted`` 0).
    """
    file_name = (file.filename or "upload").replace("\\", "/").rsplit("/", 1)[-1][
        :MAX_FILE_NAME
    ] or "upload"
    start_at = _start(start)
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("patients_get"), {"id": patient_id})
        patient = await cur.fetchone()
        if patient is None:
            raise NotFound("patient not found", patient_id=str(patient_id))
        digest, size = await to_thread.run_sync(file_digest, file.file)
        parsed = open_import(
            file.file, ImportContext(file_name, _zone(str(patient["timezone"])), start_at)
        )
        result = await store_import(
            conn,
            patient_id=patient_id,
            created_by=principal.user_id,
            file_name=file_name,
            file_sha256=digest,
            file_bytes=size,
            parsed=parsed,
        )
    return ImportCreated(
        import_id=result.import_id,
        source=result.source,
        file_name=result.file_name,
        beats=result.beats,
        accepted=result.accepted,
        duplicates=result.duplicates,
        skipped=result.skipped,
        summaries=result.summaries,
        first=result.first,
        last=result.last,
        resolution_ms=result.resolution_ms,
    )


@router.get(
    "/v1/patients/{patient_id}/imports",
    response_model=list[ImportListed],
    summary="The patient's imports, newest first",
    responses=errors(*PATIENT_ERRORS),
)
async def list_imports(
    request: Request,
    patient_id: uuid.UUID,
    limit: int = Query(default=100, ge=1, le=1000),
    _: Principal = Depends(patient_reader),
) -> list[ImportListed]:
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("imports_list"), {"patient_id": patient_id, "limit": limit})
        rows = await cur.fetchall()
    return [ImportListed.model_validate(r) for r in rows]

"""``/v1/cohort`` (researcher): the consented cohort by pseudonym with how much data each patient has, and a
preview of an export's form (format, days, date shift) that says what it would hold, or why nothing.

The export itself is ``GET /v1/exports`` (``api.routes.exports``); the preview answers its exact query.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from api.auth.deps import Principal, get_db, require_role, route_name
from api.db.queries import q
from api.export.selection import ExportFormat, ExportRequest, consented_patients
from api.form_rules import enforce
from api.routes.exports import parse_pseudonyms
from api.routes.responses import AUTH_ERRORS, errors

router = APIRouter(prefix="/v1/cohort", tags=["cohort"])
researcher_only = require_role("researcher")


class CohortPatient(BaseModel):
    pseudonym: str
    days_with_data: int = Field(description="Local days with any wear")
    days_with_value: int = Field(description="Local days with a daily ln RMSSD")
    first_day: date | None
    last_day: date | None
    journal_text: bool = Field(description="Also consented to exporting journal text")
    consent_updated_at: datetime | None


class ExportPreview(BaseModel):
    """What the export of these parameters would hold; ``message`` explains an empty one."""

    consented: int = Field(description="Patients with research consent (all, or of those named)")
    patients_with_data: int = Field(description="Of them, with beats in the range")
    days_with_data: int = Field(description="Their local days with wear in the range, summed")
    empty: bool
    message: str
    query: dict[str, str] = Field(description="The query string of GET /v1/exports for this export")


@router.get("", response_model=list[CohortPatient], responses=errors(*AUTH_ERRORS))
async def cohort(
    request: Request, principal: Principal = Depends(researcher_only)
) -> list[CohortPatient]:
    """Every patient with research consent, by pseudonym, with their days of data and date range.

    Each listed patient's row is audited as a read by the researcher.
    """
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(q("cohort_list"))
        rows: list[Any] = await cur.fetchall()
        if rows:
            await conn.execute(
                q("patients_audit_reads"),
                {
                    "actor_id": principal.user_id,
                    "actor_role": principal.role,
                    "resource": route_name(request),
                    "client_addr": principal.client_addr,
                    "patient_ids": [r["id"] for r in rows],
                },
            )
    return [
        CohortPatient(
            pseudonym=r["pseudonym"],
            days_with_data=int(r["days_with_data"]),
            days_with_value=int(r["days_with_value"]),
            first_day=r["first_day"],
            last_day=r["last_day"],
            journal_text=bool(r["journal_text_consent"]),
            consent_updated_at=r["consent_updated_at"],
        )
        for r in rows
    ]


def _midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


@router.get("/preview", response_model=ExportPreview, responses=errors(*AUTH_ERRORS))
async def preview(
    request: Request,
    format: str = Query(description="csv | parquet | kubios | fhir | omh"),
    start: str = Query(max_length=10, description="First day, YYYY-MM-DD (UTC)"),
    end: str = Query(max_length=10, description="Last day, YYYY-MM-DD (UTC), included"),
    date_shift: bool = Query(False),
    patients: str | None = Query(
        None,
        max_length=1200,
        pattern=r"^[A-Za-z0-9, -]*$",
        description="Comma-separated pseudonyms",
    ),
    _: Principal = Depends(researcher_only),
) -> ExportPreview:
    """Check an export's parameters with the export form's rules and say what it would contain."""
    enforce("export", {"format": format, "start": start, "end": end, "date_shift": date_shift})
    first, last = date.fromisoformat(start), date.fromisoformat(end)
    export = ExportRequest(
        format=ExportFormat(format),
        start=_midnight_utc(first),
        end=_midnight_utc(last + timedelta(days=1)),
        pseudonyms=parse_pseudonyms(patients),
        date_shift=date_shift,
    )
    async with get_db(request).connection() as conn:
        selected = await consented_patients(conn, export)
        with_data = 0
        days = 0
        for patient in selected:
            cur = await conn.execute(
                q("cohort_patient_in_range"),
                {
                    "patient_id": patient.id,
                    "start": export.start,
                    "end": export.end,
                    "first_day": first,
                    "last_day": last,
                },
            )
            row: Any = await cur.fetchone()
            with_data += bool(row["has_beats"])
            days += int(row["days_with_data"])
        cur = await conn.execute(q("cohort_consented_count"))
        total: Any = await cur.fetchone()
    query = {
        "format": format,
        "start": export.start.isoformat(),
        "end": export.end.isoformat(),
        "date_shift": "true" if date_shift else "false",
    }
    if export.pseudonyms:
        query["patients"] = ",".join(export.pseudonyms)
    message = _message(len(selected), with_data, days, int(total["n"]) if total else 0, export)
    return ExportPreview(
        consented=len(selected),
        patients_with_data=with_data,
        days_with_data=days,
        empty=with_data == 0,
        message=message,
        query=query,
    )


def _message(
    selected: int, with_data: int, days: int, consented: int, export: ExportRequest
) -> str:
    if consented == 0:
        return "No patient has given research consent yet, so an export would hold no data."
    if selected == 0:
        return "None of the chosen pseudonyms belongs to a patient with research consent."
    if with_data == 0:
        return (
            f"The {selected} consented patient{'s have' if selected != 1 else ' has'} no recordings "
            "in these days; choose other days."
        )
    shift = (
        " Dates are shifted by each patient's secret number of weeks." if export.date_shift else ""
    )
    return (
        f"{with_data} of {selected} consented patient{'s' if selected != 1 else ''} "
        f"{'have' if with_data != 1 else 'has'} recordings in these days ({days} days with data).{shift}"
    )

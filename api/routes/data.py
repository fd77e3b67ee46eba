"""Read endpoints of a patient's recorded and computed data: beats, windows, daily values, timeline.

Every route depends on ``patient_reader`` (assigned therapist or the patient; audit-logged). Values
are read from what ingest stored and the worker computed; nothing is computed on request except the
per-session integration comparison, which ``analysis.trends`` derives from the stored daily values.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final, cast

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from psycopg.rows import tuple_row
from pydantic import BaseModel

from api.auth.deps import Principal, get_db, patient_reader
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.routes.fields import QueryTime
from api.routes.responses import PATIENT_ERRORS, errors
from api.worker.daily import integration_changes

router = APIRouter(prefix="/v1/patients", tags=["data"])

#: Rows fetched per round trip from the beats cursor.
BEATS_FETCH_ROWS: Final[int] = 5_000
#: Longest range of one beats or windows request, days.
MAX_FINE_SPAN_DAYS: Final[int] = 92
#: Longest range of one daily or timeline request, days.
MAX_DAILY_SPAN_DAYS: Final[int] = 3 * 366
#: Ranges used when start is omitted, days before end.
DEFAULT_FINE_SPAN_DAYS: Final[int] = 1
DEFAULT_DAILY_SPAN_DAYS: Final[int] = 90

StartQuery = Annotated[
    QueryTime | None,
    Query(
        description="Range start, ISO 8601 (without offset: UTC), years 1970-2100. "
        "Default: a span before end."
    ),
]
EndQuery = Annotated[
    QueryTime | None,
    Query(description="Range end (exclusive), ISO 8601, years 1970-2100. Default: now."),
]


class BeatOut(BaseModel):
    t_ms: int
    rr_ticks: int
    rr_ms: float


class WindowOut(BaseModel):
    """Markers of one clock-aligned window; null where the window is too short or undefined."""

    window_start: datetime
    window_s: int
    n_beats: int
    artifact_share: float | None
    mean_nn_ms: float | None
    mean_hr_bpm: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    ln_rmssd: float | None
    pnn50_pct: float | None
    sd1_ms: float | None
    sd2_ms: float | None
    sd1_sd2: float | None
    lf_ms2: float | None
    hf_ms2: float | None
    lf_hf: float | None
    dfa_alpha1: float | None
    sampen: float | None
    stress_index: float | None
    baevsky_si: float | None
    quality: str
    quality_notes: list[str]


class DailyOut(BaseModel):
    """One local day: its value (and source), 7-day rolling mean, baseline band and CV."""

    day: date
    source: str
    ln_rmssd: float | None
    rmssd_ms: float | None
    resting_hr_bpm: float | None
    stress_index: float | None
    n_windows: int
    wear_hours: float
    artifact_share: float | None
    rolling_mean_7d: float | None
    baseline_mean: float | None
    baseline_sd: float | None
    band_low: float | None
    band_high: float | None
    cv_pct: float | None
    quality: str


class SessionOut(BaseModel):
    id: uuid.UUID
    kind: str
    started_at: datetime
    ended_at: datetime | None
    note: str | None


class JournalOut(BaseModel):
    id: uuid.UUID
    at: datetime
    text: str
    tags: list[str]
    mood: int | None
    body: int | None


class SpanOut(BaseModel):
    start_at: datetime
    end_at: datetime


class WearSegmentOut(SpanOut):
    n_windows: int


class TimelineOut(BaseModel):
    """Everything the dashboard's timeline draws; time between wear segments is a gap, not data."""

    patient_id: uuid.UUID
    start: datetime
    end: datetime
    daily: list[DailyOut]
    sessions: list[SessionOut]
    journal: list[JournalOut]
    wear_segments: list[WearSegmentOut]
    recording_gaps: list[SpanOut]


def resolve_range(
    start: datetime | None, end: datetime | None, default_days: int, max_days: int
) -> tuple[datetime, datetime]:
    """Validated ``[start, end)``: UTC unless an offset is given; start before end; bounded."""
    end_at = _aware(end) if end is not None else datetime.now(UTC)
    start_at = _aware(start) if start is not None else end_at - timedelta(days=default_days)
    if start_at >= end_at:
        raise InvalidInput("start must be before end", start=start_at.isoformat())
    if end_at - start_at > timedelta(days=max_days):
        raise InvalidInput(f"the range may span at most {max_days} days", max_days=max_days)
    return start_at, end_at


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


async def _json_body(request: Request, query: str, params: dict[str, Any]) -> Response:
    """A response whose JSON body PostgreSQL built (one round trip, no Python objects per row)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q(query), params)
        row = await cur.fetchone()
    body = str(row["body"]) if row is not None else "[]"
    return Response(body.encode(), media_type="application/json")


def _range_params(patient_id: uuid.UUID, start: datetime, end: datetime) -> dict[str, Any]:
    return {"patient_id": patient_id, "start": start, "end": end}


@router.get(
    "/{patient_id}/beats",
    response_model=list[BeatOut],
    summary="Stored beats (JSON array, or CSV with Accept: text/csv), streamed",
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **errors(*PATIENT_ERRORS),
    },
)
async def list_beats(
    request: Request,
    patient_id: uuid.UUID,
    start: StartQuery = None,
    end: EndQuery = None,
    accept: Annotated[str | None, Header()] = None,
    _: Principal = Depends(patient_reader),
) -> StreamingResponse:
    """Every stored beat in ``[start, end)`` in time order, read through a server-side cursor."""
    start_at, end_at = resolve_range(start, end, DEFAULT_FINE_SPAN_DAYS, MAX_FINE_SPAN_DAYS)
    csv = accept is not None and "text/csv" in accept and "application/json" not in accept
    db = get_db(request)
    params = _range_params(patient_id, start_at, end_at)

    async def stream() -> AsyncIterator[bytes]:
        async with db.connection() as conn, conn.transaction():
            cursor_name = f"beats_{uuid.uuid4().hex}"
            async with conn.cursor(name=cursor_name, row_factory=tuple_row) as cur:
                await cur.execute(q("beats_stream"), params)
                yield b"t_ms,rr_ticks,rr_ms\n" if csv else b"["
                first = True
                while rows := await cur.fetchmany(BEATS_FETCH_ROWS):
                    if csv:
                        yield "".join([f"{t},{r},{m!r}\n" for t, r, m in rows]).encode()
                    else:
                        text = ",".join(
                            [f'{{"t_ms":{t},"rr_ticks":{r},"rr_ms":{m!r}}}' for t, r, m in rows]
                        )
                        yield (text if first else "," + text).encode()
                        first = False
                if not csv:
                    yield b"]"

    media = "text/csv; charset=utf-8" if csv else "application/json"
    return StreamingResponse(stream(), media_type=media)


@router.get(
    "/{patient_id}/windows",
    response_model=list[WindowOut],
    summary="5-min HRV windows",
    responses=errors(*PATIENT_ERRORS),
)
async def list_windows(
    request: Request,
    patient_id: uuid.UUID,
    start: StartQuery = None,
    end: EndQuery = None,
    _: Principal = Depends(patient_reader),
) -> Response:
    """Markers of the windows starting in ``[start, end)``, as computed by the analysis worker."""
    start_at, end_at = resolve_range(start, end, DEFAULT_FINE_SPAN_DAYS, MAX_FINE_SPAN_DAYS)
    return await _json_body(
        request, "windows_list_json", _range_params(patient_id, start_at, end_at)
    )


@router.get(
    "/{patient_id}/daily",
    response_model=list[DailyOut],
    summary="Daily values with 7-day rolling mean, baseline band and CV",
    responses=errors(*PATIENT_ERRORS),
)
async def list_daily(
    request: Request,
    patient_id: uuid.UUID,
    start: StartQuery = None,
    end: EndQuery = None,
    _: Principal = Depends(patient_reader),
) -> Response:
    """The patient's local days from the day of ``start`` to the day of ``end``."""
    start_at, end_at = resolve_range(start, end, DEFAULT_DAILY_SPAN_DAYS, MAX_DAILY_SPAN_DAYS)
    return await _json_body(request, "daily_list_json", _range_params(patient_id, start_at, end_at))


@router.get(
    "/{patient_id}/timeline",
    response_model=TimelineOut,
    summary="Daily values, sessions, journal entries and wear in one response",
    responses=errors(*PATIENT_ERRORS),
)
async def timeline(
    request: Request,
    patient_id: uuid.UUID,
    start: StartQuery = None,
    end: EndQuery = None,
    _: Principal = Depends(patient_reader),
) -> Response:
    """What the dashboard draws for one patient: one round of queries on one connection."""
    start_at, end_at = resolve_range(start, end, DEFAULT_DAILY_SPAN_DAYS, MAX_DAILY_SPAN_DAYS)
    return await _json_body(request, "timeline_json", _range_params(patient_id, start_at, end_at))


class IntegrationOut(BaseModel):
    """Change of daily ln RMSSD after one medicine session against the pre-session baseline."""

    session_id: uuid.UUID
    kind: str
    started_at: datetime
    status: str
    session_day: date | None = None
    baseline: dict[str, Any] | None = None
    periods: list[dict[str, Any]] = []


@router.get(
    "/{patient_id}/sessions/{session_id}/integration",
    response_model=IntegrationOut,
    summary="Days 1-3 / 4-14 / 15-28 after a medicine session against baseline",
    responses=errors(*PATIENT_ERRORS),
)
async def session_integration(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    _: Principal = Depends(patient_reader),
) -> IntegrationOut:
    """Per period: mean, difference, 95% CI, effect size and band position, or insufficient data.

    Computed from the stored daily values and the current sessions (``analysis.trends``).
    """
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("daily_session"), {"session_id": session_id, "patient_id": patient_id}
        )
        session = await cur.fetchone()
        if session is None:
            raise NotFound("session not found", session_id=str(session_id))
        cur = await conn.execute(q("daily_sessions_all"), {"patient_id": patient_id})
        sessions = await cur.fetchall()
        cur = await conn.execute(q("daily_all"), {"patient_id": patient_id})
        daily_rows = await cur.fetchall()
    base = {
        "session_id": session_id,
        "kind": str(session["kind"]),
        "started_at": session["started_at"],
    }
    if session["kind"] != "medicine":
        return IntegrationOut(**base, status="not_a_medicine_session")
    result = integration_changes(
        daily_rows,
        [cast(datetime, s["started_at"]) for s in sessions if s["kind"] == "medicine"],
        cast(datetime, session["started_at"]),
        str(session["timezone"]),
    )
    status = "ok" if result["baseline"].get("status") == "ok" else "insufficient_data"
    return IntegrationOut(**base, status=status, **result)

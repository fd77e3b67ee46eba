"""Read endpoints of a patient's recorded and computed data: beats, windows, daily values, timeline,
and the verdicts after a medicine session.

Every route depends on ``patient_reader`` (assigned therapist or the patient; audit-logged). Values
are read from what ingest stored and the worker computed; what depends on the patient's today (which
days count, 7-day means, the band, the badge and the session verdicts) is judged on request from the
stored daily values (``api.trend_view``, ``analysis.trends``). Payload models: ``api.routes.trend_models``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Final, cast
from zoneinfo import ZoneInfo

import orjson
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from psycopg.rows import tuple_row
from pydantic import BaseModel

from api.auth.deps import Principal, get_db, patient_reader
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.routes.fields import QueryTime
from api.routes.responses import PATIENT_ERRORS, errors
from api.routes.trend_models import (
    BadgeOut,
    BandOut,
    DailyOut,
    DailyTrendOut,
    IntegrationOut,
)
from api.trend_view import PatientDays, judged_report, judged_trend, load_patient_days

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
    today: date
    source: str | None
    band: BandOut
    badge: BadgeOut
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


async def _patient_days(request: Request, patient_id: uuid.UUID) -> PatientDays:
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("daily_patient_tz"), {"patient_id": patient_id})
        row = await cur.fetchone()
        if row is None:
            raise NotFound("patient not found", patient_id=str(patient_id))
        return await load_patient_days(conn, patient_id, str(row["timezone"]))


def _local_days(days: PatientDays, start: datetime, end: datetime) -> tuple[date, date]:
    """The local dates of ``start`` and ``end`` (both included, as the range's days)."""
    zone = ZoneInfo(days.tz)
    return start.astimezone(zone).date(), end.astimezone(zone).date()


async def _trend_out(days: PatientDays, start: datetime, end: datetime) -> DailyTrendOut:
    trend = await judged_trend(days)
    first, last = _local_days(days, start, end)
    rows = [d for d in DailyOut.rows(trend) if first <= d.day <= last]
    return DailyTrendOut(
        today=days.today,
        source=trend.source,
        band=BandOut.from_analysis(trend.band, source=trend.source),
        badge=BadgeOut.from_trend(trend),
        daily=rows,
    )


@router.get(
    "/{patient_id}/daily",
    response_model=list[DailyOut],
    summary="Daily values with quality, whether each counts, 7-day mean and its band",
    responses=errors(*PATIENT_ERRORS),
)
async def list_daily(
    request: Request,
    patient_id: uuid.UUID,
    start: StartQuery = None,
    end: EndQuery = None,
    _: Principal = Depends(patient_reader),
) -> list[DailyOut]:
    """The patient's local days from the day of ``start`` to the day of ``end``.

    Judged for the patient's today: today and later never count, poor days never count.
    """
    start_at, end_at = resolve_range(start, end, DEFAULT_DAILY_SPAN_DAYS, MAX_DAILY_SPAN_DAYS)
    days = await _patient_days(request, patient_id)
    return (await _trend_out(days, start_at, end_at)).daily


@router.get(
    "/{patient_id}/timeline",
    response_model=TimelineOut,
    summary="Daily values, band, sessions, journal entries and wear in one response",
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
    params = _range_params(patient_id, start_at, end_at)
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("daily_patient_tz"), {"patient_id": patient_id})
        row = await cur.fetchone()
        if row is None:
            raise NotFound("patient not found", patient_id=str(patient_id))
        days = await load_patient_days(conn, patient_id, str(row["timezone"]))
        cur = await conn.execute(q("timeline_json"), params)
        rest = await cur.fetchone()
    body: dict[str, Any] = orjson.loads(str(rest["body"])) if rest is not None else {}
    body.update((await _trend_out(days, start_at, end_at)).model_dump(mode="json"))
    return Response(orjson.dumps(body), media_type="application/json")


@router.get(
    "/{patient_id}/sessions/{session_id}/integration",
    response_model=IntegrationOut,
    summary="Verdicts on days 1-3 / 4-14 / 15-28 after a medicine session against the baseline",
    responses=errors(*PATIENT_ERRORS),
)
async def session_integration(
    request: Request,
    patient_id: uuid.UUID,
    session_id: uuid.UUID,
    _: Principal = Depends(patient_reader),
) -> IntegrationOut:
    """Per period: its state (verdict, under way, not begun, cannot tell yet), and for verdicts the
    change against the baseline level and trend with its Holm-adjusted interval, the minimal
    detectable change and whether it is flagged; with the quality of the days behind it.

    Judged on request from the stored daily values for the patient's today (``analysis.trends``).
    """
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("daily_session"), {"session_id": session_id, "patient_id": patient_id}
        )
        session = await cur.fetchone()
        if session is None:
            raise NotFound("session not found", session_id=str(session_id))
        tz = str(session["timezone"])
        days = await load_patient_days(conn, patient_id, tz)
    kind = str(session["kind"])
    started_at = cast(datetime, session["started_at"])
    if kind != "medicine":
        return IntegrationOut(
            session_id=session_id, kind=kind, started_at=started_at, status="not_a_medicine_session"
        )
    report = await judged_report(days, started_at.astimezone(ZoneInfo(tz)).date())
    return IntegrationOut.from_report(session_id, kind, started_at, report)

"""Questionnaires: ``GET /v1/instruments``; a patient's responses, due list, protocol and symptom
change per medicine session under ``/v1/patients/{patient_id}``.

Scoring, storing (with the safety alert and its queued e-mails, in one transaction) and schedules are
``api.instruments``'s; this router checks who may do what, dates clinic entries and audits.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from fastapi import APIRouter, Depends, Query, Request
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field, StrictInt

from api.audit import record
from api.auth.deps import (
    Principal,
    get_app_settings,
    get_db,
    patient_reader,
    patient_therapist_writer,
    patient_writer,
    require_role,
    route_name,
)
from api.db.queries import q
from api.errors import InvalidInput, NotFound
from api.instruments.change import SessionChange
from api.instruments.definition import ID_PATTERN, Instrument
from api.instruments.loader import Catalog
from api.instruments.protocol import Protocol, protocol_problems
from api.instruments.schedules import ScheduledPoint, due_list
from api.instruments.scoring import score
from api.instruments.store import (
    PatientProtocol,
    effective_protocol,
    load_schedule,
    load_schedules,
    record_response,
)
from api.routes.fields import Time
from api.routes.responses import AUTH_ERRORS, PATIENT_ERRORS, errors
from api.routes.safety import crisis_message, open_alert_counts

router = APIRouter(tags=["questionnaires"])
any_user = require_role("admin", "therapist", "patient", "researcher")

#: How far in the past a therapist may date answers given in clinic.
MAX_BACKDATE = timedelta(days=366)
#: Clock tolerance for answers dated "now" by a client.
FUTURE_TOLERANCE = timedelta(minutes=5)


def get_catalog(request: Request) -> Catalog:
    """The instruments and templates loaded (and validated) at start-up."""
    return cast(Catalog, request.app.state.catalog)


# --- instruments ----------------------------------------------------------------------------------
class OptionOut(BaseModel):
    value: int
    label: str


class ItemOut(BaseModel):
    number: int = Field(description="Item number, counting from 1")
    text: str
    options: list[OptionOut]


class BandOut(BaseModel):
    min: int
    max: int
    label: str


class CutoffOut(BaseModel):
    total: int
    label: str


class RiskRuleOut(BaseModel):
    id: str
    label: str


class ChangeRulesOut(BaseModel):
    response_drop_pct: float = Field(
        description="A drop of at least this % from baseline is a response"
    )
    remission_below: int | None = Field(
        description="A total below this is remission (null: not defined)"
    )
    meaningful_change: int | None


class InstrumentOut(BaseModel):
    id: str
    version: str
    title: str
    short_title: str
    measures: str
    recall: str
    instructions: str
    stem: str | None
    items: list[ItemOut]
    min_total: int
    max_total: int
    bands: list[BandOut]
    cutoffs: list[CutoffOut]
    change: ChangeRulesOut
    risk_rules: list[RiskRuleOut]
    licence: str = Field(description="Licence name and terms")
    licence_url: str | None
    source: str = Field(description="Citation of the published instrument")
    source_doi: str | None


def instrument_out(inst: Instrument) -> InstrumentOut:
    return InstrumentOut(
        id=inst.id,
        version=inst.version,
        title=inst.title,
        short_title=inst.short_title,
        measures=inst.measures,
        recall=inst.recall,
        instructions=inst.instructions,
        stem=inst.stem,
        items=[
            ItemOut(
                number=i + 1,
                text=item.text,
                options=[OptionOut(value=o.value, label=o.label) for o in inst.item_options(i)],
            )
            for i, item in enumerate(inst.items)
        ],
        min_total=inst.min_total,
        max_total=inst.scoring.max_total,
        bands=[BandOut(min=b.min, max=b.max, label=b.label) for b in inst.bands],
        cutoffs=[CutoffOut(total=c.total, label=c.label) for c in inst.cutoffs],
        change=ChangeRulesOut(
            response_drop_pct=inst.change.response_drop_pct,
            remission_below=inst.change.remission_below,
            meaningful_change=inst.change.meaningful_change,
        ),
        risk_rules=[RiskRuleOut(id=r.id, label=r.label) for r in inst.risk_rules],
        licence=f"{inst.licence.name}: {inst.licence.text}",
        licence_url=inst.licence.url,
        source=inst.source.citation,
        source_doi=inst.source.doi,
    )


@router.get("/v1/instruments", response_model=list[InstrumentOut], responses=errors(*AUTH_ERRORS))
async def list_instruments(
    catalog: Catalog = Depends(get_catalog), _: Principal = Depends(any_user)
) -> list[InstrumentOut]:
    """Every instrument this clinic uses, with items, options, scoring bands, licence and source."""
    return [instrument_out(i) for i in catalog.instruments.values()]


@router.get(
    "/v1/instruments/{instrument_id}",
    response_model=InstrumentOut,
    responses=errors(*AUTH_ERRORS, 404),
)
async def get_instrument(
    instrument_id: str, catalog: Catalog = Depends(get_catalog), _: Principal = Depends(any_user)
) -> InstrumentOut:
    """One instrument."""
    inst = catalog.instrument(instrument_id)
    if inst is None:
        raise NotFound("no such instrument", instrument=instrument_id[:64])
    return instrument_out(inst)


# --- responses ------------------------------------------------------------------------------------


class ResponseCreate(BaseModel):
    instrument: str = Field(pattern=ID_PATTERN, description="Instrument id, e.g. phq9")
    answers: list[StrictInt] = Field(
        max_length=200, description="One value per item, in item order"
    )
    at: Time | None = Field(
        default=None,
        description="When the answers were given (therapists entering a form from clinic); default now",
    )


class ResponseCreated(BaseModel):
    id: uuid.UUID
    instrument: str
    instrument_version: str
    at: datetime
    total: int
    severity: str
    subscales: dict[str, int]
    source: Literal["patient", "clinic"]
    safety_alert: bool
    safety_alert_id: uuid.UUID | None
    crisis_message: str | None = Field(description="Shown to the patient at once when safety_alert")


class ResponseOut(BaseModel):
    id: uuid.UUID
    patient_id: uuid.UUID
    instrument: str
    instrument_version: str
    at: datetime
    answers: list[int]
    total: int
    severity: str
    subscales: dict[str, int]
    source: Literal["patient", "clinic"] = Field(
        description="patient: answered by the patient; clinic: entered by a therapist"
    )
    safety_alert: bool
    created_at: datetime


@router.post(
    "/v1/patients/{patient_id}/responses",
    status_code=201,
    response_model=ResponseCreated,
    responses=errors(*PATIENT_ERRORS),
)
async def create_response(
    request: Request,
    patient_id: uuid.UUID,
    body: ResponseCreate,
    catalog: Catalog = Depends(get_catalog),
    principal: Principal = Depends(patient_writer),
) -> ResponseCreated:
    """Answer a questionnaire (the patient), or enter answers given in clinic (their therapist).

    Wrong count, out-of-range or non-integer answers are a 422 naming each bad item; nothing is
    stored. An answer that meets a risk rule (PHQ-9 item 9 above 0, or a clinic rule) raises a safety
    alert, e-mails the assigned therapists (queued, never blocking this answer) and returns the
    clinic's crisis message.
    """
    inst = catalog.instrument(body.instrument)
    if inst is None:
        raise InvalidInput(
            "unknown instrument",
            errors=[
                {
                    "loc": ["body", "instrument"],
                    "msg": f"no instrument {body.instrument!r}; known: {list(catalog.instruments)}",
                }
            ],
        )
    # refuse bad answers before the clock or the database is looked at
    score(inst, body.answers)
    now = datetime.now(UTC)
    source: Literal["patient", "clinic"] = "clinic" if principal.role == "therapist" else "patient"
    at = now
    if body.at is not None:
        if source == "patient":
            raise InvalidInput(
                "only a therapist entering answers from clinic may date them",
                errors=[{"loc": ["body", "at"], "msg": "leave out: your answers are dated now"}],
            )
        if body.at > now + FUTURE_TOLERANCE or body.at < now - MAX_BACKDATE:
            raise InvalidInput(
                "at must lie within the last year and not in the future",
                errors=[{"loc": ["body", "at"], "msg": "out of range"}],
            )
        at = body.at
    settings = get_app_settings(request)
    async with get_db(request).connection() as conn, conn.transaction():
        recorded = await record_response(
            conn,
            inst,
            list(body.answers),
            patient_id=patient_id,
            at=at,
            source=source,
            entered_by=principal.user_id,
            public_url=settings.public_url,
        )
        detail: dict[str, Any] = {
            "response_id": str(recorded.id),
            "instrument": inst.id,
            "source": source,
        }
        await record(conn, principal, "create", route_name(request), patient_id, detail)
        if recorded.alert_id is not None:
            await record(
                conn,
                principal,
                "safety_alert",
                route_name(request),
                patient_id,
                {
                    **detail,
                    "alert_id": str(recorded.alert_id),
                    "rules": [r.id for r in recorded.score.risk_rules],
                    "notices_queued": recorded.notices_queued,
                },
            )
    result = recorded.score
    row = recorded.row
    response_id = recorded.id
    alert_id = recorded.alert_id
    return ResponseCreated(
        id=response_id,
        instrument=inst.id,
        instrument_version=inst.version,
        at=row["at"],
        total=result.total,
        severity=result.severity,
        subscales=result.subscales,
        source=source,
        safety_alert=result.safety_alert,
        safety_alert_id=alert_id,
        crisis_message=crisis_message(settings) if result.safety_alert else None,
    )


@router.get(
    "/v1/patients/{patient_id}/responses",
    response_model=list[ResponseOut],
    responses=errors(*PATIENT_ERRORS),
)
async def list_responses(
    request: Request,
    patient_id: uuid.UUID,
    instrument: str | None = Query(default=None, pattern=ID_PATTERN),
    start: Time | None = Query(default=None, description="Answered at or after"),
    end: Time | None = Query(default=None, description="Answered before"),
    _: Principal = Depends(patient_reader),
) -> list[ResponseOut]:
    """The patient's responses in time order (audited as a read)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(
            q("q_responses_list"),
            {"patient_id": patient_id, "instrument": instrument, "start": start, "end": end},
        )
        rows = await cur.fetchall()
    return [ResponseOut.model_validate(r) for r in rows]


@router.get(
    "/v1/patients/{patient_id}/responses/{response_id}",
    response_model=ResponseOut,
    responses=errors(*PATIENT_ERRORS),
)
async def get_response(
    request: Request,
    patient_id: uuid.UUID,
    response_id: uuid.UUID,
    _: Principal = Depends(patient_reader),
) -> ResponseOut:
    """One response."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("q_response_get"), {"id": response_id, "patient_id": patient_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("response not found", response_id=str(response_id))
    return ResponseOut.model_validate(row)


# --- due list -------------------------------------------------------------------------------------
class DueItem(BaseModel):
    instrument: str
    due_at: datetime = Field(description="When the point opened")
    state: Literal["due", "overdue", "done"]
    reason: str = Field(description="Why it is due, in plain words")
    label: str = Field(description="baseline, day 1, day 2–3, …, month N")
    kind: Literal["baseline", "after_session", "monthly"]
    due_by: datetime | None = Field(description="Overdue after this")
    closes_at: datetime | None = Field(description="Counts as missed if unanswered by then")
    session_id: uuid.UUID | None = Field(
        description="The medicine session it follows (or precedes)"
    )
    response_id: uuid.UUID | None = Field(description="The response that answered it (done)")


def _due_item(p: ScheduledPoint) -> DueItem:
    return DueItem(
        instrument=p.instrument,
        due_at=p.due_at,
        state=cast(Literal["due", "overdue", "done"], p.state),
        reason=p.reason,
        label=p.label,
        kind=p.kind,
        due_by=p.due_by,
        closes_at=p.closes_at,
        session_id=uuid.UUID(str(p.session_id)) if p.session_id is not None else None,
        response_id=uuid.UUID(str(p.response.id)) if p.response is not None else None,
    )


@router.get(
    "/v1/patients/{patient_id}/questionnaires/due",
    response_model=list[DueItem],
    responses=errors(*PATIENT_ERRORS),
)
async def list_due(
    request: Request,
    patient_id: uuid.UUID,
    catalog: Catalog = Depends(get_catalog),
    _: Principal = Depends(patient_reader),
) -> list[DueItem]:
    """Questionnaires due, overdue, and done under the patient's protocol, by due date."""
    async with get_db(request).connection() as conn:
        sched = await load_schedule(conn, catalog, patient_id, datetime.now(UTC))
    return [_due_item(p) for p in due_list(sched.points)]


# --- protocol -------------------------------------------------------------------------------------
class TemplateOut(BaseModel):
    id: str
    title: str


class ProtocolOut(BaseModel):
    template: str = Field(description="The clinic template it comes from")
    customized: bool = Field(description="True when the therapist changed it from the template")
    protocol: Protocol
    updated_at: datetime | None
    templates: list[TemplateOut] = Field(description="The clinic's templates to choose from")


class ProtocolUpdate(BaseModel):
    template: str = Field(pattern=ID_PATTERN, description="Template id (see templates)")
    protocol: Protocol | None = Field(
        default=None, description="This patient's changed protocol; null: follow the template"
    )


def _protocol_out(catalog: Catalog, chosen: PatientProtocol) -> ProtocolOut:
    return ProtocolOut(
        template=chosen.template,
        customized=chosen.customized,
        protocol=chosen.protocol,
        updated_at=chosen.updated_at,
        templates=[TemplateOut(id=t.id, title=t.title) for t in catalog.templates.values()],
    )


@router.get(
    "/v1/patients/{patient_id}/questionnaires/protocol",
    response_model=ProtocolOut,
    responses=errors(*PATIENT_ERRORS),
)
async def get_protocol(
    request: Request,
    patient_id: uuid.UUID,
    catalog: Catalog = Depends(get_catalog),
    _: Principal = Depends(patient_reader),
) -> ProtocolOut:
    """The patient's questionnaire protocol (the clinic template unless their therapist changed it)."""
    async with get_db(request).connection() as conn:
        cur = await conn.execute(q("q_schedule_patient"), {"patient_id": patient_id})
        row = await cur.fetchone()
    if row is None:
        raise NotFound("patient not found", patient_id=str(patient_id))
    return _protocol_out(catalog, effective_protocol(catalog, row if row["template"] else None))


@router.put(
    "/v1/patients/{patient_id}/questionnaires/protocol",
    response_model=ProtocolOut,
    responses=errors(*PATIENT_ERRORS),
)
async def set_protocol(
    request: Request,
    patient_id: uuid.UUID,
    body: ProtocolUpdate,
    catalog: Catalog = Depends(get_catalog),
    principal: Principal = Depends(patient_therapist_writer),
) -> ProtocolOut:
    """Choose the patient's template, or change their protocol (their therapist only)."""
    if body.template not in catalog.templates:
        raise InvalidInput(
            "unknown template",
            errors=[{"loc": ["body", "template"], "msg": f"known: {list(catalog.templates)}"}],
        )
    if body.protocol is not None:
        problems = protocol_problems(body.protocol, catalog.instruments)
        if problems:
            raise InvalidInput(
                "the protocol does not fit this clinic's instruments",
                errors=[
                    {"loc": ["body", "protocol", *field.split(".")], "msg": msg}
                    for field, msg in problems
                ],
            )
    async with get_db(request).connection() as conn, conn.transaction():
        cur = await conn.execute(
            q("q_protocol_upsert"),
            {
                "patient_id": patient_id,
                "template": body.template,
                "protocol": Jsonb(body.protocol.model_dump(mode="json")) if body.protocol else None,
                "updated_by": principal.user_id,
            },
        )
        stamp = await cur.fetchone()
        assert stamp is not None
        await record(
            conn,
            principal,
            "write",
            route_name(request),
            patient_id,
            {"template": body.template, "customized": body.protocol is not None},
        )
    row = {
        "template": body.template,
        "protocol": body.protocol.model_dump(mode="json") if body.protocol else None,
        "updated_at": stamp["updated_at"],
    }
    return _protocol_out(catalog, effective_protocol(catalog, row))


# --- change per medicine session -------------------------------------------------------------------
class ScoreRef(BaseModel):
    response_id: uuid.UUID
    at: datetime
    total: int
    severity: str


class BaselineOut(ScoreRef):
    source: Literal["treatment_baseline", "pre_session"] = Field(
        description="treatment_baseline: the latest answer before the first medicine session; "
        "pre_session: none exists, so the latest before this session stands in"
    )


class PointChangeOut(BaseModel):
    label: str
    kind: str
    due_at: datetime
    state: Literal["done", "due", "overdue", "missed", "upcoming"]
    score: ScoreRef | None
    change: int | None = Field(description="Total minus baseline total (points)")
    change_pct: float | None = Field(description="Change in % of the baseline total")
    response: bool | None = Field(
        description="Drop ≥ the instrument's response % (null: no baseline or 0)"
    )
    remission: bool | None = Field(
        description="Total below the remission cut-off (null: not defined)"
    )
    meaningful: bool | None = Field(description="Change ≥ the instrument's meaningful change")
    since_session: int | None = Field(description="Points since the session's pre-session score")


class InstrumentChangeOut(BaseModel):
    instrument: str
    baseline: BaselineOut | None = Field(
        description="What change, response and remission are judged against"
    )
    pre_session: ScoreRef | None = Field(description="The latest answer before this session")
    points: list[PointChangeOut]
    latest: PointChangeOut | None = Field(description="The most recent answered point")


class SessionChangeOut(BaseModel):
    session_id: uuid.UUID
    started_at: datetime
    instruments: list[InstrumentChangeOut]


def _score_ref(r: Any) -> ScoreRef:
    return ScoreRef(response_id=uuid.UUID(str(r.id)), at=r.at, total=r.total, severity=r.severity)


def session_change_out(item: SessionChange) -> SessionChangeOut:
    out = []
    for ic in item.instruments:
        points = [
            PointChangeOut(
                label=p.label,
                kind=p.kind,
                due_at=p.opens_at,
                state=p.state,
                score=_score_ref(p.response) if p.response is not None else None,
                change=p.change.change if p.change else None,
                change_pct=p.change.change_pct if p.change else None,
                response=p.change.response if p.change else None,
                remission=p.change.remission if p.change else None,
                meaningful=p.change.meaningful if p.change else None,
                since_session=p.since_session,
            )
            for p in ic.points
        ]
        latest = next((pt for pt in reversed(points) if pt.score is not None), None)
        baseline = (
            BaselineOut(**_score_ref(ic.baseline.response).model_dump(), source=ic.baseline.source)
            if ic.baseline is not None
            else None
        )
        out.append(
            InstrumentChangeOut(
                instrument=ic.instrument,
                baseline=baseline,
                pre_session=_score_ref(ic.pre_session) if ic.pre_session is not None else None,
                points=points,
                latest=latest,
            )
        )
    return SessionChangeOut(
        session_id=uuid.UUID(str(item.session_id)), started_at=item.started_at, instruments=out
    )


@router.get(
    "/v1/patients/{patient_id}/questionnaires/change",
    response_model=list[SessionChangeOut],
    responses=errors(*PATIENT_ERRORS),
)
async def list_change(
    request: Request,
    patient_id: uuid.UUID,
    catalog: Catalog = Depends(get_catalog),
    _: Principal = Depends(patient_reader),
) -> list[SessionChangeOut]:
    """Per medicine session: each instrument's baseline (before the first medicine session), the
    score before this session, and every scheduled point's score, change, response (≥ 50 % drop from
    baseline) and remission (PHQ-9, GAD-7 below 5)."""
    async with get_db(request).connection() as conn:
        sched = await load_schedule(conn, catalog, patient_id, datetime.now(UTC))
    return [session_change_out(s) for s in sched.changes(catalog)]


# --- flags on the patient list -----------------------------------------------------------------------
async def patient_flags(
    conn: Any, catalog: Catalog, patient_ids: list[uuid.UUID]
) -> dict[uuid.UUID, dict[str, int]]:
    """Per patient: open safety alerts and questionnaires due and overdue now (for ``GET /v1/patients``)."""
    alerts = await open_alert_counts(conn, patient_ids)
    schedules = await load_schedules(conn, catalog, patient_ids, datetime.now(UTC))
    flags: dict[uuid.UUID, dict[str, int]] = {}
    for pid, sched in schedules.items():
        states = [p.state for p in sched.points]
        flags[pid] = {
            "open_safety_alerts": alerts.get(pid, 0),
            "questionnaires_due": states.count("due"),
            "questionnaires_overdue": states.count("overdue"),
        }
    return flags

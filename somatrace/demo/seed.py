"""Seeds the demo: accounts, patients, sessions and journal through the HTTP API; six weeks of
simulated beats per patient through ``api.ingest.store_batch`` (the ingest path: COPY + one
set-based insert); then the real analysis worker until no job is left. Server and database: the
caller's job.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import uuid
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
from psycopg.rows import dict_row

from api.auth.passwords import hash_password
from api.db.queries import q
from api.ingest.storage import DeviceRef, store_batch
from api.ingest.validation import BeatBatch
from api.worker.runner import JobStatus, job_status, run_until_idle, run_until_idle_async
from somatrace.demo.accounts import (
    ADMIN,
    DEMO_DAYS,
    MIN_DEMO_DAYS,
    PATIENTS,
    RESEARCHER,
    THERAPIST,
    DemoLogin,
    DemoPatient,
    medicine_days,
)
from somatrace.demo.errors import DemoError
from somatrace.demo.questionnaires import answer_questionnaires
from somatrace.demo.story import SimulatedPatient, simulate_patient
from wire import MAX_BEATS_PER_BATCH, StrapInfo

logger = logging.getLogger(__name__)

#: Beats per stored batch (the ingest limit: one COPY and one insert each).
SEED_BATCH_BEATS: Final[int] = MAX_BEATS_PER_BATCH
#: Beats newer than this before "now" are left out (ingest refuses beats from the future).
SEED_NOW_MARGIN_MS: Final[int] = 60_000
#: The strap every simulated history claims to come from.
SEED_STRAP: Final = StrapInfo(
    address="C7:3A:1F:2B:00:10",
    name="Polar H10 DEMO",
    model="H10",
    firmware="3.1.1",
    battery_pct=80,
)

#: Worker processes analysing patients while the next one's beats are stored (2 cores assumed).
ANALYSIS_PROCESSES: Final[int] = 2
#: How often the analysis progress is polled while the worker runs, in seconds.
ANALYSIS_POLL_S: Final[float] = 1.0

#: Progress callback: (stage, done, total); total 0 means "unknown".
ProgressFn = Callable[[str, int, int], None]


@dataclass
class SeededPatient:
    """A patient the demo created, with the device token its beats (and live beats) use."""

    spec: DemoPatient
    patient_id: uuid.UUID
    device_id: uuid.UUID
    device_token: str
    beats_stored: int = 0
    sessions: int = 0
    journal_entries: int = 0
    questionnaires: int = 0
    safety_alerts: int = 0
    #: A second device for the live strap (only for the patient with ``spec.live``).
    live_device_id: uuid.UUID | None = None
    live_device_token: str | None = None


@dataclass
class SeedResult:
    patients: list[SeededPatient] = field(default_factory=list)
    beats_stored: int = 0
    batches: int = 0


class ApiCaller:
    """Thin JSON client for the demo's own server; any non-2xx becomes a ``DemoError``."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def login(self, who: DemoLogin) -> str:
        response = await self.client.post(
            "/v1/auth/token", data={"username": who.email, "password": who.password}
        )
        body = self._check(response, f"log in as {who.email}")
        return str(body["access_token"])

    async def call(self, method: str, path: str, token: str, json: object | None = None) -> Any:
        response = await self.client.request(
            method, path, json=json, headers={"Authorization": f"Bearer {token}"}
        )
        return self._check(response, f"{method} {path}")

    @staticmethod
    def _check(response: httpx.Response, what: str) -> Any:
        if response.is_success:
            return response.json() if response.content else None
        try:
            error = response.json().get("error", {})
            message = f"{error.get('message', '')} {error.get('fields') or ''}".strip()
        except ValueError:
            message = response.text[:300]
        raise DemoError(f"demo seeding: {what} answered {response.status_code}: {message}")


def create_admin(conninfo: str, admin: DemoLogin = ADMIN) -> uuid.UUID:
    """The first admin, inserted directly as ``somatrace user create`` does."""
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(
            q("users_insert"),
            {
                "email": admin.email,
                "password_hash": hash_password(admin.password),
                "role": admin.role,
                "display_name": admin.display_name,
                "patient_id": None,
            },
        ).fetchone()
    assert row is not None
    return uuid.UUID(str(row["id"]))


def demo_start(spec: DemoPatient, now: datetime, days: int = DEMO_DAYS) -> datetime:
    """Local midnight ``days`` days before today in the patient's zone, as a UTC instant."""
    tz = ZoneInfo(spec.timezone)
    today = now.astimezone(tz).date()
    first = today - timedelta(days=days)
    return datetime(first.year, first.month, first.day, tzinfo=tz).astimezone(UTC)


def simulate(spec: DemoPatient, now: datetime, days: int = DEMO_DAYS) -> SimulatedPatient:
    """``days`` (six weeks by default) of this patient's wear, sessions and journal."""
    if days < MIN_DEMO_DAYS:
        raise DemoError(f"the demo needs at least {MIN_DEMO_DAYS} days, got {days}", days=days)
    return simulate_patient(
        seed=spec.seed,
        days=days,
        start=demo_start(spec, now, days),
        tz=spec.timezone,
        medicine_days=medicine_days(days),
        ln_rmssd_shift_after=spec.ln_rmssd_shift_after,
        poor_quality=spec.poor_quality,
        missing_day_rate=spec.missing_day_rate,
    )


def beat_batches(
    sim: SimulatedPatient, now_ms: int, size: int = SEED_BATCH_BEATS
) -> list[BeatBatch]:
    """The simulated beats up to now, cut into ingest-sized batches with fresh batch ids."""
    keep = sim.beats_t_ms <= now_ms - SEED_NOW_MARGIN_MS
    t_ms = sim.beats_t_ms[keep].astype(np.int64)
    rr = sim.rr_ticks[keep].astype(np.int64)
    return [
        BeatBatch(
            batch_id=uuid.uuid4(),
            t_ms=t_ms[i : i + size],
            rr_ticks=rr[i : i + size],
            strap=SEED_STRAP if i == 0 else None,
        )
        for i in range(0, t_ms.size, size)
    ]


async def create_people(
    api: ApiCaller, conninfo: str, sims: list[SimulatedPatient], now: datetime
) -> list[SeededPatient]:
    """Admin, therapist, researcher; patients with logins, sessions, journal, research consent (those
    whose spec says so), questionnaire answers and one device each."""
    await asyncio.to_thread(create_admin, conninfo)
    admin_token = await api.login(ADMIN)
    for staff in (THERAPIST, RESEARCHER):
        await api.call(
            "POST",
            "/v1/users",
            admin_token,
            {
                "email": staff.email,
                "password": staff.password,
                "role": staff.role,
                "display_name": staff.display_name,
            },
        )
    therapist_token = await api.login(THERAPIST)
    seeded: list[SeededPatient] = []
    for spec, sim in zip(PATIENTS, sims, strict=True):
        patient = await api.call(
            "POST",
            "/v1/patients",
            therapist_token,
            {"display_name": spec.display_name, "timezone": spec.timezone},
        )
        pid = str(patient["id"])
        await api.call(
            "POST",
            f"/v1/patients/{pid}/account",
            therapist_token,
            {"email": spec.login.email, "password": spec.login.password},
        )
        n_sessions = 0
        for s in sim.sessions:
            await api.call(
                "POST",
                f"/v1/patients/{pid}/sessions",
                therapist_token,
                s.to_dict(),
            )
            n_sessions += 1
        patient_token = await api.login(spec.login)
        n_journal = 0
        for j in sim.journal:
            if j.at > now:
                continue
            await api.call(
                "POST",
                f"/v1/patients/{pid}/journal",
                patient_token,
                {
                    "at": j.at.isoformat(),
                    "text": j.text,
                    "tags": list(j.tags),
                    "mood": j.mood,
                    "body": j.body,
                },
            )
            n_journal += 1
        if spec.research_consent:
            consent = {"research": True, "journal_text": spec.journal_consent}
            await api.call("PUT", f"/v1/patients/{pid}/consent", patient_token, consent)
        answered = await answer_questionnaires(
            api,
            conninfo,
            patient_id=uuid.UUID(pid),
            spec=spec,
            sim=sim,
            therapist_token=therapist_token,
            now=now,
        )
        device = await api.call(
            "POST", f"/v1/patients/{pid}/devices", patient_token, {"label": "Polar H10 (demo)"}
        )
        entry = SeededPatient(
            spec=spec,
            patient_id=uuid.UUID(pid),
            device_id=uuid.UUID(str(device["device_id"])),
            device_token=str(device["token"]),
            sessions=n_sessions,
            journal_entries=n_journal,
            questionnaires=answered.responses,
            safety_alerts=len(answered.alerts),
        )
        if spec.live:
            live = await api.call(
                "POST", f"/v1/patients/{pid}/devices", patient_token, {"label": "Live strap (demo)"}
            )
            entry.live_device_id = uuid.UUID(str(live["device_id"]))
            entry.live_device_token = str(live["token"])
        seeded.append(entry)
    return seeded


async def store_beats(
    conninfo: str,
    patients: list[SeededPatient],
    sims: list[SimulatedPatient],
    now_ms: int,
    progress: ProgressFn,
    on_patient_stored: Callable[[SeededPatient], None] | None = None,
) -> tuple[int, int]:
    """Every simulated beat through ``store_batch``; returns (beats stored, batches)."""
    plans = [beat_batches(sim, now_ms) for sim in sims]
    total = sum(b.n_beats for batches in plans for b in batches)
    done = 0
    n_batches = 0
    progress("beats", 0, total)
    conn = await psycopg.AsyncConnection.connect(conninfo, autocommit=True, row_factory=dict_row)
    try:
        for patient, batches in zip(patients, plans, strict=True):
            ref = DeviceRef(device_id=patient.device_id, patient_id=patient.patient_id)
            for batch in batches:
                result = await store_batch(conn, ref, batch)
                patient.beats_stored += result.accepted
                done += batch.n_beats
                n_batches += 1
                progress("beats", done, total)
            if on_patient_stored is not None:
                on_patient_stored(patient)
    finally:
        await conn.close()
    return sum(p.beats_stored for p in patients), n_batches


async def run_worker_until_idle(conninfo: str) -> None:
    """Process every pending analysis job with the real worker; failed jobs are a ``DemoError``."""
    status = await run_until_idle_async(conninfo)
    if status.problems:
        raise DemoError(f"analysis jobs failed: {status.problems[:3]}")


async def wait_for_analysis(
    conninfo: str,
    n_patients: int,
    passes: list[asyncio.Future[JobStatus]],
    progress: ProgressFn,
) -> None:
    """Wait for the worker passes started while beats were stored, showing patients done."""
    while True:
        status = await asyncio.to_thread(job_status, conninfo)
        progress("analysis", max(0, n_patients - status.dirty_patients), n_patients)
        if all(task.done() for task in passes):
            break
        await asyncio.sleep(ANALYSIS_POLL_S)
    for task in passes:
        if task.result().problems:
            raise DemoError(f"analysis jobs failed: {task.result().problems[:3]}")
    await run_worker_until_idle(conninfo)
    progress("analysis", n_patients, n_patients)


async def seed(
    base_url: str,
    conninfo: str,
    progress: ProgressFn,
    *,
    now: datetime | None = None,
    days: int = DEMO_DAYS,
) -> SeedResult:
    """Seed the demo into the empty, migrated database behind the server at ``base_url``.

    As soon as a patient's beats are stored, a worker pass (``api.worker.runner.run_until_idle``)
    starts in a separate process, so the analysis overlaps with storing the next patient and uses
    more than one core.
    """
    now = now or datetime.now(UTC)
    now_ms = int(now.timestamp() * 1000)
    progress("simulate", 0, len(PATIENTS))
    sims: list[SimulatedPatient] = []
    for i, spec in enumerate(PATIENTS):
        sims.append(await asyncio.to_thread(simulate, spec, now, days))
        progress("simulate", i + 1, len(PATIENTS))
    progress("accounts", 0, 1)
    async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
        patients = await create_people(ApiCaller(client), conninfo, sims, now)
    progress("accounts", 1, 1)
    loop = asyncio.get_running_loop()
    passes: list[asyncio.Future[JobStatus]] = []
    pool = ProcessPoolExecutor(
        max_workers=ANALYSIS_PROCESSES, mp_context=multiprocessing.get_context("spawn")
    )

    def start_pass(_: SeededPatient) -> None:
        passes.append(loop.run_in_executor(pool, run_until_idle, conninfo))

    try:
        beats, batches = await store_beats(conninfo, patients, sims, now_ms, progress, start_pass)
        await wait_for_analysis(conninfo, len(patients), passes, progress)
    finally:
        # On Ctrl-C the worker processes (same process group) stop with us; nothing waits for them.
        pool.shutdown(wait=False, cancel_futures=True)
    return SeedResult(patients=patients, beats_stored=beats, batches=batches)


def counts(conninfo: str) -> dict[str, int]:
    """Patients, beats, windows and daily values now in the database."""
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(q("demo_counts")).fetchone()
    assert row is not None
    return {key: int(value) for key, value in row.items()}


def device_beats(conninfo: str, device_id: uuid.UUID) -> int:
    """Beats stored from one device (the live strap's)."""
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        row = conn.execute(q("demo_device_beats"), {"device_id": device_id}).fetchone()
    return int(row["n"]) if row is not None else 0

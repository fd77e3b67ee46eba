"""Seeds the demo, first patient first: staff in the database, patients, sessions and journal through
the HTTP API; six weeks of simulated beats per patient through ``api.ingest.store_batch`` (the ingest
path: COPY + one set-based insert); the real analysis worker in pool processes. Server and database:
the caller's job.
"""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Awaitable, Callable
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
from api.worker.runner import run_recompute, run_until_idle_async
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
from somatrace.demo.progress import SeedProgress
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

#: Recompute rounds of one patient before the demo gives up (one is enough: no beats arrive meanwhile).
MAX_RECOMPUTE_ROUNDS: Final[int] = 3

#: Requests of ``create_patient`` counted in the progress (patient, login, device(s)).
PEOPLE_STEPS: Final[int] = 4
#: Connections storing one patient's beats at once (PostgreSQL works on both cores).
STORE_CONNECTIONS: Final[int] = 2
#: Everyone the demo inserts directly (as ``somatrace user create`` does) rather than through the API.
STAFF: Final[tuple[DemoLogin, ...]] = (ADMIN, THERAPIST, RESEARCHER)


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


def hash_staff_passwords() -> dict[str, str]:
    """argon2 hashes of the staff logins' passwords, by e-mail (computed while the database starts)."""
    return {who.email: hash_password(who.password) for who in STAFF}


def create_staff(conninfo: str, hashes: dict[str, str] | None = None) -> dict[str, uuid.UUID]:
    """Admin, therapist and researcher inserted directly, as ``somatrace user create`` does."""
    hashes = hashes or {}
    ids: dict[str, uuid.UUID] = {}
    with psycopg.connect(conninfo, autocommit=True, row_factory=dict_row) as conn:
        for who in STAFF:
            row = conn.execute(
                q("users_insert"),
                {
                    "email": who.email,
                    "password_hash": hashes.get(who.email) or hash_password(who.password),
                    "role": who.role,
                    "display_name": who.display_name,
                    "patient_id": None,
                },
            ).fetchone()
            assert row is not None
            ids[who.role] = uuid.UUID(str(row["id"]))
    return ids


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


def _advance(progress: SeedProgress | None, key: str, done: int) -> None:
    if progress is not None:
        progress.advance(key, done)


async def create_patient(
    api: ApiCaller,
    therapist_token: str,
    spec: DemoPatient,
    progress: SeedProgress | None = None,
    key: str = "",
) -> tuple[SeededPatient, str]:
    """The patient, their login and device(s) through the HTTP API; returns it and the patient's
    token (sessions and journal follow in ``write_story``)."""
    patient = await api.call(
        "POST",
        "/v1/patients",
        therapist_token,
        {"display_name": spec.display_name, "timezone": spec.timezone},
    )
    pid = str(patient["id"])
    _advance(progress, key, 1)
    await api.call(
        "POST",
        f"/v1/patients/{pid}/account",
        therapist_token,
        {"email": spec.login.email, "password": spec.login.password},
    )
    _advance(progress, key, 2)
    patient_token = await api.login(spec.login)
    device = await api.call(
        "POST", f"/v1/patients/{pid}/devices", patient_token, {"label": "Polar H10 (demo)"}
    )
    _advance(progress, key, 3)
    entry = SeededPatient(
        spec=spec,
        patient_id=uuid.UUID(pid),
        device_id=uuid.UUID(str(device["device_id"])),
        device_token=str(device["token"]),
    )
    if spec.live:
        live = await api.call(
            "POST", f"/v1/patients/{pid}/devices", patient_token, {"label": "Live strap (demo)"}
        )
        entry.live_device_id = uuid.UUID(str(live["device_id"]))
        entry.live_device_token = str(live["token"])
    _advance(progress, key, PEOPLE_STEPS)
    return entry, patient_token


def story_requests(sim: SimulatedPatient, now: datetime) -> int:
    """The steps ``write_story`` counts: sessions and journal entries until now."""
    return len(sim.sessions) + sum(1 for j in sim.journal if j.at <= now)


async def write_story(
    api: ApiCaller,
    therapist_token: str,
    patient_token: str,
    patient: SeededPatient,
    sim: SimulatedPatient,
    now: datetime,
    progress: SeedProgress | None = None,
    key: str = "",
) -> None:
    """The patient's sessions (by the therapist) and journal entries until now (by the patient)."""
    pid = patient.patient_id
    done = PEOPLE_STEPS
    for s in sim.sessions:
        await api.call("POST", f"/v1/patients/{pid}/sessions", therapist_token, s.to_dict())
        patient.sessions += 1
        done += 1
        _advance(progress, key, done)
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
        patient.journal_entries += 1
        done += 1
        _advance(progress, key, done)


async def answer_and_consent(
    api: ApiCaller,
    conninfo: str,
    therapist_token: str,
    patient_token: str,
    patient: SeededPatient,
    sim: SimulatedPatient,
    now: datetime,
) -> None:
    """The patient's research consent (those whose spec says so) and questionnaire answers."""
    if patient.spec.research_consent:
        consent = {"research": True, "journal_text": patient.spec.journal_consent}
        await api.call("PUT", f"/v1/patients/{patient.patient_id}/consent", patient_token, consent)
    answered = await answer_questionnaires(
        api,
        conninfo,
        patient_id=patient.patient_id,
        spec=patient.spec,
        sim=sim,
        therapist_token=therapist_token,
        now=now,
    )
    patient.questionnaires = answered.responses
    patient.safety_alerts = len(answered.alerts)


async def create_people(
    api: ApiCaller, conninfo: str, sims: list[SimulatedPatient], now: datetime
) -> list[SeededPatient]:
    """Admin, therapist, researcher; patients with logins, sessions, journal, research consent (those
    whose spec says so), questionnaire answers and device(s) each: the demo's people without beats."""
    await asyncio.to_thread(create_staff, conninfo)
    therapist = await api.login(THERAPIST)
    seeded: list[SeededPatient] = []
    for spec, sim in zip(PATIENTS, sims, strict=True):
        patient, token = await create_patient(api, therapist, spec)
        await write_story(api, therapist, token, patient, sim, now)
        await answer_and_consent(api, conninfo, therapist, token, patient, sim, now)
        seeded.append(patient)
    return seeded


async def store_beats(
    conninfo: str,
    patient: SeededPatient,
    batches: list[BeatBatch],
    progress: SeedProgress,
    key: str,
) -> int:
    """The patient's simulated beats through ``store_batch`` (the ingest path) on
    ``STORE_CONNECTIONS`` connections at once; returns the batches stored."""
    total = sum(b.n_beats for b in batches)
    done = 0

    async def store(share: list[BeatBatch]) -> None:
        nonlocal done
        conn = await psycopg.AsyncConnection.connect(
            conninfo, autocommit=True, row_factory=dict_row
        )
        try:
            ref = DeviceRef(device_id=patient.device_id, patient_id=patient.patient_id)
            for batch in share:
                result = await store_batch(conn, ref, batch)
                patient.beats_stored += result.accepted
                done += batch.n_beats
                progress.advance(key, done, total)
        finally:
            await conn.close()

    await asyncio.gather(*(store(batches[i::STORE_CONNECTIONS]) for i in range(STORE_CONNECTIONS)))
    return len(batches)


def analyse_patient(conninfo: str, patient_id: uuid.UUID) -> int:
    """Runs in a pool process: the analysis worker's recompute job for one patient
    (``api.worker.runner.run_recompute``) until its dirty range is gone; returns windows written.

    The jobs that ingest queued stay in the queue; the worker that drains it at the end finds
    nothing left to do for these patients.
    """
    written = 0
    for _ in range(MAX_RECOMPUTE_ROUNDS):
        report = run_recompute(conninfo, patient_id)
        if report is None:
            return written
        written += report.windows_written
        if report.complete:
            return written
    raise DemoError(
        f"patient {patient_id} still had beats to analyse after {MAX_RECOMPUTE_ROUNDS} rounds"
    )


async def run_worker_until_idle(conninfo: str) -> None:
    """Process every pending analysis job with the real worker; failed jobs are a ``DemoError``."""
    status = await run_until_idle_async(conninfo)
    if status.problems:
        raise DemoError(f"analysis jobs failed: {status.problems[:3]}")


def warm_up() -> int:
    """Runs in a pool process: unpickling it imported this module and so the worker and analysis
    libraries (seconds on 2 cores), before the first pass needs them; returns the process id."""
    return os.getpid()


class Seeder:
    """Seeds the demo into the empty, migrated database behind the server at ``base_url``.

    The first patient comes first: account, sessions and journal through the HTTP API while its
    beats go through the ingest path, then the analysis worker's recompute job in a pool process
    (beside it only its questionnaires); ``on_first_ready`` runs as soon as its timeline is
    complete. Then the others' accounts, stories and beats are stored and their analyses run at
    once, one process each.

    A patient's beats are all stored before its analysis starts: the worker recomputes a patient's
    whole dirty range, so beats arriving during a recompute would make the next one redo it.
    """

    def __init__(
        self,
        base_url: str,
        conninfo: str,
        progress: SeedProgress,
        pool: ProcessPoolExecutor,
        *,
        now: datetime,
        days: int = DEMO_DAYS,
        first_sim: SimulatedPatient | None = None,
        staff_hashes: dict[str, str] | None = None,
        processes: int = 2,
        warmed: int = 0,
    ) -> None:
        self.base_url = base_url
        #: Processes of ``pool``; ``warmed`` of them were already started by the caller.
        self.processes = processes
        self.conninfo = conninfo
        self.progress = progress
        self.pool = pool
        self.now = now
        self.now_ms = int(now.timestamp() * 1000)
        self.days = days
        self.first_sim = first_sim
        self.staff_hashes = staff_hashes
        self.result = SeedResult()
        #: Seconds of analysis per stored beat, measured on the first patient.
        self._analysis_s_per_beat: float | None = None
        #: Pool processes started so far (``warm_pool``).
        self._warmed = warmed

    async def run(self, on_first_ready: Callable[[SeedResult], Awaitable[None]]) -> SeedResult:
        """Seed everyone; ``on_first_ready`` is awaited once the first patient is complete."""
        self.progress.patients_total = len(PATIENTS)
        first_spec, *others = PATIENTS
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60.0) as client:
            api = ApiCaller(client)
            await asyncio.to_thread(create_staff, self.conninfo, self.staff_hashes)
            therapist = await api.login(THERAPIST)
            sim = self.first_sim
            if sim is None:
                sim = await asyncio.to_thread(simulate, first_spec, self.now, self.days)
            first, token = await self._people(api, therapist, first_spec, sim, 0)
            await asyncio.gather(
                write_story(api, therapist, token, first, sim, self.now, self.progress, "0.people"),
                self._beats(first, sim, 0),
            )
            self.progress.end("0.people")
            # The first patient's analysis gets a core to itself: beside it only its questionnaires
            # (a second or so). Everything else waits, even the other pool process's imports and
            # the others' argon2-hashed logins, which would take CPU from it on 2 cores.
            first_analysis = asyncio.ensure_future(self._analyse(first, 0))
            try:
                await self._answers(api, therapist, token, first, sim, 0)
                await first_analysis
            finally:
                first_analysis.cancel()
            await on_first_ready(self.result)
            self.warm_pool()
            people = await self._people_of_others(api, therapist, others)
        stored: list[SeededPatient] = []
        for i, (patient, other_sim) in enumerate(people, start=1):
            await self._beats(patient, other_sim, i)
            stored.append(patient)
        await asyncio.gather(*(self._analyse(p, i) for i, p in enumerate(stored, start=1)))
        # The queue still holds the jobs ingest deferred: the real worker drains it (nothing is
        # dirty any more, so each ends at once) and reports failed jobs.
        await run_worker_until_idle(self.conninfo)
        self.result.patients.sort(key=lambda p: PATIENTS.index(p.spec))
        self.progress.done()
        return self.result

    async def _people(
        self, api: ApiCaller, therapist: str, spec: DemoPatient, sim: SimulatedPatient, i: int
    ) -> tuple[SeededPatient, str]:
        key = f"{i}.people"
        self.progress.begin(
            key,
            f"{spec.display_name}: account, sessions, journal (HTTP API)",
            total=PEOPLE_STEPS + story_requests(sim, self.now),
            unit="requests",
        )
        patient, token = await create_patient(api, therapist, spec, self.progress, key)
        self.result.patients.append(patient)
        return patient, token

    async def _people_of_others(
        self, api: ApiCaller, therapist: str, specs: list[DemoPatient]
    ) -> list[tuple[SeededPatient, SimulatedPatient]]:
        out: list[tuple[SeededPatient, SimulatedPatient]] = []
        for i, spec in enumerate(specs, start=1):
            sim = await asyncio.to_thread(simulate, spec, self.now, self.days)
            patient, token = await self._people(api, therapist, spec, sim, i)
            key = f"{i}.people"
            await write_story(api, therapist, token, patient, sim, self.now, self.progress, key)
            self.progress.end(key)
            await self._answers(api, therapist, token, patient, sim, i)
            out.append((patient, sim))
        return out

    async def _answers(
        self,
        api: ApiCaller,
        therapist: str,
        token: str,
        patient: SeededPatient,
        sim: SimulatedPatient,
        i: int,
    ) -> None:
        key = f"{i}.answers"
        self.progress.begin(key, f"{patient.spec.display_name}: questionnaires and consent")
        await answer_and_consent(api, self.conninfo, therapist, token, patient, sim, self.now)
        self.progress.end(key)

    def warm_pool(self) -> None:
        """Start the pool's other processes (each imports the analysis libraries, seconds of CPU):
        the caller started one for the first patient, the rest start once it is ready (their
        imports then overlap the others' accounts and beats)."""
        loop = asyncio.get_running_loop()
        while self._warmed < self.processes:
            loop.run_in_executor(self.pool, warm_up)
            self._warmed += 1

    async def _beats(self, patient: SeededPatient, sim: SimulatedPatient, i: int) -> None:
        key = f"{i}.beats"
        batches = beat_batches(sim, self.now_ms)
        self.progress.begin(
            key,
            f"{patient.spec.display_name}: storing beats (ingest path)",
            total=sum(b.n_beats for b in batches),
            unit="beats",
        )
        self.result.batches += await store_beats(
            self.conninfo, patient, batches, self.progress, key
        )
        self.result.beats_stored += patient.beats_stored
        self.progress.end(key)

    async def _analyse(self, patient: SeededPatient, i: int) -> None:
        """The worker's recompute job for the patient in a pool process."""
        key = f"{i}.analysis"
        rate = self._analysis_s_per_beat
        self.progress.begin(
            key,
            f"{patient.spec.display_name}: computing markers (analysis worker)",
            expected_s=None if rate is None else rate * patient.beats_stored,
        )
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self.pool, analyse_patient, self.conninfo, patient.patient_id)
        took = self.progress.end(key)
        if rate is None and patient.beats_stored:
            self._analysis_s_per_beat = took / patient.beats_stored
        self.progress.patient_ready()


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

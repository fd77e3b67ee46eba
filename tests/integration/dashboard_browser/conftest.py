"""Browser-test fixtures: a real server (uvicorn thread) on its own migrated database, seeded through
the HTTP API and the ingest endpoint with simulated data computed by the real worker; Chromium pages
that record every console error."""

from __future__ import annotations

import concurrent.futures
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import numpy as np
import psycopg
import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from psycopg.rows import dict_row

from api.auth.passwords import hash_password
from api.instruments.loader import load_catalog
from api.worker.runner import run_until_idle
from somatrace.demo.accounts import PATIENTS as DEMO_PATIENTS
from somatrace.demo.questionnaires import plan_answers
from somatrace.demo.story import SimulatedPatient, simulate_patient

from ...conftest import fresh_database
from ..conftest import free_port, serve_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts" / "dashboard"
#: axe-core, vendored for these tests only (MPL-2.0, see vendor/axe-core/LICENSE).
AXE_JS = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
#: axe findings of these impacts fail a page.
AXE_FAILING_IMPACTS = ("serious", "critical")
TZ = "Europe/Berlin"
#: Two medicine sessions after a 14-day baseline (verdicts need 10 valid baseline days): the cards show
#: verdicts, a period under way and one not begun.
DAYS = 35
MEDICINE_DAYS = (14, 24)
PASSWORD = "browser-test-password"
BATCH_BEATS = 10_000
MEDICINE = {"medicine": "esketamine", "route": "intranasal", "dose": 84, "dose_unit": "mg"}


@dataclass
class Person:
    email: str
    password: str = PASSWORD


@dataclass
class Dashboard:
    """The seeded server: who can log in, patient ids, the day with a full night of beats."""

    base_url: str
    db_url: str
    therapist: Person
    patient_a: Person
    patient_b: Person
    patient_a_id: uuid.UUID
    patient_b_id: uuid.UUID
    night_day: str
    journal_texts: list[str] = field(default_factory=list)
    load_times_ms: dict[str, float] = field(default_factory=dict)

    def sql(self, query: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        with psycopg.connect(self.db_url, autocommit=True, row_factory=dict_row) as conn:
            return conn.execute(query, params or {}).fetchall()  # type: ignore[arg-type]

    def api(self, method: str, path: str, who: Person, **kwargs: Any) -> Any:
        with httpx.Client(base_url=self.base_url, timeout=60) as http:
            token = http.post(
                "/v1/auth/token", data={"username": who.email, "password": who.password}
            ).json()["access_token"]
            r = http.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kwargs)
            r.raise_for_status()
            return r.json() if r.content else None


def _simulate(now: datetime, seed: int = 5, poor_quality: bool = False) -> SimulatedPatient:
    today = now.astimezone(ZoneInfo(TZ)).date()
    first = today - timedelta(days=DAYS)
    start = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo(TZ)).astimezone(UTC)
    return simulate_patient(
        seed=seed,
        days=DAYS,
        start=start,
        tz=TZ,
        medicine_days=MEDICINE_DAYS,
        ln_rmssd_shift_after=(0.3, 0.1),
        missing_day_rate=0.1,
        poor_quality=poor_quality,
    )


def _kept_beats(sim: SimulatedPatient, now_ms: int) -> tuple[np.ndarray, np.ndarray, str]:
    """The morning readings of every day plus one whole night (for the day zoom): few beats, so the
    worker is quick, yet every part of the dashboard has data."""
    t = sim.beats_t_ms
    keep = np.zeros(t.size, dtype=bool)
    for start, end in sim.morning_readings:
        keep |= (t >= start.timestamp() * 1000) & (t < end.timestamp() * 1000)
    nights = [(s, e) for s, e in sim.segments if (e - s) > timedelta(hours=5)]
    # a poor signal breaks nights into pieces: then the longest piece stands in for the night
    nights = nights or [max(sim.segments, key=lambda seg: seg[1] - seg[0])]
    night_start, night_end = nights[len(nights) // 2]
    keep |= (t >= night_start.timestamp() * 1000) & (t <= night_end.timestamp() * 1000)
    keep &= t <= now_ms - 60_000
    night_day = night_end.astimezone(ZoneInfo(TZ)).date().isoformat()  # 00:00 to waking
    return t[keep], sim.rr_ticks[keep], night_day


class Seeder:
    """Seeds a server the way a clinic fills it: staff accounts in the database (as ``somatrace user
    create`` does), everything else through the HTTP API and the ingest route."""

    def __init__(self, base_url: str, db_url: str) -> None:
        self.http = httpx.Client(base_url=base_url, timeout=60)
        self.db_url = db_url
        self.now = datetime.now(UTC)
        self._hash = hash_password(PASSWORD)

    def close(self) -> None:
        self.http.close()

    def staff(self, role: str, email: str, name: str) -> Person:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute(
                "INSERT INTO users (email, password_hash, role, display_name, password_set_at) "
                "VALUES (%s, %s, %s, %s, now())",
                (email, self._hash, role, name),
            )
        return Person(email)

    def token(self, who: Person) -> dict[str, str]:
        r = self.http.post("/v1/auth/token", data={"username": who.email, "password": who.password})
        r.raise_for_status()
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    def post(self, path: str, headers: dict[str, str], body: object) -> Any:
        r = self.http.post(path, json=body, headers=headers)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    def patient(self, therapist: dict[str, str], name: str, login: Person | None) -> uuid.UUID:
        pid = self.post("/v1/patients", therapist, {"display_name": name, "timezone": TZ})["id"]
        if login is not None:
            self.post(
                f"/v1/patients/{pid}/account",
                therapist,
                {"email": login.email, "password": PASSWORD},
            )
        return uuid.UUID(pid)

    def story(
        self, therapist: dict[str, str], patient: Person, pid: uuid.UUID, sim: SimulatedPatient
    ) -> tuple[list[str], str]:
        """Sessions, journal and kept beats of ``sim``; returns the journal texts and the night's day."""
        for s in sim.sessions:
            self.post(
                f"/v1/patients/{pid}/sessions",
                therapist,
                {**s.to_dict(), **(MEDICINE if s.kind == "medicine" else {})},
            )
        own = self.token(patient)
        texts = []
        for j in sim.journal:
            if j.at < self.now:
                body = {
                    "at": j.at.isoformat(),
                    "text": j.text,
                    "tags": list(j.tags),
                    "mood": j.mood,
                    "body": j.body,
                }
                self.post(f"/v1/patients/{pid}/journal", own, body)
                texts.append(j.text)
        device = self.post(f"/v1/patients/{pid}/devices", own, {"label": "test strap"})
        dev = {"Authorization": f"Bearer {device['token']}"}
        t_ms, rr, night_day = _kept_beats(sim, int(self.now.timestamp() * 1000))
        for i in range(0, t_ms.size, BATCH_BEATS):
            beats = [
                {"t_ms": int(t), "rr_ticks": int(r)}
                for t, r in zip(t_ms[i : i + BATCH_BEATS], rr[i : i + BATCH_BEATS], strict=True)
            ]
            self.post("/v1/ingest/beats", dev, {"batch_id": str(uuid.uuid4()), "beats": beats})
        return texts, night_day

    def questionnaires(
        self, therapist: dict[str, str], pid: uuid.UUID, sim: SimulatedPatient, demo_seed: int
    ) -> int:
        """The demo's questionnaire plan of the demo patient ``demo_seed`` around ``sim``'s sessions,
        entered by the therapist as answers given in clinic; returns how many."""
        spec = replace(next(p for p in DEMO_PATIENTS if p.seed == demo_seed), timezone=TZ)
        planned = plan_answers(spec, sim, load_catalog(), self.now)
        for a in planned:
            body = {"instrument": a.instrument, "answers": a.answers, "at": a.at.isoformat()}
            self.post(f"/v1/patients/{pid}/responses", therapist, body)
        return len(planned)

    def analyse(self) -> None:
        # Its own thread: Playwright's sync API may already run an event loop in this one.
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            status = pool.submit(run_until_idle, self.db_url).result()
        assert not status.problems, status.problems


def _seed(base_url: str, db_url: str) -> Dashboard:
    tag = uuid.uuid4().hex[:6]
    seeder = Seeder(base_url, db_url)
    try:
        therapist = seeder.staff("therapist", f"therapist-{tag}@example.org", "Dr. Browser")
        patient_a = Person(f"alex-{tag}@example.org")
        patient_b = Person(f"blake-{tag}@example.org")
        th = seeder.token(therapist)
        a_id = seeder.patient(th, "Alex Browser", patient_a)
        b_id = seeder.patient(th, "Blake Browser", patient_b)
        texts, night_day = seeder.story(th, patient_a, a_id, _simulate(seeder.now))
        seeder.analyse()
    finally:
        seeder.close()
    return Dashboard(
        base_url=base_url,
        db_url=db_url,
        therapist=therapist,
        patient_a=patient_a,
        patient_b=patient_b,
        patient_a_id=a_id,
        patient_b_id=b_id,
        night_day=night_day,
        journal_texts=texts,
    )


@pytest.fixture(scope="module")
def dashboard(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboard]:
    """uvicorn serving the real app in a thread on a database seeded for this module."""
    with (
        fresh_database(pg_admin_url, "somatrace_dashboard", migrated=True) as db_url,
        serve_app(db_url, tmp_path_factory.mktemp("dashboard")) as url,
    ):
        yield _seed(url, db_url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    pw: Playwright
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@dataclass
class Tab:
    """A browser page plus every console error and uncaught exception it produced."""

    page: Page
    errors: list[str]
    base_url: str

    def goto(self, hash_route: str) -> float:
        """Load ``/#...`` afresh and wait until the page says it rendered; returns the time in ms
        (HTML, modules, API calls and drawing; the session token survives in sessionStorage)."""
        self.page.goto("about:blank")
        started = time.perf_counter()
        self.page.goto(f"{self.base_url}/{hash_route}")
        self.wait_ready(hash_route)
        return (time.perf_counter() - started) * 1000

    def wait_ready(self, hash_route: str) -> None:
        self.page.wait_for_function(
            "h => document.body.dataset.ready === h", arg=hash_route, timeout=60_000
        )

    def login(self, who: Person) -> None:
        self.page.goto(f"{self.base_url}/#/login")
        self.page.fill("#login-email", who.email)
        self.page.fill("#login-password", who.password)
        self.page.click("#login-form button[type=submit]")

    def shot(self, name: str, full_page: bool = True) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def axe(self, where: str = "") -> list[dict[str, Any]]:
        """Run axe-core on the page as it is now; fails on serious or critical violations."""
        if not self.page.evaluate("() => typeof window.axe !== 'undefined'"):
            # evaluated through the DevTools protocol, which the page's CSP does not govern
            self.page.evaluate(AXE_JS.read_text(encoding="utf-8"))
        result = self.page.evaluate(
            "async () => JSON.stringify(await axe.run(document, {resultTypes: ['violations']}))"
        )
        violations = [
            v for v in json.loads(result)["violations"] if v.get("impact") in AXE_FAILING_IMPACTS
        ]
        described = [
            f"{v['id']} ({v['impact']}): {v['help']} at "
            + "; ".join(n.get("target", [""])[0] for n in v["nodes"][:5])
            for v in violations
        ]
        assert not described, f"axe on {where or self.page.url}: {described}"
        return violations

    def assert_no_console_errors(self, allowed: tuple[str, ...] = ()) -> None:
        unexpected = [e for e in self.errors if not any(a in e for a in allowed)]
        assert unexpected == [], unexpected


def new_tab(browser: Browser, base_url: str, **context: Any) -> Tab:
    ctx = browser.new_context(**context)
    page = ctx.new_page()
    errors: list[str] = []

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            errors.append(f"console: {msg.text} @ {msg.location.get('url', '')}")

    page.on("console", on_console)
    page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    page.set_default_timeout(30_000)
    return Tab(page=page, errors=errors, base_url=base_url)


@pytest.fixture
def make_tab(dashboard: Dashboard, browser: Browser) -> Iterator[Callable[..., Tab]]:
    """Factory of extra tabs (own contexts, e.g. a phone), closed after the test."""
    made: list[Tab] = []

    def make(base_url: str, **context: Any) -> Tab:
        t = new_tab(browser, base_url, **context)
        made.append(t)
        return t

    yield make
    for t in made:
        t.page.context.close()


@pytest.fixture
def tab(dashboard: Dashboard, browser: Browser) -> Iterator[Tab]:
    """A fresh browser context (own sessionStorage) at desktop size."""
    t = new_tab(browser, dashboard.base_url, viewport={"width": 1280, "height": 900})
    try:
        yield t
    finally:
        t.page.context.close()


@dataclass
class ServeProcess:
    """A real ``somatrace serve`` process on a fresh database (the CLI's own migrations)."""

    base_url: str
    db_url: str
    env: dict[str, str]
    log: Path

    def cli(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run another ``somatrace`` command against the same settings, while the server runs."""
        return subprocess.run(
            [str(somatrace_bin()), *args],
            input=stdin,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )


def somatrace_bin() -> Path:
    """The ``somatrace`` console script of this environment."""
    return Path(sys.executable).parent / "somatrace"


@pytest.fixture(scope="module")
def fresh_server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServeProcess]:
    """``somatrace serve`` as a subprocess on an empty database, with its in-process analysis worker."""
    data_dir = tmp_path_factory.mktemp("fresh-serve")
    with fresh_database(pg_admin_url, "somatrace_fresh") as db_url:
        port = free_port()
        env = {
            **os.environ,
            "SOMATRACE_DATABASE_URL": db_url,
            "SOMATRACE_SECRET_KEY": "fresh-serve-signing-key-" + "f" * 32,
            "SOMATRACE_DATA_DIR": str(data_dir),
            "SOMATRACE_WORKER_IN_PROCESS": "true",
            "SOMATRACE_LOG_LEVEL": "WARNING",
        }
        log = data_dir / "serve.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [str(somatrace_bin()), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 180
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"somatrace serve exited with {proc.returncode}: {log.read_text()}")
                try:
                    if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"somatrace serve did not answer: {log.read_text()}")
                time.sleep(0.3)
            yield ServeProcess(base_url=base_url, db_url=db_url, env=env, log=log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=30)


@dataclass
class Clinic:
    """A clinic seeded with every kind of page content: two patients with weeks of data (one with a poor
    signal and a long name), a newcomer with an open invitation, staff of every role (one therapist with
    no patients), a used invitation and an open password link."""

    base_url: str
    db_url: str
    admin: Person
    therapist: Person
    empty_therapist: Person
    researcher: Person
    alex: Person
    alex_id: uuid.UUID
    poor: Person
    poor_id: uuid.UUID
    newcomer_id: uuid.UUID
    medicine_session_id: str
    journal_entry_id: str
    night_day: str
    invite_path: str
    used_invite_path: str
    password_path: str


POOR_SIGNAL_NAME = "Maximiliane Alexandra von Hohenberg-Schwarzenfeld"
LINK_PASSWORD = "violet harbour tram 7 lanterns"


def _seed_clinic(base_url: str, db_url: str) -> Clinic:
    seeder = Seeder(base_url, db_url)
    try:
        admin = seeder.staff("admin", "ada.admin@clinic.example", "Ada Admin")
        therapist = seeder.staff("therapist", "theodora.quist@clinic.example", "Dr. Theodora Quist")
        empty = seeder.staff("therapist", "new.colleague@clinic.example", "Dr. Nils Newcomer")
        researcher = seeder.staff("researcher", "rhys.researcher@uni.example", "Rhys Researcher")
        th = seeder.token(therapist)
        alex, poor = Person("alex@mail.example"), Person("maxi@mail.example")
        alex_id = seeder.patient(th, "Alex Browser", alex)
        poor_id = seeder.patient(th, POOR_SIGNAL_NAME, poor)
        alex_sim = _simulate(seeder.now)
        poor_sim = _simulate(seeder.now, seed=9, poor_quality=True)
        _, night_day = seeder.story(th, alex, alex_id, alex_sim)
        seeder.story(th, poor, poor_id, poor_sim)
        # symptom courses of the demo's responder (Alex) and of the patient whose PHQ-9 item 9 raises
        # a safety alert (Robin, here the poor-signal patient)
        seeder.questionnaires(th, alex_id, alex_sim, demo_seed=11)
        seeder.questionnaires(th, poor_id, poor_sim, demo_seed=33)
        own = seeder.token(alex)
        r = seeder.http.put(
            f"/v1/patients/{alex_id}/consent",
            json={"research": True, "journal_text": True},
            headers=own,
        )
        r.raise_for_status()
        newcomer_id = seeder.patient(th, "Blake Newcomer", None)
        invite = seeder.post(
            f"/v1/patients/{newcomer_id}/invites", th, {"email": "blake@mail.example"}
        )
        used_id = seeder.patient(th, "Casey Early", None)
        used = seeder.post(f"/v1/patients/{used_id}/invites", th, {"email": "casey@mail.example"})
        token = used["link"]["path"].rsplit("/", 1)[1]
        seeder.post(
            "/v1/links/redeem",
            {},
            {"token": token, "password": LINK_PASSWORD, "password_confirm": LINK_PASSWORD},
        )
        reset = seeder.post(f"/v1/patients/{poor_id}/account/password-link", th, {})
        sessions = seeder.http.get(f"/v1/patients/{alex_id}/sessions", headers=th).json()
        journal = seeder.http.get(f"/v1/patients/{alex_id}/journal", headers=own).json()
        seeder.analyse()
    finally:
        seeder.close()
    return Clinic(
        base_url=base_url,
        db_url=db_url,
        admin=admin,
        therapist=therapist,
        empty_therapist=empty,
        researcher=researcher,
        alex=alex,
        alex_id=alex_id,
        poor=poor,
        poor_id=poor_id,
        newcomer_id=newcomer_id,
        medicine_session_id=next(s["id"] for s in sessions if s["kind"] == "medicine"),
        journal_entry_id=journal[-1]["id"],
        night_day=night_day,
        invite_path=invite["link"]["path"].lstrip("/"),
        used_invite_path=used["link"]["path"].lstrip("/"),
        password_path=reset["path"].lstrip("/"),
    )


@pytest.fixture(scope="module")
def clinic(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Clinic]:
    """uvicorn serving the real app in a thread on a database seeded as a working clinic."""
    with (
        fresh_database(pg_admin_url, "somatrace_clinic", migrated=True) as db_url,
        serve_app(db_url, tmp_path_factory.mktemp("clinic")) as url,
    ):
        yield _seed_clinic(url, db_url)

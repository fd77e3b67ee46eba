"""Every route of the app against every role: who gets in, nobody reaches another patient, and
every patient-data access lands in the audit log.

The test enumerates ``app.routes``; a route missing from ``ROUTES`` fails the test. To add a
route, add one line to ``ROUTES``:
    (METHOD, "/path/{template}"): Case(RULE, body=..., query=..., ok=...)
with the rule its dependency enforces (see ``RULE_ALLOWS``) and, for writes, a valid body
factory. Path parameters are filled by ``World.path_value`` (add a factory for a new name).
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import fastapi.routing
import psycopg
from fastapi.routing import APIRoute
from psycopg.rows import dict_row
from starlette.routing import Mount, Route

from api.auth.deps import current_user, require_device

from ..conftest import PASSWORD, Api

# --- who is calling ---------------------------------------------------------------------------
ACTORS = (
    "anonymous",
    "admin",
    "therapist_a",
    "therapist_b",
    "patient_a",
    "patient_b",
    "researcher",
    "device_a",
)
USERS = frozenset({"admin", "therapist_a", "therapist_b", "patient_a", "patient_b", "researcher"})

# --- the rules (one per dependency in api.auth.deps) and who passes them for patient A -------
PUBLIC = "public"  # no credentials needed
LOGIN = "login"  # POST /v1/auth/token
ANY_USER = "any_user"  # current_user
ADMIN = "admin"  # require_role("admin")
THERAPIST = "therapist"  # require_role("therapist")
THERAPIST_OR_PATIENT = "therapist_or_patient"  # require_role("therapist", "patient")
PATIENT_READ = "patient_read"  # patient_reader
PATIENT_WRITE = "patient_write"  # patient_writer / device_owner_writer
PATIENT_THERAPIST_WRITE = "patient_therapist_write"  # patient_therapist_writer
PATIENT_SELF_WRITE = "patient_self_write"  # patient_self_writer
DEVICE = "device"  # require_device
RESEARCHER = "researcher"  # require_role("researcher")

RULE_ALLOWS: dict[str, frozenset[str]] = {
    PUBLIC: frozenset(ACTORS),
    LOGIN: frozenset(ACTORS),
    ANY_USER: USERS,
    ADMIN: frozenset({"admin"}),
    THERAPIST: frozenset({"therapist_a", "therapist_b"}),
    THERAPIST_OR_PATIENT: frozenset({"therapist_a", "therapist_b", "patient_a", "patient_b"}),
    PATIENT_READ: frozenset({"therapist_a", "patient_a"}),
    PATIENT_WRITE: frozenset({"therapist_a", "patient_a"}),
    PATIENT_THERAPIST_WRITE: frozenset({"therapist_a"}),
    PATIENT_SELF_WRITE: frozenset({"patient_a"}),
    DEVICE: frozenset({"device_a"}),
    RESEARCHER: frozenset({"researcher"}),
}
#: Rules guarding patient A's data: their allowed calls must be audited with this action.
AUDITED_AS = {
    PATIENT_READ: "read",
    PATIENT_WRITE: "write",
    PATIENT_THERAPIST_WRITE: "write",
    PATIENT_SELF_WRITE: "write",
    DEVICE: "write",
}

Body = Callable[["World"], dict[str, Any]]


@dataclass(frozen=True)
class Case:
    rule: str
    body: Body | None = None
    form: Body | None = None
    files: Body | None = None
    query: dict[str, str] = field(default_factory=dict)
    ok: frozenset[int] = frozenset({200, 201, 204})


def _session(_: World) -> dict[str, Any]:
    return {"kind": "integration", "started_at": "2026-02-01T10:00:00Z", "note": "authz"}


def _entry(_: World) -> dict[str, Any]:
    return {"at": "2026-02-02T07:00:00Z", "text": "authz entry", "tags": ["t"], "mood": 5}


def _import_file(_: World) -> dict[str, Any]:
    rr = "\n".join(str(800 + (i % 7) * 10) for i in range(60))
    return {"file": ("2026-02-03 07-00-00.txt", rr.encode(), "text/plain")}


#: The interval of every reading the matrix registers (``World.path_value("reading_id")`` stores it for
#: device A, so device A sending it again is answered 200).
_READING = {
    "started_at": "2026-02-04T07:00:00+00:00",
    "ended_at": "2026-02-04T07:05:00+00:00",
    "planned_s": 300,
}


def _beats(_: World) -> dict[str, Any]:
    t_ms = 1_767_225_600_000 + secrets.randbelow(10**9)
    return {"batch_id": str(uuid.uuid4()), "beats": [{"t_ms": t_ms, "rr_ticks": 1000}]}


ROUTES: dict[tuple[str, str], Case] = {
    # public and documentation
    ("GET", "/healthz"): Case(PUBLIC),
    ("GET", "/metrics"): Case(PUBLIC),  # counts only; the reverse proxy keeps it off the internet
    ("GET", "/v1/wire"): Case(PUBLIC),
    ("GET", "/openapi.json"): Case(PUBLIC),
    ("GET", "/"): Case(PUBLIC),
    ("GET", "/sw.js"): Case(PUBLIC),  # the service worker: static code, no data
    ("GET", "/static/{path}"): Case(PUBLIC, ok=frozenset({200, 404})),
    ("GET", "/static/{path:path}"): Case(PUBLIC, ok=frozenset({200, 404})),
    ("GET", "/v1/background"): Case(PUBLIC),  # progress counts of the demo's seeding, no data
    ("GET", "/docs"): Case(PUBLIC),
    ("GET", "/redoc"): Case(PUBLIC),
    ("GET", "/docs/assets/{name}"): Case(PUBLIC),
    # accounts
    ("POST", "/v1/auth/token"): Case(
        LOGIN, form=lambda w: {"username": w.emails["admin"], "password": PASSWORD}
    ),
    ("GET", "/v1/users/me"): Case(ANY_USER),
    ("GET", "/v1/users"): Case(ADMIN),
    ("POST", "/v1/users"): Case(
        ADMIN,
        body=lambda w: {
            "email": f"new-{uuid.uuid4().hex[:8]}@example.org",
            "password": "a-long-password",
            "role": "researcher",
        },
    ),
    ("DELETE", "/v1/users/{user_id}"): Case(ADMIN),
    ("POST", "/v1/users/{user_id}/reactivate"): Case(ADMIN),
    ("POST", "/v1/users/{user_id}/password-link"): Case(ADMIN),
    # one-time links: the token is the credential (an unknown one answers 410 to everybody)
    ("POST", "/v1/links/check"): Case(
        PUBLIC, body=lambda w: {"token": "stlink_" + "A" * 43}, ok=frozenset({410})
    ),
    ("POST", "/v1/links/redeem"): Case(
        PUBLIC,
        body=lambda w: {
            "token": "stlink_" + "A" * 43,
            "password": "a-long-password",
            "password_confirm": "a-long-password",
        },
        ok=frozenset({410}),
    ),
    # form rules and the new-password check (public: no secrets)
    ("GET", "/v1/forms"): Case(PUBLIC),
    ("POST", "/v1/forms/password-check"): Case(PUBLIC, body=lambda w: {"password": "aaaaaaaaaaaa"}),
    ("GET", "/v1/assignments"): Case(ADMIN),
    ("GET", "/v1/assignments/patients"): Case(ADMIN),
    ("POST", "/v1/assignments"): Case(
        ADMIN,
        body=lambda w: {"therapist_id": str(w.fresh_therapist()), "patient_id": str(w.patient_a)},
    ),
    ("DELETE", "/v1/assignments/{therapist_id}/{patient_id}"): Case(ADMIN),
    ("GET", "/v1/audit"): Case(ADMIN),
    ("GET", "/v1/audit/actions"): Case(ADMIN),
    ("GET", "/v1/audit/csv"): Case(ADMIN),
    # patients
    ("GET", "/v1/patients"): Case(THERAPIST_OR_PATIENT),
    ("POST", "/v1/patients"): Case(
        THERAPIST, body=lambda w: {"display_name": "Newcomer", "timezone": "UTC"}
    ),
    ("GET", "/v1/patients/{patient_id}"): Case(PATIENT_READ),
    ("PATCH", "/v1/patients/{patient_id}"): Case(
        PATIENT_WRITE, body=lambda w: {"timezone": "Europe/Vienna"}
    ),
    ("POST", "/v1/patients/{patient_id}/account"): Case(
        PATIENT_THERAPIST_WRITE,
        body=lambda w: {"email": f"p-{uuid.uuid4().hex[:8]}@example.org", "password": PASSWORD},
        ok=frozenset({409}),  # patient A already has a login: refused after authorization
    ),
    ("GET", "/v1/patients/{patient_id}/account"): Case(PATIENT_READ),
    ("POST", "/v1/patients/{patient_id}/account/password-link"): Case(PATIENT_THERAPIST_WRITE),
    ("POST", "/v1/patients/{patient_id}/invites"): Case(
        PATIENT_THERAPIST_WRITE,
        body=lambda w: {"email": f"invitee-{uuid.uuid4().hex[:8]}@example.org"},
        ok=frozenset({409}),  # patient A already has a login: refused after authorization
    ),
    ("GET", "/v1/patients/{patient_id}/invites"): Case(PATIENT_READ),
    ("DELETE", "/v1/patients/{patient_id}/invites/{invite_id}"): Case(PATIENT_THERAPIST_WRITE),
    ("GET", "/v1/patients/{patient_id}/consent"): Case(PATIENT_READ),
    ("PUT", "/v1/patients/{patient_id}/consent"): Case(
        PATIENT_SELF_WRITE, body=lambda w: {"research": True}
    ),
    # devices
    ("GET", "/v1/patients/{patient_id}/devices"): Case(PATIENT_READ),
    ("POST", "/v1/patients/{patient_id}/devices"): Case(
        PATIENT_WRITE, body=lambda w: {"label": "authz"}
    ),
    ("DELETE", "/v1/devices/{device_id}"): Case(PATIENT_WRITE),
    ("POST", "/v1/ingest/beats"): Case(DEVICE, body=_beats),
    # the patient's browser as a collector (issue 13)
    ("POST", "/v1/patients/{patient_id}/browser-devices"): Case(
        PATIENT_SELF_WRITE, body=lambda w: {"label": "authz browser"}
    ),
    ("PUT", "/v1/ingest/readings/{reading_id}"): Case(DEVICE, body=lambda w: dict(_READING)),
    ("GET", "/v1/patients/{patient_id}/readings"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/readings/{reading_id}"): Case(PATIENT_READ),
    # imports
    ("GET", "/v1/patients/{patient_id}/imports"): Case(PATIENT_READ),
    ("POST", "/v1/patients/{patient_id}/imports"): Case(PATIENT_WRITE, files=_import_file),
    # sessions and journal
    ("GET", "/v1/patients/{patient_id}/sessions"): Case(PATIENT_READ),
    ("POST", "/v1/patients/{patient_id}/sessions"): Case(PATIENT_WRITE, body=_session),
    ("GET", "/v1/patients/{patient_id}/sessions/{session_id}"): Case(PATIENT_READ),
    ("PUT", "/v1/patients/{patient_id}/sessions/{session_id}"): Case(PATIENT_WRITE, body=_session),
    ("PATCH", "/v1/patients/{patient_id}/sessions/{session_id}"): Case(
        PATIENT_WRITE, body=lambda w: {"note": "changed"}
    ),
    ("DELETE", "/v1/patients/{patient_id}/sessions/{session_id}"): Case(PATIENT_WRITE),
    ("GET", "/v1/patients/{patient_id}/journal"): Case(PATIENT_READ),
    ("POST", "/v1/patients/{patient_id}/journal"): Case(PATIENT_WRITE, body=_entry),
    ("GET", "/v1/patients/{patient_id}/journal/{entry_id}"): Case(PATIENT_READ),
    ("PUT", "/v1/patients/{patient_id}/journal/{entry_id}"): Case(PATIENT_WRITE, body=_entry),
    ("PATCH", "/v1/patients/{patient_id}/journal/{entry_id}"): Case(
        PATIENT_WRITE, body=lambda w: {"mood": 3}
    ),
    ("DELETE", "/v1/patients/{patient_id}/journal/{entry_id}"): Case(PATIENT_WRITE),
    # data (ingest/trend engineer): all patient_reader
    ("GET", "/v1/patients/{patient_id}/beats"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/windows"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/daily"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/timeline"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/sessions/{session_id}/integration"): Case(PATIENT_READ),
    # research exports (export engineer)
    ("GET", "/v1/exports"): Case(
        RESEARCHER,
        query={"format": "csv", "start": "2026-01-01T00:00:00Z", "end": "2026-03-01T00:00:00Z"},
    ),
    ("GET", "/v1/cohort"): Case(RESEARCHER),
    ("GET", "/v1/cohort/preview"): Case(
        RESEARCHER, query={"format": "csv", "start": "2026-01-01", "end": "2026-02-28"}
    ),
    # questionnaires, safety alerts, reminders, mail (questionnaires engineer)
    ("GET", "/v1/instruments"): Case(ANY_USER),
    ("GET", "/v1/instruments/{instrument_id}"): Case(ANY_USER),
    ("POST", "/v1/patients/{patient_id}/responses"): Case(
        PATIENT_WRITE, body=lambda w: {"instrument": "gad7", "answers": [1, 0, 0, 0, 0, 0, 0]}
    ),
    ("GET", "/v1/patients/{patient_id}/responses"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/responses/{response_id}"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/questionnaires/due"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/questionnaires/change"): Case(PATIENT_READ),
    ("GET", "/v1/patients/{patient_id}/questionnaires/protocol"): Case(PATIENT_READ),
    ("PUT", "/v1/patients/{patient_id}/questionnaires/protocol"): Case(
        PATIENT_THERAPIST_WRITE, body=lambda w: {"template": "standard"}
    ),
    ("GET", "/v1/crisis-message"): Case(PUBLIC),
    ("GET", "/v1/patients/{patient_id}/safety-alerts"): Case(PATIENT_READ),
    ("POST", "/v1/patients/{patient_id}/safety-alerts/{alert_id}/acknowledge"): Case(
        PATIENT_THERAPIST_WRITE, body=lambda w: {"note": "called; safe"}
    ),
    ("GET", "/v1/patients/{patient_id}/notifications"): Case(PATIENT_READ),
    ("PUT", "/v1/patients/{patient_id}/notifications"): Case(
        PATIENT_SELF_WRITE,
        body=lambda w: {"questionnaire_reminders": True, "morning_reminders": False},
    ),
    ("GET", "/v1/mail/status"): Case(ADMIN),
    ("POST", "/v1/mail/outbox/{outbox_id}/retry"): Case(ADMIN, ok=frozenset({202})),
    ("POST", "/v1/mail/test"): Case(ADMIN, body=lambda w: {}, ok=frozenset({202})),
}

#: Tables whose content a refused request must leave exactly as it was.
GUARDED_TABLES = (
    "patients",
    "users",
    "therapist_assignments",
    "devices",
    "readings",
    "sessions",
    "journal_entries",
    "beats",
    "ingest_batches",
    "account_links",
    "questionnaire_responses",
    "questionnaire_protocols",
    "safety_alerts",
    "notification_settings",
    "mail_outbox",
)
_DIGEST_SQL = " UNION ALL ".join(
    f"SELECT '{t}' AS t, md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), '')) AS d "
    f"FROM {t} x"
    for t in GUARDED_TABLES
)


class World:
    """Two therapists with one patient each, both patients with logins, an admin, a researcher
    and a device of patient A; creates fresh records to aim each request at."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.conn = psycopg.connect(api.db_url, autocommit=True, row_factory=dict_row)
        self.headers: dict[str, dict[str, str]] = {"anonymous": {}}
        self.ids: dict[str, uuid.UUID] = {}
        self.emails: dict[str, str] = {}
        self.secret_name = "Secret-" + secrets.token_hex(6)
        self.patient_a = uuid.uuid4()
        self.pseudonym_a = ""

    async def build(self) -> None:
        for actor in ("admin", "therapist_a", "therapist_b", "researcher"):
            account = await self.api.account(actor.split("_")[0])
            self.headers[actor] = account.headers
            self.ids[actor] = account.id
            self.emails[actor] = account.email
        therapist_a = await self._as("therapist_a")
        self.patient_a = await self.api.patient(therapist_a, name=self.secret_name)
        self.pseudonym_a = self.one("SELECT pseudonym FROM patients WHERE id = %(p)s")["pseudonym"]
        patient_b = await self.api.patient(await self._as("therapist_b"), name="Other Person")
        for actor, pid in (("patient_a", self.patient_a), ("patient_b", patient_b)):
            account = await self.api.account("patient", patient_id=pid)
            self.headers[actor] = account.headers
            self.ids[actor] = account.id
        r = await self.api.client.post(
            f"/v1/patients/{self.patient_a}/devices", headers=self.headers["therapist_a"]
        )
        self.headers["device_a"] = {"Authorization": f"Bearer {r.json()['token']}"}
        self.ids["device_a"] = uuid.UUID(r.json()["device_id"])

    async def _as(self, actor: str) -> Any:
        from ..conftest import Account

        return Account(self.ids[actor], self.emails[actor], "therapist", self.headers[actor])

    def one(self, sql: str, **params: Any) -> dict[str, Any]:
        row = self.conn.execute(sql, {"p": self.patient_a, **params}).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return row

    def fresh_therapist(self) -> uuid.UUID:
        email = f"t-{uuid.uuid4().hex[:8]}@example.org"
        return self.one(
            "INSERT INTO users (email, password_hash, role) VALUES (%(e)s, 'x', 'therapist') "
            "RETURNING id",
            e=email,
        )["id"]

    def path_value(self, name: str) -> str:
        """A value for path parameter ``name``, pointing at (fresh) records of patient A."""
        if name == "patient_id":
            return str(self.patient_a)
        if name in {"session_id", "sid"}:
            return str(
                self.one(
                    "INSERT INTO sessions (patient_id, kind, started_at, note) "
                    "VALUES (%(p)s, 'medicine', '2026-01-10T09:00:00Z', %(n)s) RETURNING id",
                    n=self.secret_name,
                )["id"]
            )
        if name in {"entry_id", "eid"}:
            return str(
                self.one(
                    "INSERT INTO journal_entries (patient_id, at, text) "
                    "VALUES (%(p)s, '2026-01-11T09:00:00Z', %(n)s) RETURNING id",
                    n=self.secret_name,
                )["id"]
            )
        if name == "device_id":
            return str(
                self.one(
                    "INSERT INTO devices (patient_id, token_hash) VALUES (%(p)s, %(h)s) "
                    "RETURNING id",
                    h=secrets.token_bytes(32),
                )["id"]
            )
        if name == "reading_id":
            return str(
                self.one(
                    "INSERT INTO readings (id, patient_id, device_id, started_at, ended_at, "
                    "planned_s) VALUES (gen_random_uuid(), %(p)s, %(d)s, %(s)s, %(e)s, 300) "
                    "RETURNING id",
                    d=self.ids["device_a"],
                    s=_READING["started_at"],
                    e=_READING["ended_at"],
                )["id"]
            )
        if name == "user_id":
            return str(self.fresh_therapist())
        if name == "invite_id":
            return str(
                self.one(
                    "INSERT INTO account_links (purpose, token_hash, patient_id, email, expires_at) "
                    "VALUES ('invite', %(h)s, %(p)s, 'open@example.org', now() + interval '1 day') "
                    "RETURNING id",
                    h=secrets.token_bytes(32),
                )["id"]
            )
        if name == "therapist_id":
            therapist = self.fresh_therapist()
            self.one(
                "INSERT INTO therapist_assignments (therapist_id, patient_id) "
                "VALUES (%(t)s, %(p)s) RETURNING therapist_id",
                t=therapist,
            )
            return str(therapist)
        if name == "path":
            return "app.js"
        if name == "instrument_id":
            return "phq9"
        if name in {"response_id", "alert_id"}:
            response = self.one(
                "INSERT INTO questionnaire_responses (patient_id, instrument, instrument_version, at, "
                "answers, total, severity, source) VALUES (%(p)s, 'phq9', '1.0.0', now(), "
                "'{0,0,0,0,0,0,0,0,1}', 1, 'minimal', 'patient') RETURNING id"
            )["id"]
            if name == "response_id":
                return str(response)
            return str(
                self.one(
                    "INSERT INTO safety_alerts (patient_id, response_id, rules) "
                    "VALUES (%(p)s, %(r)s, '[]') RETURNING id",
                    r=response,
                )["id"]
            )
        if name == "outbox_id":
            return str(
                self.one(
                    "INSERT INTO mail_outbox (kind, to_address, subject, body, status) "
                    "VALUES ('test', 'admin@example.org', 's', 'b', 'failed') RETURNING id"
                )["id"]
            )
        if name == "name":  # /docs/assets/{name}
            return "swagger-ui.css"
        raise AssertionError(f"no factory for path parameter {name!r}: add one to World.path_value")

    def digest(self) -> dict[str, str]:
        return {r["t"]: r["d"] for r in self.conn.execute(_DIGEST_SQL).fetchall()}

    def audit_since(self, last_id: int) -> list[dict[str, Any]]:
        return self.conn.execute(
            "SELECT * FROM audit_log WHERE id > %(i)s ORDER BY id", {"i": last_id}
        ).fetchall()

    def last_audit_id(self) -> int:
        return int(
            self.conn.execute("SELECT coalesce(max(id), 0) AS m FROM audit_log").fetchone()["m"]
        )  # type: ignore[index]


@dataclass(frozen=True)
class AppRoute:
    method: str
    path: str
    dependant: Any  # fastapi Dependant, None for plain Starlette routes and mounts


def app_routes(app: Any) -> list[AppRoute]:
    """Every (method, path template) the app serves, routers included; mounts as ``MOUNT``.

    FastAPI >= 0.13x keeps included routers lazily (``iter_route_contexts`` flattens them).
    """
    flatten = getattr(fastapi.routing, "iter_route_contexts", None)
    entries: list[Any] = list(flatten(app.routes)) if flatten is not None else list(app.routes)
    found: list[AppRoute] = []
    for entry in entries:
        original = getattr(entry, "original_route", entry)
        path = str(getattr(entry, "path", None) or getattr(original, "path", "?"))
        if isinstance(original, Mount):
            found.append(AppRoute("MOUNT", path, None))
            continue
        if not isinstance(original, APIRoute | Route):
            found.append(AppRoute(type(original).__name__, path, None))
            continue
        dependant = getattr(entry, "dependant", None) or getattr(original, "dependant", None)
        for method in sorted(
            set(getattr(entry, "methods", None) or original.methods or ()) - {"HEAD"}
        ):
            found.append(
                AppRoute(method, path, dependant if isinstance(original, APIRoute) else None)
            )
    return found


def route_keys(app: Any) -> set[tuple[str, str]]:
    return {(r.method, r.path) for r in app_routes(app)}


def _calls(dependant: Any) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _path_params(template: str) -> list[str]:
    names = []
    for part in template.split("{")[1:]:
        names.append(part.split("}")[0].split(":")[0])
    return names


def _fill(template: str, world: World) -> str:
    path = template
    for part in template.split("{")[1:]:
        raw = part.split("}")[0]
        path = path.replace("{" + raw + "}", world.path_value(raw.split(":")[0]))
    return path


async def test_every_route_is_classified_and_guarded(api: Api) -> None:
    routes = app_routes(api.app)
    assert len(routes) > 30  # the enumeration itself works (routers included)
    unknown = sorted({(r.method, r.path) for r in routes} - set(ROUTES))
    assert not unknown, (
        f"routes missing from ROUTES in {__file__}: {unknown}; classify each with its rule"
    )
    for route in routes:
        if route.dependant is None:
            continue
        case = ROUTES[(route.method, route.path)]
        calls = _calls(route.dependant)
        where = f"{route.method} {route.path}"
        if case.rule in {PUBLIC, LOGIN}:
            assert current_user not in calls and require_device not in calls, where
        elif case.rule == DEVICE:
            assert require_device in calls, f"{where} lacks require_device"
        else:
            assert current_user in calls, f"{where} lacks a user rule"


async def test_every_role_against_every_route(api: Api) -> None:
    world = World(api)
    await world.build()
    failures: list[str] = []
    present = route_keys(api.app)
    for (method, template), case in sorted(ROUTES.items()):
        if (method, template) not in present:
            continue  # listed for a router that this app does not (yet) include
        allowed = RULE_ALLOWS[case.rule]
        for actor in ACTORS:
            path = _fill(template, world)
            kwargs: dict[str, Any] = {"params": case.query, "headers": world.headers[actor]}
            if case.body is not None:
                kwargs["json"] = case.body(world)
            if case.form is not None:
                kwargs["data"] = case.form(world)
            if case.files is not None:
                kwargs["files"] = case.files(world)
            before = world.digest() if actor not in allowed else {}
            last_audit = world.last_audit_id()
            r = await api.client.request(method, path, **kwargs)
            where = f"{actor} {method} {template} -> {r.status_code} {r.text[:160]}"
            new_audit = world.audit_since(last_audit)
            if actor in allowed:
                if r.status_code not in case.ok:
                    failures.append(f"should be allowed: {where}")
                    continue
                action = AUDITED_AS.get(case.rule)
                actor_id = world.ids.get(actor)
                if action is not None and not any(
                    a["patient_id"] == world.patient_a
                    and a["actor_id"] == actor_id
                    and a["action"] == action
                    and a["resource"] == f"{method} {template}"
                    for a in new_audit
                ):
                    failures.append(f"not audited as {action}: {where} (audit: {new_audit})")
                if case.rule == THERAPIST_OR_PATIENT and actor == "patient_a":
                    ids = [p["id"] for p in r.json()]
                    if ids != [str(world.patient_a)]:
                        failures.append(f"patient sees others: {where}")
                    if not any(a["patient_id"] == world.patient_a for a in new_audit):
                        failures.append(f"listing not audited: {where}")
                if (
                    case.rule == THERAPIST_OR_PATIENT
                    and actor in {"therapist_b", "patient_b"}
                    and (str(world.patient_a) in r.text or world.secret_name in r.text)
                ):
                    failures.append(f"patient A leaked to {where}")
                continue
            # refused: the right status, nothing leaked, nothing written
            expected = {401} if actor in {"anonymous"} or case.rule == DEVICE else {401, 403, 404}
            if actor == "device_a":
                expected = {401}
            if r.status_code not in expected:
                failures.append(f"should be refused with {sorted(expected)}: {where}")
            for secret in (world.secret_name, world.pseudonym_a):
                if secret in r.text:
                    failures.append(f"leaked {secret!r}: {where}")
            after = world.digest()
            changed = [t for t in GUARDED_TABLES if before[t] != after[t]]
            if changed:
                failures.append(f"refused request changed {changed}: {where}")
            if (
                case.rule in AUDITED_AS
                and case.rule != DEVICE
                and actor in USERS
                and not any(
                    a["action"] == "denied" and a["patient_id"] == world.patient_a
                    for a in new_audit
                )
            ):
                failures.append(f"refusal not audited: {where}")
            try:
                body = r.json()
            except json.JSONDecodeError:
                failures.append(f"refusal is not JSON: {where}")
                continue
            if set(body) != {"error"} or not body["error"].get("message"):
                failures.append(f"refusal lacks the error body: {where}")
    world.conn.close()
    assert not failures, "\n".join(failures)

"""Login, throttling, tokens, accounts, assignments and the `somatrace user create` command."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import jwt

from api.auth.tokens import issue_access_token

from ..conftest import PASSWORD, Api


async def test_login_gives_a_bearer_token_that_identifies_the_account(api: Api) -> None:
    admin = await api.account("admin")
    r = await api.client.post(
        "/v1/auth/token", data={"username": admin.email.upper(), "password": PASSWORD}
    )
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == api.app.state.settings.access_token_ttl_s
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(admin.id) and claims["role"] == "admin"
    me = await api.client.get(
        "/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200 and me.json()["email"] == admin.email


async def test_wrong_password_and_unknown_account_answer_the_same_401(api: Api) -> None:
    admin = await api.account("admin")
    wrong = await api.client.post(
        "/v1/auth/token", data={"username": admin.email, "password": "not the password"}
    )
    unknown = await api.client.post(
        "/v1/auth/token", data={"username": "nobody@example.org", "password": PASSWORD}
    )
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.json()["error"]["message"] == "wrong email or password"


async def test_repeated_failures_are_throttled_with_retry_after(api: Api) -> None:
    victim = await api.account("therapist")
    bystander = await api.account("therapist")
    for _ in range(5):
        r = await api.client.post(
            "/v1/auth/token", data={"username": victim.email, "password": "guess-guess"}
        )
        assert r.status_code == 401
    r = await api.client.post(
        "/v1/auth/token", data={"username": victim.email, "password": PASSWORD}
    )
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "too_many_requests"
    # another account from the same address is not locked out by the first one's failures
    await api.login(bystander.email)


async def test_address_throttle_stops_spraying_many_accounts(api: Api) -> None:
    for i in range(20):
        r = await api.client.post(
            "/v1/auth/token", data={"username": f"user{i}@example.org", "password": "x" * 12}
        )
        assert r.status_code == 401
    r = await api.client.post(
        "/v1/auth/token", data={"username": "user99@example.org", "password": "x" * 12}
    )
    assert r.status_code == 429
    assert r.json()["error"]["fields"]["scope"] == "address"


async def test_expired_forged_and_malformed_tokens_are_refused(api: Api) -> None:
    admin = await api.account("admin")
    secret = api.app.state.signing_secret
    expired = issue_access_token(secret, admin.id, "admin", 60, now_s=time.time() - 3600)
    forged = issue_access_token("another-secret-" + "y" * 40, admin.id, "admin", 600)
    for token in (expired, forged, "not-a-jwt"):
        r = await api.client.get("/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
        assert r.headers["WWW-Authenticate"] == "Bearer"
    r = await api.client.get("/v1/users/me", headers={"Authorization": f"Bearer {expired}"})
    assert "expired" in r.json()["error"]["message"]


async def test_admin_creates_staff_accounts_with_argon2id_hashes(api: Api) -> None:
    admin = await api.account("admin")
    r = await api.client.post(
        "/v1/users",
        json={"email": "Dr.Who@Example.org", "password": "a-long-password", "role": "therapist"},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    stored = api.sql("SELECT password_hash FROM users WHERE id = %(id)s", {"id": r.json()["id"]})
    assert stored[0]["password_hash"].startswith("$argon2id$")
    await api.login("dr.who@example.org", "a-long-password")
    dup = await api.client.post(
        "/v1/users",
        json={"email": "dr.who@EXAMPLE.org", "password": "a-long-password", "role": "researcher"},
        headers=admin.headers,
    )
    assert dup.status_code == 409
    for bad in (
        {"email": "x@example.org", "password": "a-long-password", "role": "patient"},
        {"email": "no-at-sign", "password": "a-long-password", "role": "therapist"},
        {"email": "y@example.org", "password": "short", "role": "therapist"},
    ):
        r = await api.client.post("/v1/users", json=bad, headers=admin.headers)
        assert r.status_code == 422, bad
        assert r.json()["error"]["code"] == "invalid_input"
    listed = await api.client.get("/v1/users?role=therapist", headers=admin.headers)
    assert [u["email"] for u in listed.json()] == ["Dr.Who@Example.org"]


async def test_disabled_account_loses_access_at_once(api: Api) -> None:
    admin = await api.account("admin")
    therapist = await api.account("therapist")
    assert (await api.client.get("/v1/users/me", headers=therapist.headers)).status_code == 200
    r = await api.client.delete(f"/v1/users/{therapist.id}", headers=admin.headers)
    assert r.status_code == 204
    assert (await api.client.get("/v1/users/me", headers=therapist.headers)).status_code == 401
    r = await api.client.post(
        "/v1/auth/token", data={"username": therapist.email, "password": PASSWORD}
    )
    assert r.status_code == 401
    assert (
        await api.client.delete(f"/v1/users/{admin.id}", headers=admin.headers)
    ).status_code == 409
    missing = await api.client.delete(f"/v1/users/{uuid.uuid4()}", headers=admin.headers)
    assert missing.status_code == 404


async def test_assignments_grant_and_revoke_a_therapists_access(api: Api) -> None:
    admin = await api.account("admin")
    first = await api.account("therapist")
    second = await api.account("therapist")
    patient_id = await api.patient(first, name="Robin Example")
    url = f"/v1/patients/{patient_id}"
    assert (await api.client.get(url, headers=second.headers)).status_code == 404
    r = await api.client.post(
        "/v1/assignments",
        json={"therapist_id": str(second.id), "patient_id": str(patient_id)},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    assert (await api.client.get(url, headers=second.headers)).status_code == 200
    listed = await api.client.get(f"/v1/assignments?patient_id={patient_id}", headers=admin.headers)
    assert {a["therapist_id"] for a in listed.json()} == {str(first.id), str(second.id)}
    assert "Robin" not in listed.text  # pseudonyms only, never the name
    r = await api.client.delete(f"/v1/assignments/{second.id}/{patient_id}", headers=admin.headers)
    assert r.status_code == 204
    assert (await api.client.get(url, headers=second.headers)).status_code == 404
    assert len(api.audit_rows(action="assign", patient_id=patient_id)) == 1
    assert len(api.audit_rows(action="unassign", patient_id=patient_id)) == 1
    # a patient or a researcher cannot be assigned as a therapist; unknown patients neither
    researcher = await api.account("researcher")
    for therapist_id, pid in ((researcher.id, patient_id), (first.id, uuid.uuid4())):
        r = await api.client.post(
            "/v1/assignments",
            json={"therapist_id": str(therapist_id), "patient_id": str(pid)},
            headers=admin.headers,
        )
        assert r.status_code == 404


def _somatrace(
    db_url: str, tmp_path: Path, *args: str, stdin: str
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "SOMATRACE_DATABASE_URL": db_url,
        "SOMATRACE_DATA_DIR": str(tmp_path),
    }
    exe = Path(os.sys.executable).parent / "somatrace"  # type: ignore[attr-defined]
    return subprocess.run(
        [str(exe), *args], input=stdin, capture_output=True, text=True, env=env, check=False
    )


async def test_cli_creates_the_first_admin_who_can_log_in(api: Api, tmp_path: Path) -> None:
    done = _somatrace(
        api.db_url,
        tmp_path,
        "user", "create", "--email", "root@clinic.example", "--role", "admin", "--password-stdin",
        stdin="first-admin-password\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "created admin root@clinic.example" in done.stdout
    await api.login("root@clinic.example", "first-admin-password")
    for args, message in (
        (("--email", "bad", "--role", "admin"), "not an email address"),
        (("--email", "a@clinic.example", "--role", "boss"), "is not one of"),
        (("--email", "root@clinic.example", "--role", "admin"), "already exists"),
    ):
        failed = _somatrace(
            api.db_url, tmp_path, "user", "create", *args, "--password-stdin",
            stdin="another-password\n",
        )  # fmt: skip
        assert failed.returncode == 1
        lines = failed.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], failed.stderr

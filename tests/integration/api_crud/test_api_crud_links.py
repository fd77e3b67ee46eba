"""One-time account links: a patient's invitation works once and expires, only its hash is stored, a new
one withdraws the old; setup and reset links set passwords; deactivation and password changes end every
earlier session of the account."""

from __future__ import annotations

import hashlib
import re
import uuid

import httpx

from ..conftest import PASSWORD, Api

GOOD = "violet harbour tram 7 lanterns"


def _token(path: str) -> str:
    match = re.fullmatch(r"/#/(?:invite|password)/(stlink_[A-Za-z0-9_-]{43})", path)
    assert match, path
    return match.group(1)


async def _redeem(
    api: Api, token: str, password: str = GOOD, confirm: str | None = None
) -> httpx.Response:
    return await api.client.post(
        "/v1/links/redeem",
        json={"token": token, "password": password, "password_confirm": confirm or password},
    )


async def test_an_invitation_works_once_is_stored_hashed_and_signs_the_patient_in(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist, name="Robin Invitee")
    r = await api.client.post(
        f"/v1/patients/{patient_id}/invites",
        json={"email": " robin@example.org "},
        headers=therapist.headers,
    )
    assert r.status_code == 201, r.text
    created = r.json()
    token = _token(created["link"]["path"])
    assert created["email"] == "robin@example.org"
    assert created["link"]["url"].endswith(created["link"]["path"])
    stored = api.sql(
        "SELECT token_hash, email FROM account_links WHERE id = %(i)s", {"i": created["id"]}
    )
    assert bytes(stored[0]["token_hash"]) == hashlib.sha256(token.encode()).digest()
    everything = str(api.sql("SELECT * FROM account_links")) + str(
        api.sql("SELECT * FROM audit_log")
    )
    assert token not in everything and token[7:] not in everything

    check = await api.client.post("/v1/links/check", json={"token": token})
    assert check.status_code == 200
    assert check.json()["purpose"] == "invite" and check.json()["email"] == "robin@example.org"

    # the new password is checked with the same rules and words as the browser's form
    weak = await _redeem(api, token, "robin12345")
    assert weak.status_code == 422
    assert weak.json()["error"]["fields"]["errors"][0]["loc"] == ["body", "password"]
    differ = await _redeem(api, token, GOOD, GOOD + "!")
    assert differ.status_code == 422
    assert (
        differ.json()["error"]["fields"]["errors"][0]["msg"]
        == "The two passwords are not the same."
    )

    ok = await _redeem(api, token)
    assert ok.status_code == 200, ok.text
    signed_in = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    me = await api.client.get("/v1/users/me", headers=signed_in)
    assert me.json()["role"] == "patient" and me.json()["patient_id"] == str(patient_id)
    assert (await api.login("robin@example.org", GOOD))["Authorization"].startswith("Bearer ")

    again = await _redeem(api, token)
    assert again.status_code == 410
    assert again.json()["error"]["fields"]["reason"] == "used"
    assert "already been used" in again.json()["error"]["message"]
    assert (await api.client.post("/v1/links/check", json={"token": token})).status_code == 410
    listed = await api.client.get(f"/v1/patients/{patient_id}/invites", headers=therapist.headers)
    assert [i["state"] for i in listed.json()] == ["accepted"]
    actions = [a["action"] for a in api.audit_rows(patient_id=patient_id)]
    assert "invite" in actions and "accept_invite" in actions
    # a patient with a login cannot be invited again
    r = await api.client.post(
        f"/v1/patients/{patient_id}/invites",
        json={"email": "other@example.org"},
        headers=therapist.headers,
    )
    assert r.status_code == 409


async def test_an_invitation_expires_and_a_new_one_or_withdrawal_ends_the_old(api: Api) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist)
    url = f"/v1/patients/{patient_id}/invites"

    async def invite(email: str) -> tuple[str, str]:
        r = await api.client.post(url, json={"email": email}, headers=therapist.headers)
        assert r.status_code == 201, r.text
        return r.json()["id"], _token(r.json()["link"]["path"])

    first_id, first = await invite("a@example.org")
    second_id, second = await invite("b@example.org")
    r = await api.client.post("/v1/links/check", json={"token": first})
    assert r.status_code == 410 and r.json()["error"]["fields"]["reason"] == "revoked"
    # expiry: the link's time is up
    api.sql(
        "UPDATE account_links SET created_at = now() - interval '4 days', "
        "expires_at = now() - interval '1 minute' WHERE id = %(i)s",
        {"i": second_id},
    )
    r = await _redeem(api, second)
    assert r.status_code == 410 and r.json()["error"]["fields"]["reason"] == "expired"
    assert "expired" in r.json()["error"]["message"]
    assert (
        api.sql("SELECT count(*) AS n FROM users WHERE patient_id = %(p)s", {"p": patient_id})[0][
            "n"
        ]
        == 0
    )
    # withdrawal
    third_id, third = await invite("c@example.org")
    assert (
        await api.client.delete(f"{url}/{third_id}", headers=therapist.headers)
    ).status_code == 204
    assert (  # idempotent, like revoking a strap
        await api.client.delete(f"{url}/{third_id}", headers=therapist.headers)
    ).status_code == 204
    assert (
        await api.client.delete(f"{url}/{uuid.uuid4()}", headers=therapist.headers)
    ).status_code == 404
    r = await api.client.post("/v1/links/check", json={"token": third})
    assert r.status_code == 410
    states = {
        i["id"]: i["state"] for i in (await api.client.get(url, headers=therapist.headers)).json()
    }
    assert states == {first_id: "withdrawn", second_id: "expired", third_id: "withdrawn"}
    # an unknown or malformed token says so, without a server error
    for token in ("stlink_" + "A" * 43, "nonsense", ""):
        r = await api.client.post("/v1/links/check", json={"token": token})
        assert r.status_code == 410 and r.json()["error"]["fields"]["reason"] == "unknown"


async def test_staff_set_their_own_first_password_and_resets_end_other_sessions(api: Api) -> None:
    admin = await api.account("admin")
    r = await api.client.post(
        "/v1/users",
        json={"email": "new.therapist@example.org", "display_name": "Dr. New", "role": "therapist"},
        headers=admin.headers,
    )
    assert r.status_code == 201, r.text
    user = r.json()
    assert user["password_set"] is False and user["setup_link"]["purpose"] == "setup"
    login = await api.client.post(
        "/v1/auth/token", data={"username": "new.therapist@example.org", "password": GOOD}
    )
    assert login.status_code == 401  # no password until the link is used
    ok = await _redeem(api, _token(user["setup_link"]["path"]))
    assert ok.status_code == 200 and ok.json()["role"] == "therapist"
    first_session = await api.login("new.therapist@example.org", GOOD)
    assert (await api.client.get("/v1/users/me", headers=first_session)).status_code == 200

    # a reset link: the old password works until it is used; using it ends every other session
    r = await api.client.post(f"/v1/users/{user['id']}/password-link", headers=admin.headers)
    assert r.status_code == 201 and r.json()["purpose"] == "reset"
    assert (await api.client.get("/v1/users/me", headers=first_session)).status_code == 200
    new_password = "seven quiet ferries at dawn"
    ok = await _redeem(api, _token(r.json()["path"]), new_password)
    assert ok.status_code == 200
    ended = await api.client.get("/v1/users/me", headers=first_session)
    assert ended.status_code == 401 and "ended" in ended.json()["error"]["message"]
    fresh = {"Authorization": f"Bearer {ok.json()['access_token']}"}
    assert (await api.client.get("/v1/users/me", headers=fresh)).status_code == 200
    old = await api.client.post(
        "/v1/auth/token", data={"username": "new.therapist@example.org", "password": GOOD}
    )
    assert old.status_code == 401
    actions = [a["action"] for a in api.audit_rows(actor_id=admin.id)]
    assert "create_user" in actions and "password_link" in actions


async def test_deactivation_ends_sessions_and_links_and_reactivation_lets_them_sign_in(
    api: Api,
) -> None:
    admin = await api.account("admin")
    therapist = await api.account("therapist")
    link = await api.client.post(f"/v1/users/{therapist.id}/password-link", headers=admin.headers)
    token = _token(link.json()["path"])
    assert (
        await api.client.delete(f"/v1/users/{therapist.id}", headers=admin.headers)
    ).status_code == 204
    assert (await api.client.get("/v1/users/me", headers=therapist.headers)).status_code == 401
    r = await api.client.post(
        "/v1/auth/token", data={"username": therapist.email, "password": PASSWORD}
    )
    assert r.status_code == 401
    assert (await api.client.post("/v1/links/check", json={"token": token})).status_code == 410
    link = await api.client.post(f"/v1/users/{therapist.id}/password-link", headers=admin.headers)
    assert link.status_code == 409
    r = await api.client.post(f"/v1/users/{therapist.id}/reactivate", headers=admin.headers)
    assert r.status_code == 200 and r.json()["disabled_at"] is None
    assert (await api.client.get("/v1/users/me", headers=therapist.headers)).status_code == 401
    again = await api.login(therapist.email)
    assert (await api.client.get("/v1/users/me", headers=again)).status_code == 200
    # an admin cannot deactivate themself, nor the last active admin
    assert (
        await api.client.delete(f"/v1/users/{admin.id}", headers=admin.headers)
    ).status_code == 409
    other = await api.account("admin")
    assert (
        await api.client.delete(f"/v1/users/{other.id}", headers=admin.headers)
    ).status_code == 204
    actions = [a["action"] for a in api.audit_rows(actor_id=admin.id)]
    assert actions.count("deactivate") == 2 and "reactivate" in actions


async def test_a_therapist_makes_a_password_link_for_their_patient_never_seeing_the_password(
    api: Api,
) -> None:
    therapist = await api.account("therapist")
    patient_id = await api.patient(therapist)
    base = f"/v1/patients/{patient_id}/account"
    r = await api.client.get(base, headers=therapist.headers)
    assert r.json() == {"has_login": False, "email": None, "created_at": None, "disabled_at": None}
    assert (
        await api.client.post(f"{base}/password-link", headers=therapist.headers)
    ).status_code == 409
    patient = await api.account("patient", patient_id=patient_id)
    r = await api.client.get(base, headers=therapist.headers)
    assert r.json()["has_login"] is True and r.json()["email"] == patient.email
    r = await api.client.post(f"{base}/password-link", headers=therapist.headers)
    assert r.status_code == 201 and "password" not in r.text.replace("#/password/", "")
    ok = await _redeem(api, _token(r.json()["path"]))
    assert ok.status_code == 200 and ok.json()["role"] == "patient"
    # the email of an existing account cannot be invited
    other = await api.patient(therapist)
    r = await api.client.post(
        f"/v1/patients/{other}/invites", json={"email": patient.email}, headers=therapist.headers
    )
    assert r.status_code == 409
    assert r.json()["error"]["fields"]["errors"][0]["loc"] == ["body", "email"]
    assert uuid.UUID(str(patient_id))

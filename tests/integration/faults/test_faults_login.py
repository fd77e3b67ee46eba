"""Logins under attack (issue 14 findings 7, 9, 10): failed and throttled attempts are audited,
throttling backs off instead of locking the owner out, API replicas share it (it lives in
PostgreSQL), and a forged X-Forwarded-For neither dodges it nor reaches the audit log."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.server import uvicorn_options
from api.settings import Settings

from ..conftest import PASSWORD, Api, free_port
from .conftest import SECRET

LOGIN = "/v1/auth/token"
RESOURCE = "POST /v1/auth/token"


def _client(app: object, addr: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(addr, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def _try(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, data={"username": email, "password": password})


async def test_failed_and_throttled_logins_are_audited(api: Api) -> None:
    victim = await api.account("therapist")
    for _ in range(5):
        assert (await _try(api.client, victim.email, "wrong-guess-1")).status_code == 401
    throttled = await _try(api.client, victim.email, "wrong-guess-2")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert (await _try(api.client, "nobody@example.org", "whatever-1")).status_code == 401
    failed = api.audit_rows(action="login_failed")
    assert len(failed) == 6
    assert {r["actor_id"] for r in failed[:5]} == {victim.id}
    assert failed[0]["detail"]["reason"] == "wrong_password"
    assert failed[0]["client_addr"] == "203.0.113.7" and failed[0]["resource"] == RESOURCE
    assert failed[-1]["actor_id"] is None and failed[-1]["detail"]["reason"] == "unknown_account"
    assert failed[-1]["detail"]["email"] == "nobody@example.org"
    [row] = api.audit_rows(action="login_throttled")
    assert row["actor_id"] == victim.id and row["detail"]["scope"] == "pair"
    assert row["detail"]["retry_after_s"] >= 1
    assert len(api.audit_rows(action="login")) >= 1  # the fixture's own logins


async def test_an_attacker_never_locks_the_owner_out(api: Api) -> None:
    owner = await api.account("therapist")  # logged in once from CLIENT_ADDR: a known address
    # a guesser spread over many addresses: 40 failures, well past every per-account limit
    for i in range(40):
        async with _client(api.app, f"198.51.100.{i + 1}") as attacker:
            r = await _try(attacker, owner.email, f"guess-{i:03d}-x")
            assert r.status_code in (401, 429)
    # the owner, from their usual address, with the right password: straight in
    r = await _try(api.client, owner.email, PASSWORD)
    assert r.status_code == 200, r.text
    # a stranger's address is slowed (backing off), not locked for a fixed time
    async with _client(api.app, "192.0.2.200") as stranger:
        r = await _try(stranger, owner.email, PASSWORD)
    assert r.status_code == 429 and r.json()["error"]["fields"]["scope"] == "account"


async def test_throttling_backs_off_and_the_right_password_works_after_the_wait(api: Api) -> None:
    user = await api.account("therapist")
    for _ in range(5):
        assert (await _try(api.client, user.email, "not-it-at-all")).status_code == 401
    r = await _try(api.client, user.email, PASSWORD)
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 2  # the first step of the back-off, not a 15-minute lock
    # move the clock on by ageing the counters (the database's clock is the throttle's)
    api.sql("UPDATE login_throttle SET last_failure_at = last_failure_at - interval '3 seconds'")
    r = await _try(api.client, user.email, PASSWORD)
    assert r.status_code == 200, r.text


async def test_replicas_share_the_counters(db_url: str, tmp_path: Path, api: Api) -> None:
    user = await api.account("therapist")
    settings = Settings(
        secret_key=SECRET,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
        _env_file=None,
    )
    other = create_app(settings, db_url)  # a second API process on the same database
    async with other.router.lifespan_context(other), _client(other, "203.0.113.7") as replica:
        for i in range(6):  # alternate replicas: each sees only 3 of the failures in its memory
            client = api.client if i % 2 else replica
            assert (await _try(client, user.email, "no-no-no-no")).status_code == 401 or i == 5
        r1 = await _try(api.client, user.email, "no-no-no-no")
        r2 = await _try(replica, user.email, "no-no-no-no")
    assert r1.status_code == 429 and r2.status_code == 429


@pytest.fixture
async def uvicorn_url(db_url: str, tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    """The app under uvicorn as ``somatrace serve`` runs it (api.server's options), on loopback."""
    settings = Settings(
        secret_key=SECRET,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
        _env_file=None,
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings, db_url), host="127.0.0.1", port=port, **uvicorn_options(settings)
    )
    server = uvicorn.Server(config)
    import asyncio

    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", db_url
    finally:
        server.should_exit = True
        await task


async def test_a_rotated_x_forwarded_for_from_loopback_is_not_believed(
    uvicorn_url: tuple[str, str], api: Api
) -> None:
    url, _ = uvicorn_url
    email = f"victim-{uuid.uuid4().hex[:6]}@example.org"
    statuses = []
    async with httpx.AsyncClient(base_url=url) as http:
        for i in range(30):
            r = await http.post(
                LOGIN,
                data={"username": email, "password": "rotating-guess"},
                headers={"X-Forwarded-For": f"10.9.{i}.{i}"},
            )
            statuses.append(r.status_code)
    assert 429 in statuses  # before: 30 × 401, the limit never applied
    addresses = {r["client_addr"] for r in api.audit_rows(action="login_failed")}
    assert addresses == {"127.0.0.1"}  # no forged address in the audit log


def test_forwarded_headers_are_believed_from_configured_proxies_only() -> None:
    from api.proxies import forwarded_client
    from api.settings import Settings

    trusted = Settings(trusted_proxies="10.0.0.0/8", _env_file=None).trusted_proxies
    assert forwarded_client("192.0.2.5", ["6.6.6.6"], trusted) == "192.0.2.5"  # not a proxy
    assert forwarded_client("10.0.0.2", ["203.0.113.9"], trusted) == "203.0.113.9"
    # a client-written entry left of the proxy's is never believed
    assert forwarded_client("10.0.0.2", ["6.6.6.6, 203.0.113.9"], trusted) == "203.0.113.9"
    assert forwarded_client("10.0.0.2", ["203.0.113.9, 10.0.0.7"], trusted) == "203.0.113.9"
    assert forwarded_client("10.0.0.2", ["junk"], trusted) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", [], []) == "10.0.0.2"


async def test_a_trusted_proxy_forwards_the_client_address_and_https(
    db_url: str, tmp_path: Path, api: Api
) -> None:
    settings = Settings(
        secret_key=SECRET,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
        trusted_proxies="127.0.0.1",
        _env_file=None,
    )
    proxied = create_app(settings, db_url)
    async with proxied.router.lifespan_context(proxied), _client(proxied, "127.0.0.1") as http:
        r = await http.post(
            LOGIN,
            data={"username": "ghost@example.org", "password": "some-guess-1"},
            headers={"X-Forwarded-For": "6.6.6.6, 203.0.113.50", "X-Forwarded-Proto": "https"},
        )
    assert r.status_code == 401
    assert "strict-transport-security" in r.headers  # the proxy said the client used HTTPS
    [row] = [
        x
        for x in api.audit_rows(action="login_failed")
        if x["detail"]["email"] == "ghost@example.org"
    ]
    assert row["client_addr"] == "203.0.113.50"

"""Every answer is the error envelope with the security headers, 500 included (issue 14 findings 4, 5,
12): out-of-range dates, invalid JSON, methods a path does not serve, and an unexpected exception."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.settings import Settings

from ..conftest import Api, serve_in_thread

SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
)


def assert_envelope(r: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    for name in SECURITY_HEADERS:
        assert name in r.headers, f"{name} missing on {status}"
    error = r.json()["error"]
    assert set(error) == {"code", "message", "fields"} and error["message"]
    if code is not None:
        assert error["code"] == code
    return dict(error)


@pytest.mark.parametrize("route", ["beats", "windows", "daily", "timeline"])
@pytest.mark.parametrize(
    "query",
    [
        {"end": "0001-01-01T00:00:00Z"},  # OverflowError in resolve_range before the fix
        {"start": "0001-06-01T00:00:00Z", "end": "0001-06-02T00:00:00Z"},  # a "BC" date, 200
        {"start": "1969-12-31T00:00:00Z", "end": "1970-01-01T12:00:00Z"},
        {"end": "2101-01-01T00:00:00Z"},
        {"start": "9999-12-31T00:00:00"},
    ],
)
async def test_data_routes_refuse_dates_outside_1970_2100(
    api: Api, route: str, query: dict[str, str]
) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    r = await api.client.get(f"/v1/patients/{pid}/{route}", params=query, headers=therapist.headers)
    error = assert_envelope(r, 422, "invalid_input")
    assert "1970" in str(error["fields"]["errors"])


async def test_data_routes_accept_the_edges_of_the_range(api: Api) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    r = await api.client.get(
        f"/v1/patients/{pid}/daily",
        params={"start": "1970-01-01T00:00:00Z", "end": "1971-01-01T00:00:00"},
        headers=therapist.headers,
    )
    assert r.status_code == 200, r.text


async def test_invalid_json_is_400_as_documented(api: Api) -> None:
    therapist = await api.account("therapist")
    r = await api.client.post(
        "/v1/patients",
        content=b'{"display_name": "Alex",',
        headers={**therapist.headers, "Content-Type": "application/json"},
    )
    assert_envelope(r, 400, "malformed_request")


async def test_405_lists_every_method_the_path_serves(api: Api) -> None:
    therapist = await api.account("therapist")
    pid = await api.patient(therapist)
    r = await api.client.post(
        "/v1/patients/00000000-0000-0000-0000-000000000000/sessions/"
        "00000000-0000-0000-0000-000000000001",
        headers=therapist.headers,
    )
    assert_envelope(r, 405, "method_not_allowed")
    allowed = {m.strip() for m in r.headers["allow"].split(",")}
    assert {"GET", "PUT", "PATCH", "DELETE"} <= allowed  # before: only the first route's method
    r = await api.client.put(f"/v1/patients/{pid}/journal", headers=therapist.headers)
    assert {m.strip() for m in r.headers["allow"].split(",")} >= {"GET", "POST"}


def test_an_unexpected_exception_is_a_500_envelope_and_the_connection_stays_usable(
    db_url: str, tmp_path: Any
) -> None:
    settings = Settings(
        secret_key="faults-http-signing-key-" + uuid.uuid4().hex,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
        _env_file=None,
    )
    app = create_app(settings, db_url)

    async def explode() -> None:
        raise RuntimeError("boom: a bug nobody handled")

    app.add_api_route("/v1/explode", explode, methods=["GET"])
    with serve_in_thread(app) as url, httpx.Client(base_url=url) as http:
        r = http.get("/v1/explode")
        error = assert_envelope(r, 500, "internal_error")
        assert "boom" not in error["message"]  # no internals leak
        assert r.headers["cache-control"] == "no-store"
        # the same keep-alive connection answers the next request (it used to be reset)
        again = http.get("/healthz")
        assert again.status_code == 200
        assert http.get("/v1/explode").status_code == 500

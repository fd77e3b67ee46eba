"""Security headers and the body size limit as plain ASGI, on a tiny app (no database)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request

from api.middleware import MAX_BODY_BYTES, MAX_INGEST_BODY_BYTES, install_middleware


def _app() -> FastAPI:
    app = FastAPI()
    install_middleware(app)

    @app.post("/v1/echo")
    async def echo(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.post("/v1/ingest/beats")
    async def ingest(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @app.get("/page")
    async def page() -> dict[str, str]:
        return {"ok": "yes"}

    return app


async def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=_app()), base_url="http://t")


async def test_headers_on_api_and_other_responses() -> None:
    async with await _client() as client:
        api = await client.post("/v1/echo", content=b"{}")
        page = await client.get("/page")
    for r in (api, page):
        assert r.headers["content-security-policy"].startswith("default-src 'self'")
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["x-frame-options"] == "DENY"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert "access-control-allow-origin" not in r.headers
        assert "strict-transport-security" not in r.headers  # plain http
    assert api.headers["cache-control"] == "no-store"
    assert "cache-control" not in page.headers


async def test_declared_and_streamed_bodies_over_the_limit_get_413() -> None:
    async with await _client() as client:
        ok = await client.post("/v1/echo", content=b"x" * MAX_BODY_BYTES)
        assert ok.status_code == 200 and ok.json() == {"bytes": MAX_BODY_BYTES}
        declared = await client.post("/v1/echo", content=b"x" * (MAX_BODY_BYTES + 1))
        assert declared.status_code == 413
        assert declared.json()["error"]["fields"]["limit_bytes"] == MAX_BODY_BYTES
        assert declared.headers["x-frame-options"] == "DENY"

        async def chunks(total: int):  # type: ignore[no-untyped-def]
            sent = 0
            while sent < total:
                size = min(65536, total - sent)
                sent += size
                yield b"y" * size

        streamed = await client.post("/v1/echo", content=chunks(MAX_BODY_BYTES + 10))
        assert streamed.status_code == 413
        small_stream = await client.post("/v1/echo", content=chunks(1000))
        assert small_stream.status_code == 200 and small_stream.json() == {"bytes": 1000}
        ingest = await client.post("/v1/ingest/beats", content=b"z" * (MAX_BODY_BYTES + 1))
        assert ingest.status_code == 200
        too_big = await client.post("/v1/ingest/beats", content=b"z" * (MAX_INGEST_BODY_BYTES + 1))
        assert too_big.status_code == 413

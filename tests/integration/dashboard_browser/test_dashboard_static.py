"""The dashboard's static files over HTTP (the real app over ASGI): types, CSP-compatible markup,
vendored uPlot with its licence, and no way out of the static directory."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.errors import NotFound
from api.routes.dashboard import STATIC_DIR, resolve_static
from api.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
async def client(db_url: str, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        secret_key="dashboard-static-signing-key-" + "s" * 32,
        database_url=db_url,
        data_dir=tmp_path,
        worker_in_process=False,
    )
    app = create_app(settings, db_url)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://dashboard.test"
    ) as c:
        yield c


async def test_index_and_assets_are_served_with_their_types(client: httpx.AsyncClient) -> None:
    index = await client.get("/")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    for path, kind in (
        ("/static/js/main.js", "text/javascript"),
        ("/static/js/views/timeline.js", "text/javascript"),
        ("/static/css/app.css", "text/css"),
        ("/static/vendor/uplot/uPlot.esm.js", "text/javascript"),
        ("/static/vendor/uplot/uPlot.min.css", "text/css"),
        ("/static/favicon.svg", "image/svg+xml"),
    ):
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith(kind), (path, r.headers["content-type"])
    licence = await client.get("/static/vendor/uplot/LICENSE")
    assert licence.status_code == 200 and "MIT" in licence.text


async def test_markup_has_no_inline_script_or_style(client: httpx.AsyncClient) -> None:
    """The API's CSP (default-src 'self') blocks inline code: the page must not depend on any."""
    html = (await client.get("/")).text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None
    assert " style=" not in html and "<style" not in html
    assert re.search(r"\son[a-z]+=", html) is None
    assert "http://" not in html and "https://" not in html  # nothing from a CDN


@pytest.mark.parametrize(
    "path",
    [
        "/static/../app.py",
        "/static/%2e%2e/app.py",
        "/static/js/../../app.py",
        "/static/.hidden",
        "/static/js/missing.js",
        "/static/",
    ],
)
async def test_paths_outside_the_static_dir_are_not_found(
    client: httpx.AsyncClient, path: str
) -> None:
    r = await client.get(path)
    assert r.status_code == 404
    assert "error" in r.json()


def test_resolve_static_refuses_traversal() -> None:
    assert resolve_static("js/main.js") == (STATIC_DIR / "js" / "main.js").resolve()
    for bad in ("../app.py", "js/../../app.py", "/etc/passwd", "js//main.js", "a\\b", "x" * 500):
        with pytest.raises(NotFound):
            resolve_static(bad)

"""``/docs`` (Swagger UI) and ``/redoc`` (Redoc): FastAPI's interactive API pages, served offline.

The Swagger UI and Redoc bundles come from the ``fastapi-offline`` package (MIT; it ships the
upstream builds of swagger-ui-dist, Apache-2.0, and redoc, MIT); Swagger UI starts from
``/static/docs/swagger-init.js``, so neither page needs an inline script.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse

from api.errors import NotFound
from api.middleware import CONTENT_SECURITY_POLICY

#: Where ``fastapi-offline`` keeps the vendored bundles.
ASSETS_DIR: Final[Path] = Path(fastapi_offline.__file__).resolve().parent / "static"
#: The bundles these pages load, by URL name (nothing else under ``ASSETS_DIR`` is served).
ASSETS: Final[dict[str, str]] = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
}
#: What the two bundles need beyond the dashboard's policy: Swagger UI's icons are ``data:`` images;
#: Redoc's styled-components insert ``<style>`` elements and its search runs in a ``blob:`` worker.
#: Scripts stay ``'self'``.
DOCS_DIRECTIVES: Final[dict[str, str]] = {
    "img-src": "'self' data:",
    "style-src": "'self' 'unsafe-inline'",
    "worker-src": "'self' blob:",
}


def docs_policy(base: str = CONTENT_SECURITY_POLICY) -> str:
    """``base`` with ``DOCS_DIRECTIVES`` set (replacing a directive of the same name, never twice)."""
    directives: dict[str, str] = {}
    for part in base.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            directives[name] = value
    directives.update(DOCS_DIRECTIVES)
    return "; ".join(f"{name} {value}" for name, value in directives.items())


DOCS_CONTENT_SECURITY_POLICY: Final[str] = docs_policy()
_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": DOCS_CONTENT_SECURITY_POLICY,
    "Cache-Control": "no-cache",
}

router = APIRouter(tags=["docs"], include_in_schema=False)


def _page(title: str, head: str, body: str) -> HTMLResponse:
    html = (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
        f"{head}</head>\n<body>\n{body}</body>\n</html>\n"
    )
    return HTMLResponse(html, headers=_HEADERS)


def _openapi_url(request: Request) -> str:
    root = str(request.scope.get("root_path", ""))
    return f"{root}{request.app.openapi_url}"


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI on the app's OpenAPI schema; "Authorize" logs in through ``POST /v1/auth/token``."""
    root = escape(str(request.scope.get("root_path", "")))
    return _page(
        f"{request.app.title} API – Swagger UI",
        f'<link rel="stylesheet" href="{root}/docs/assets/swagger-ui.css">\n',
        f'<div id="swagger-ui" data-openapi-url="{escape(_openapi_url(request))}"></div>\n'
        f'<script src="{root}/docs/assets/swagger-ui-bundle.js"></script>\n'
        f'<script src="{root}/static/docs/swagger-init.js"></script>\n',
    )


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    """Redoc on the app's OpenAPI schema (read-only reference)."""
    root = escape(str(request.scope.get("root_path", "")))
    return _page(
        f"{request.app.title} API – Redoc",
        "",
        f'<redoc spec-url="{escape(_openapi_url(request))}"></redoc>\n'
        f'<script src="{root}/docs/assets/redoc.standalone.js"></script>\n',
    )


@router.get("/docs/assets/{name}", response_class=FileResponse)
async def docs_asset(name: str) -> FileResponse:
    """One of the vendored Swagger UI / Redoc bundles."""
    media_type = ASSETS.get(name)
    if media_type is None:
        raise NotFound("no such file", path=name[:100])
    return FileResponse(
        ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": "no-cache"}
    )

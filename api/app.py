"""Builds the FastAPI application: lifespan (database pool), routers, and the one place errors become responses."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import __version__
from api import metrics as metrics_routes
from api.db.pool import RETRY_AFTER_DOWN_S, Database
from api.errors import SomatraceError, error_body
from api.instruments.loader import load_catalog
from api.middleware import install_middleware
from api.routes import api_docs, background, dashboard, health
from api.routes import data as data_routes
from api.routes import exports as export_routes
from api.routes import ingest as ingest_routes
from api.routes import wire as wire_routes
from api.routes.core import include_core_routers
from api.settings import Settings
from api.worker.runner import start_in_process_worker

logger = logging.getLogger(__name__)


__all__ = ["create_app", "error_body"]


#: A path parameter in an OpenAPI path template (``{patient_id}``).
_PARAM = re.compile(r"\{[^}/]+\}")
_HTTP_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})


def _template_pattern(template: str) -> re.Pattern[str]:
    literal = _PARAM.split(template)
    return re.compile("^" + "[^/]+".join(re.escape(part) for part in literal) + "$")


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """Every method the app serves at ``path``, from its OpenAPI operations (FastAPI keeps one route
    per method, so the 405 of the first matching route would name only its own)."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "method_table", None
    )
    if table is None:
        table = [
            (
                _template_pattern(template),
                frozenset(m.upper() for m in operations if m.upper() in _HTTP_METHODS),
            )
            for template, operations in app.openapi().get("paths", {}).items()
        ]
        app.state.method_table = table
    methods: set[str] = set()
    for pattern, operation_methods in table:
        if pattern.match(path):
            methods |= operation_methods
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SomatraceError)
    async def _somatrace_error(_: Request, exc: SomatraceError) -> JSONResponse:
        if exc.status >= 500:
            logger.error("%s: %s", exc.code, exc.message)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.fields),
            status_code=exc.status,
            headers=exc.response_headers() or None,
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        raw = exc.errors()
        if any(e.get("type") == "json_invalid" for e in raw):
            return JSONResponse(
                error_body("malformed_request", "the body is not valid JSON"), status_code=400
            )
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in raw
        ]
        return JSONResponse(
            error_body("invalid_input", "the request is invalid", {"errors": errors}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        fields: dict[str, Any] = {}
        if exc.status_code == 405:
            allowed = allowed_methods(app, request.url.path)
            headers["Allow"] = ", ".join(allowed)
            fields["allowed"] = allowed
        return JSONResponse(
            error_body(code, str(exc.detail), fields),
            status_code=exc.status_code,
            headers=headers or None,
        )

    @app.exception_handler(psycopg.OperationalError)
    async def _database_error(request: Request, exc: psycopg.OperationalError) -> JSONResponse:
        logger.warning("database error on %s %s: %s", request.method, request.url.path, exc)
        return JSONResponse(
            error_body(
                "database_unavailable",
                "the database is unavailable; try again later",
                {"retry_after_s": RETRY_AFTER_DOWN_S},
            ),
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_DOWN_S)},
        )


def create_app(settings: Settings, conninfo: str) -> FastAPI:
    """The Somatrace ASGI app talking to the database at ``conninfo`` (migrations already applied)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(
            conninfo,
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            checkout_timeout_s=settings.db_pool_timeout_s,
        )
        await db.open()
        app.state.db = db
        worker = start_in_process_worker(settings, conninfo)
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await db.close()

    app = FastAPI(
        title="Somatrace",
        version=__version__,
        description="Heartbeats from consumer chest straps to HRV trends beside therapy sessions. "
        "Not a medical device.",
        lifespan=lifespan,
        # FastAPI's own /docs and /redoc pages load their scripts from a CDN, which the dashboard's CSP
        # (and an offline clinic) refuses: api.routes.api_docs serves them from vendored files instead.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # instrument definitions and protocol templates: a bad file stops start-up, naming file and field
    app.state.catalog = load_catalog(settings.instruments_dir, settings.questionnaire_template)
    _install_error_handlers(app)
    install_middleware(app, settings)
    app.include_router(health.router)
    app.include_router(background.router)
    app.include_router(metrics_routes.router)
    include_core_routers(app)
    app.include_router(dashboard.router)
    app.include_router(api_docs.router)
    app.include_router(ingest_routes.router)
    app.include_router(wire_routes.router)
    app.include_router(export_routes.router)
    app.include_router(data_routes.router)
    return app

"""Builds the FastAPI application: lifespan (database pool), routers, and the one place errors become responses."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from api import __version__
from api.db.pool import Database
from api.errors import SomatraceError
from api.instruments.loader import load_catalog
from api.middleware import install_middleware
from api.routes import dashboard, health
from api.routes import data as data_routes
from api.routes import exports as export_routes
from api.routes import ingest as ingest_routes
from api.routes import wire as wire_routes
from api.routes.core import include_core_routers
from api.settings import Settings
from api.worker.runner import start_in_process_worker

logger = logging.getLogger(__name__)


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape every endpoint answers with."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SomatraceError)
    async def _somatrace_error(_: Request, exc: SomatraceError) -> JSONResponse:
        if exc.status >= 500:
            logger.error("%s: %s", exc.code, exc.message)
        return JSONResponse(
            error_body(exc.code, exc.message, exc.fields),
            status_code=exc.status,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "loc": list(e.get("loc", ())),
                "msg": str(e.get("msg", "")),
                "type": str(e.get("type", "")),
            }
            for e in exc.errors()
        ]
        return JSONResponse(
            error_body("invalid_input", "the request is invalid", {"errors": errors}),
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized"}.get(
            exc.status_code, "http_error"
        )
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )


def create_app(settings: Settings, conninfo: str) -> FastAPI:
    """The Somatrace ASGI app talking to the database at ``conninfo`` (migrations already applied)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        db = Database(conninfo, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
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
        # FastAPI's /docs and /redoc pages load their scripts from a CDN, which the dashboard's CSP (and an
        # offline clinic) refuses; the schema stays at /openapi.json and docs/api.md describes the API.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    # instrument definitions and protocol templates: a bad file stops start-up, naming file and field
    app.state.catalog = load_catalog(settings.instruments_dir, settings.questionnaire_template)
    _install_error_handlers(app)
    install_middleware(app)
    app.include_router(health.router)
    include_core_routers(app)
    app.include_router(dashboard.router)
    app.include_router(ingest_routes.router)
    app.include_router(wire_routes.router)
    app.include_router(export_routes.router)
    app.include_router(data_routes.router)
    return app

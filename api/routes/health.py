"""``GET /healthz``: database reachability, schema version and whether TimescaleDB is active."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from api import __version__
from api.db.pool import Database
from api.db.queries import q
from api.errors import DatabaseUnavailable

router = APIRouter(tags=["health"])


class DatabaseHealth(BaseModel):
    reachable: bool
    embedded: bool
    schema_version: int | None = None
    timescaledb: bool | None = None
    server_version: str | None = None
    error: str | None = None


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    version: str
    database: DatabaseHealth


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
async def healthz(request: Request) -> JSONResponse:
    """Report liveness and the database's state (503 when the database is unreachable)."""
    db: Database = request.app.state.db
    embedded: bool = request.app.state.settings.embedded
    try:
        async with db.connection() as conn:
            row = await (await conn.execute(q("health_probe"))).fetchone()
    except DatabaseUnavailable as exc:
        body = Health(
            status="degraded",
            version=__version__,
            database=DatabaseHealth(reachable=False, embedded=embedded, error=exc.message),
        )
        return JSONResponse(body.model_dump(), status_code=503)
    assert row is not None
    body = Health(
        status="ok",
        version=__version__,
        database=DatabaseHealth(
            reachable=True,
            embedded=embedded,
            schema_version=int(str(row["schema_version"])),
            timescaledb=bool(row["timescaledb"]),
            server_version=str(row["server_version"]),
        ),
    )
    return JSONResponse(body.model_dump())

"""``GET /v1/background``: progress of long work the serving process runs beside the API (the demo's
background seeding), for the dashboard's banner; inactive when nothing registered such work.

The composition root registers a reporter with :func:`register_background`; ``somatrace serve``
registers none, so it always answers ``{"active": false}``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel

from api.routes.responses import errors

#: Where the reporter lives on ``app.state``.
STATE_KEY: Final[str] = "background_progress"

#: A reporter: called on each request, returns the fields of :class:`BackgroundWork`.
BackgroundReporter = Callable[[], Mapping[str, object]]

router = APIRouter(tags=["health"])


class BackgroundWork(BaseModel):
    """Whether work is still under way, a sentence for people, and counts for the banner."""

    active: bool
    message: str | None = None
    done: int | None = None
    total: int | None = None
    eta_s: float | None = None
    elapsed_s: float | None = None


def register_background(app: FastAPI, reporter: BackgroundReporter) -> None:
    """Let ``GET /v1/background`` report what ``reporter`` says."""
    setattr(app.state, STATE_KEY, reporter)


@router.get("/v1/background", response_model=BackgroundWork, responses=errors())
async def background(request: Request) -> BackgroundWork:
    """Progress of work the server runs beside the API (public: counts and a sentence, no data)."""
    reporter: BackgroundReporter | None = getattr(request.app.state, STATE_KEY, None)
    if reporter is None:
        return BackgroundWork(active=False)
    return BackgroundWork.model_validate(dict(reporter()))

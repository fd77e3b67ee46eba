"""Serves the web dashboard: ``/`` (its HTML page) and ``/static/...`` (JS, CSS, vendored uPlot).

The pages themselves call the JSON API with a bearer token; authorization stays with the API routes.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.errors import NotFound

#: Directory holding index.html, js/, css/ and vendor/ (shipped as package data).
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: Longest path we look up under /static (deeper or longer paths are never ours).
MAX_STATIC_PATH_CHARS = 200
#: Static assets may be cached but must be revalidated, so an upgrade is picked up at once.
STATIC_CACHE_CONTROL = "no-cache"

# Module scripts must be served with a JavaScript type (some systems map .js to text/plain).
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("image/svg+xml", ".svg")
mimetypes.add_type("text/css", ".css")

router = APIRouter(tags=["dashboard"], include_in_schema=False)


def resolve_static(path: str, root: Path = STATIC_DIR) -> Path:
    """The file under ``root`` named by the URL path ``path``; ``NotFound`` for anything else.

    Refuses absolute paths, ``..`` segments, hidden files and anything resolving outside ``root``.
    """
    if not path or len(path) > MAX_STATIC_PATH_CHARS or "\\" in path or "\x00" in path:
        raise NotFound("no such file", path=path[:MAX_STATIC_PATH_CHARS])
    parts = path.split("/")
    if any(part in ("", ".", "..") or part.startswith(".") for part in parts):
        raise NotFound("no such file", path=path)
    candidate = (root / Path(*parts)).resolve()
    base = root.resolve()
    if base not in candidate.parents or not candidate.is_file():
        raise NotFound("no such file", path=path)
    return candidate


@router.get("/", response_class=FileResponse)
async def index() -> FileResponse:
    """The dashboard's single page; routing happens client-side (``#/patients``, ``#/me``...)."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": STATIC_CACHE_CONTROL},
    )


@router.get("/static/{path:path}", response_class=FileResponse)
async def static_file(path: str) -> FileResponse:
    """A dashboard asset (JS module, CSS, vendored uPlot, icon)."""
    file = resolve_static(path)
    media_type, _ = mimetypes.guess_type(file.name)
    return FileResponse(
        file,
        media_type=media_type or "application/octet-stream",
        headers={"Cache-Control": STATIC_CACHE_CONTROL},
    )

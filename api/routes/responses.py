"""OpenAPI declarations of the one error body (``{"error": {...}}``) for every router's 4xx answers.

The body itself is produced by ``api.app``; this module only describes it.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

_DESCRIPTIONS = {
    400: "Malformed request (e.g. a body that is not JSON)",
    401: "Missing, invalid or expired credentials",
    403: "The caller's role may not do this",
    404: "Not found (or not visible to the caller)",
    409: "Conflicts with what is stored",
    413: "Request body too large",
    415: "The body's Content-Type is not one the endpoint takes",
    422: "Invalid input; fields.errors names each bad item",
    429: "Too many attempts; see Retry-After",
}


class ErrorDetail(BaseModel):
    code: str = Field(description="Stable machine-readable code, e.g. not_found")
    message: str = Field(description="Human-readable explanation")
    fields: dict[str, Any] = Field(default_factory=dict, description="Structured context")


class ErrorBody(BaseModel):
    """Every error response: ``{"error": {"code", "message", "fields"}}``."""

    error: ErrorDetail


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries declaring the error body for ``statuses``.

    400 (malformed JSON or HTTP) and 413 (body over the size limit) can happen anywhere and are
    always included.
    """
    wanted = sorted({*statuses, 400, 413})
    return {s: {"model": ErrorBody, "description": _DESCRIPTIONS.get(s, "Error")} for s in wanted}


#: Errors every route that needs a logged-in user can answer with.
AUTH_ERRORS = (401, 403, 422)
#: Errors of routes under ``/v1/patients/{patient_id}``.
PATIENT_ERRORS = (401, 403, 404, 422)

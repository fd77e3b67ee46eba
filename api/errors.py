"""Root error of the api package: every failure carries an HTTP status, a stable code and fields.

The app turns these into responses in one place (``api.app``); the CLI turns them into one-line messages.
"""

from __future__ import annotations

from typing import Any


class SomatraceError(Exception):
    """Root of all api errors.

    Parameters
    ----------
    message:
        Human-readable explanation, safe to show to the caller.
    status:
        HTTP status the API answers with.
    code:
        Stable machine-readable code (``snake_case``).
    **fields:
        Structured context, returned in the error body under ``fields``.
    """

    status: int = 500
    code: str = "internal_error"

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, **fields: object
    ) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code
        self.fields: dict[str, object] = dict(fields)

    def __str__(self) -> str:
        return self.message

    def response_headers(self) -> dict[str, str]:
        """Headers the answer carries: a class's ``headers`` and ``Retry-After`` from ``retry_after_s``."""
        headers = dict(getattr(self, "headers", None) or {})
        retry = self.fields.get("retry_after_s")
        if isinstance(retry, int) and not isinstance(retry, bool) and retry > 0:
            headers["Retry-After"] = str(retry)
        return headers


def error_body(code: str, message: str, fields: dict[str, Any] | None = None) -> dict[str, Any]:
    """The one error shape every endpoint answers with: ``{"error": {code, message, fields}}``."""
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


class ConfigError(SomatraceError):
    """A setting is missing, malformed or points at something unusable; ``setting`` names it."""

    status = 500
    code = "config_error"

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(f"{setting}: {message}", setting=setting)
        self.setting = setting


class DatabaseUnavailable(SomatraceError):
    """The database cannot be reached, refused the connection, or has no free connection in time
    (``busy``); answered 503 with ``Retry-After``."""

    status = 503
    code = "database_unavailable"


class Overloaded(SomatraceError):
    """The API is saturated and sheds this request (back-pressure); 503 with ``Retry-After``."""

    status = 503
    code = "overloaded"


class MigrationError(SomatraceError):
    """A migration file is malformed or failed to apply; nothing of it was kept."""

    status = 500
    code = "migration_error"


class DataDirLocked(SomatraceError):
    """Another Somatrace process already owns the embedded database in this data dir."""

    status = 500
    code = "data_dir_locked"


class NotFound(SomatraceError):
    status = 404
    code = "not_found"


class Unauthorized(SomatraceError):
    status = 401
    code = "unauthorized"


class Forbidden(SomatraceError):
    status = 403
    code = "forbidden"


class Conflict(SomatraceError):
    status = 409
    code = "conflict"


class MalformedRequest(SomatraceError):
    """The request cannot be read at all (a body that is not JSON)."""

    status = 400
    code = "malformed_request"


class UnsupportedMediaType(SomatraceError):
    """The body is sent with a ``Content-Type`` the endpoint does not take."""

    status = 415
    code = "unsupported_media_type"


class InvalidInput(SomatraceError):
    """Semantically invalid request content; ``errors`` lists each bad item."""

    status = 422
    code = "invalid_input"


class PayloadTooLarge(SomatraceError):
    status = 413
    code = "payload_too_large"


class TooManyRequests(SomatraceError):
    status = 429
    code = "too_many_requests"

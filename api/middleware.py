"""ASGI middleware: security headers on every response, a request body size limit, and the error
envelope for exceptions no handler caught (so a 500 carries the headers and the envelope too).

No CORS middleware is installed: the dashboard is served from the same origin as the API. Forwarded
headers are ``api.proxies``'s, back-pressure ``api.admission``'s, metrics ``api.metrics``'s.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping

import psycopg
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.asgi_errors import json_error_message
from api.proxies import TrustedProxyMiddleware
from api.settings import Settings

logger = logging.getLogger(__name__)

#: Largest request body accepted by default, in bytes.
MAX_BODY_BYTES = 2 * 1024 * 1024
#: Largest body for beat uploads (10,000 beats with gaps and strap info, even pretty-printed).
MAX_INGEST_BODY_BYTES = 4 * 1024 * 1024
#: Paths with their own, larger limit.
LARGE_BODY_PATHS: Mapping[str, int] = {"/v1/ingest/beats": MAX_INGEST_BODY_BYTES}
#: Largest import upload (a whole Apple Health export; spooled to disk and parsed streaming).
MAX_IMPORT_BODY_BYTES = 4 * 1024**3
#: Path patterns with their own limit (checked when no exact path matches).
LARGE_BODY_PATTERNS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^/v1/patients/[^/]+/imports$"), MAX_IMPORT_BODY_BYTES),
)

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'; worker-src 'self'; manifest-src 'self'"
)
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
)
#: Path prefixes whose responses must never be cached (API data, health, schema).
NO_STORE_PREFIXES = ("/v1/", "/healthz", "/openapi.json")
HSTS = (b"strict-transport-security", b"max-age=31536000")


def _merge(
    headers: Iterable[tuple[bytes, bytes]], extra: Iterable[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    merged = list(headers)
    present = {name.lower() for name, _ in merged}
    merged.extend((name, value) for name, value in extra if name not in present)
    return merged


class SecurityHeadersMiddleware:
    """Adds CSP, nosniff, Referrer-Policy, X-Frame-Options (and HSTS over HTTPS) to every response;
    ``Cache-Control: no-store`` to API responses. Headers a route set itself are kept."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = list(SECURITY_HEADERS)
        path = str(scope.get("path", ""))
        if path.startswith(NO_STORE_PREFIXES):
            extra.append((b"cache-control", b"no-store"))
        if scope.get("scheme") == "https":
            extra.append(HSTS)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = dict(message)
                message["headers"] = _merge(message.get("headers", []), extra)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class UnhandledErrorMiddleware:
    """Answers an exception that escaped every handler with the error envelope (500, or 503 for a
    lost database connection), logged once with its traceback.

    Inside ``SecurityHeadersMiddleware``, so the answer carries the security headers; the
    connection stays usable. An exception after the response started (a broken stream) is
    re-raised: the server then closes the connection, which is the only honest signal left.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:
                raise
            where = f"{scope.get('method', '')} {scope.get('path', '')}"
            if isinstance(exc, psycopg.OperationalError):
                logger.warning("database error on %s: %s", where, exc)
                start, body = json_error_message(
                    503,
                    "database_unavailable",
                    "the database is unavailable; try again later",
                    {"retry_after_s": 5},
                    [(b"retry-after", b"5")],
                )
            else:
                logger.exception("unhandled error on %s", where)
                start, body = json_error_message(
                    500, "internal_error", "the server failed to answer this request"
                )
            await send(start)
            await send(body)


def _too_large(limit: int) -> tuple[Message, Message]:
    return json_error_message(
        413,
        "payload_too_large",
        f"the request body is larger than {limit} bytes",
        {"limit_bytes": limit},
        [(b"connection", b"close")],
    )


class BodySizeLimitMiddleware:
    """Answers 413 before the app runs when a body is larger than its path's limit.

    A declared ``Content-Length`` is checked up front; a body without one (chunked) is read up to
    the limit and replayed to the app.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        large_paths: Mapping[str, int] = LARGE_BODY_PATHS,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.large_paths = dict(large_paths)

    def limit_for(self, path: str) -> int:
        """The body limit of ``path`` in bytes."""
        key = path.rstrip("/") or "/"
        if key in self.large_paths:
            return self.large_paths[key]
        for pattern, limit in LARGE_BODY_PATTERNS:
            if pattern.match(key):
                return limit
        return self.max_body_bytes

    async def _refuse(self, send: Send, limit: int) -> None:
        start, body = _too_large(limit)
        await send(start)
        await send(body)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("path", "")))
        declared: int | None = None
        for name, value in scope.get("headers", []):
            if name.lower() == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                break
        if declared is not None:
            if declared > limit:
                await self._refuse(send, limit)
                return
            await self.app(scope, receive, send)
            return
        if scope.get("method") in {"GET", "HEAD", "OPTIONS", "DELETE"}:
            await self.app(scope, receive, send)
            return
        buffered: list[Message] = []
        total = 0
        while True:
            message = await receive()
            buffered.append(message)
            if message["type"] != "http.request":
                break
            total += len(message.get("body", b""))
            if total > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if buffered:
                return buffered.pop(0)
            return await receive()

        await self.app(scope, replay, send)


def install_middleware(app: FastAPI, settings: Settings | None = None) -> None:
    """Add, from the inside out: the body limit, back-pressure on uploads, the catch-all error
    envelope, metrics (which see every answer), the security headers (so 413s, 503s and 500s carry
    them too) and, outermost, forwarded headers of trusted proxies (so the client address and HTTPS
    are known to everything inside)."""
    from api.admission import AdmissionMiddleware
    from api.metrics import MetricsMiddleware

    app.add_middleware(BodySizeLimitMiddleware)
    app.add_middleware(
        AdmissionMiddleware,
        max_in_flight=settings.ingest_max_in_flight if settings is not None else 16,
    )
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    trusted = settings.trusted_proxies if settings is not None else []
    app.add_middleware(TrustedProxyMiddleware, trusted=trusted)

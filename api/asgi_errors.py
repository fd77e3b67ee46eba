"""The error envelope (``api.errors.error_body``) as raw ASGI messages, for middleware that answers
before FastAPI's exception handlers (body limit, back-pressure, the catch-all 500).
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from starlette.types import Message

from api.errors import error_body


def json_error_message(
    status: int,
    code: str,
    message: str,
    fields: dict[str, object] | None = None,
    extra_headers: Iterable[tuple[bytes, bytes]] = (),
) -> tuple[Message, Message]:
    """The ``http.response.start`` and ``http.response.body`` messages of an error envelope."""
    body = json.dumps(error_body(code, message, dict(fields or {}))).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra_headers,
    ]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )

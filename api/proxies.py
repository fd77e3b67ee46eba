"""Forwarded headers believed only from configured reverse proxies (``SOMATRACE_TRUSTED_PROXIES``).

``X-Forwarded-For`` and ``X-Forwarded-Proto`` sent by anyone else are ignored, so a client cannot
choose the address that login throttling and the audit log see. uvicorn's own proxy-header handling
is switched off (``api.server``); this middleware replaces it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "192.0.2.1:1234"
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def is_trusted(address: str | None, trusted: Sequence[Network]) -> bool:
    """True when ``address`` lies in one of the ``trusted`` networks."""
    if address is None or not trusted:
        return False
    parsed = _address(address)
    return parsed is not None and any(parsed in net for net in trusted)


def forwarded_client(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]
) -> str | None:
    """The client address: ``peer`` unless it is a trusted proxy, else the right-most address of
    ``X-Forwarded-For`` that is not itself a trusted proxy.

    Walking from the right means an address a client wrote into the header is never believed: only
    what the trusted proxies appended counts. An unparsable entry ends the walk at the last hop that
    could be checked.
    """
    if not is_trusted(peer, trusted):
        return peer
    chain = [item.strip() for value in forwarded_for for item in value.split(",") if item.strip()]
    client = peer
    for hop in reversed(chain):
        parsed = _address(hop)
        if parsed is None:
            break
        client = str(parsed)
        if not any(parsed in net for net in trusted):
            break
    return client


class TrustedProxyMiddleware:
    """Rewrites the ASGI ``client`` and ``scheme`` from forwarded headers of trusted proxies only."""

    def __init__(self, app: ASGIApp, trusted: Sequence[Network] = ()) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.trusted:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        peer = str(client[0]) if client else None
        if is_trusted(peer, self.trusted):
            forwarded: list[str] = []
            proto: str | None = None
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    forwarded.append(value.decode("latin-1"))
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").split(",")[-1].strip().lower()
            scope = dict(scope)
            address = forwarded_client(peer, forwarded, self.trusted)
            if address is not None and address != peer:
                scope["client"] = (address, 0)
            if proto in ("http", "https"):
                scope["scheme"] = proto
        await self.app(scope, receive, send)

"""Device tokens: 256 random bits behind the prefix ``stdev_``; only their SHA-256 is stored.

Looking a device up by hash and checking revocation is ``api.auth.deps.require_device``'s job.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

#: Every device token starts with this, so a leaked one is recognisable in logs and scanners.
DEVICE_TOKEN_PREFIX = "stdev_"  # noqa: S105 - a prefix, not a secret
#: Random bytes per token (256 bits).
DEVICE_TOKEN_BYTES = 32
_TOKEN_RE = re.compile(r"^stdev_[A-Za-z0-9_-]{43}$")


def new_device_token() -> str:
    """A fresh token: ``stdev_`` + 43 URL-safe base64 characters of 32 random bytes."""
    raw = secrets.token_bytes(DEVICE_TOKEN_BYTES)
    return DEVICE_TOKEN_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def looks_like_device_token(token: str) -> bool:
    """True when ``token`` has the shape of a device token (says nothing about validity)."""
    return _TOKEN_RE.fullmatch(token) is not None


def hash_device_token(token: str) -> bytes:
    """The 32-byte SHA-256 digest stored in ``devices.token_hash``."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def token_matches(token: str, stored_hash: bytes) -> bool:
    """Constant-time comparison of ``token``'s digest with ``stored_hash``."""
    return hmac.compare_digest(hash_device_token(token), bytes(stored_hash))

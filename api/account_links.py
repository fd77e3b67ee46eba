"""One-time account links: issue one (its token is shown once; only the SHA-256 is kept), look one up, and
redeem it: an invitation creates the patient's login with the password they choose, a setup or reset link
sets an account's password. Redeeming ends every other session of the account.

Who may issue which link is the routes' business (``api.routes.invites``, ``api.routes.users``).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, cast

import psycopg

from api.db.queries import q
from api.errors import Conflict, NotFound, SomatraceError
from api.form_rules import field_error

LinkPurpose = Literal["invite", "setup", "reset"]

#: Every link token starts with this, so a leaked one is recognisable.
LINK_TOKEN_PREFIX = "stlink_"  # noqa: S105 - a prefix, not a secret
#: Random bytes per token (256 bits).
LINK_TOKEN_BYTES = 32
#: The dashboard page that redeems each kind of link.
LINK_PAGES: dict[str, str] = {"invite": "#/invite/", "setup": "#/password/", "reset": "#/password/"}


class LinkNotUsable(SomatraceError):
    """The link is unknown, used, expired, withdrawn or its account deactivated; ``reason`` says which."""

    status = 410
    code = "link_not_usable"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message, reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class IssuedLink:
    """A new link: its token exists only here and in the answer to whoever asked for it."""

    id: uuid.UUID
    purpose: LinkPurpose
    token: str
    expires_at: datetime

    @property
    def path(self) -> str:
        """The dashboard path that redeems it, e.g. ``/#/invite/stlink_...``."""
        return f"/{LINK_PAGES[self.purpose]}{self.token}"


@dataclass(frozen=True)
class RedeemedAccount:
    """The account a redeemed link signed in."""

    user_id: uuid.UUID
    role: str
    patient_id: uuid.UUID | None
    email: str
    session_epoch: int
    purpose: LinkPurpose


def new_link_token() -> str:
    """``stlink_`` and 43 URL-safe base64 characters of 32 random bytes."""
    raw = secrets.token_bytes(LINK_TOKEN_BYTES)
    return LINK_TOKEN_PREFIX + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def hash_link_token(token: str) -> bytes:
    """The 32-byte SHA-256 stored in ``account_links.token_hash``."""
    return hashlib.sha256(token.encode("utf-8")).digest()


async def issue_link(
    conn: psycopg.AsyncConnection[Any],
    *,
    purpose: LinkPurpose,
    ttl: timedelta,
    created_by: uuid.UUID | None,
    user_id: uuid.UUID | None = None,
    patient_id: uuid.UUID | None = None,
    email: str | None = None,
) -> IssuedLink:
    """Store a new link (withdrawing the open links it replaces) and return it with its token."""
    await conn.execute(
        q("links_revoke_open"), {"purpose": purpose, "user_id": user_id, "patient_id": patient_id}
    )
    token = new_link_token()
    cur = await conn.execute(
        q("links_insert"),
        {
            "purpose": purpose,
            "token_hash": hash_link_token(token),
            "user_id": user_id,
            "patient_id": patient_id,
            "email": email,
            "created_by": created_by,
            "ttl_s": int(ttl.total_seconds()),
        },
    )
    row = await cur.fetchone()
    assert row is not None
    return IssuedLink(
        id=cast(uuid.UUID, row["id"]),
        purpose=purpose,
        token=token,
        expires_at=cast(datetime, row["expires_at"]),
    )


def _usable(row: Any) -> None:
    """Raise ``LinkNotUsable`` unless the looked-up link can still be redeemed."""
    if row is None:
        raise LinkNotUsable(
            "unknown",
            "This link is not valid. Check that it was copied completely, or ask for a new one.",
        )
    who = "your therapist" if row["purpose"] == "invite" else "the clinic's administrator"
    if row["used_at"] is not None:
        raise LinkNotUsable(
            "used", f"This link has already been used. Sign in, or ask {who} for a new link."
        )
    if row["revoked_at"] is not None:
        raise LinkNotUsable(
            "revoked", f"This link was replaced or withdrawn. Ask {who} for a new one."
        )
    if row["expired"]:
        raise LinkNotUsable("expired", f"This link has expired. Ask {who} for a new one.")
    if row["purpose"] != "invite" and row["account_disabled"]:
        raise LinkNotUsable("disabled", "This account is deactivated.")


async def look_up(conn: psycopg.AsyncConnection[Any], token: str) -> dict[str, Any]:
    """The usable link of ``token``: purpose, email, name, expiry; ``LinkNotUsable`` otherwise."""
    cur = await conn.execute(q("links_by_hash"), {"token_hash": hash_link_token(token)})
    row = await cur.fetchone()
    _usable(row)
    assert row is not None
    return dict(row)


async def redeem_link(
    conn: psycopg.AsyncConnection[Any], token: str, password_hash: str
) -> RedeemedAccount:
    """Redeem ``token`` with a new password hash, in the caller's transaction.

    An invitation creates the patient's login (``Conflict`` if the patient already has one or the email
    is taken meanwhile); a setup or reset link replaces the account's password. Either way the link is
    used up and the account's session epoch is raised.
    """
    cur = await conn.execute(q("links_by_hash_for_update"), {"token_hash": hash_link_token(token)})
    row = await cur.fetchone()
    _usable(row)
    assert row is not None
    purpose = cast(LinkPurpose, row["purpose"])
    if purpose == "invite":
        try:
            async with conn.transaction():
                cur = await conn.execute(
                    q("users_insert_patient_login"),
                    {
                        "email": row["email"],
                        "password_hash": password_hash,
                        "patient_id": row["patient_id"],
                    },
                )
                account = await cur.fetchone()
        except psycopg.errors.UniqueViolation:
            raise Conflict(
                "This patient already has a login, or the email is used by another account. "
                "Ask your therapist for a new invitation.",
                errors=field_error("password", "This invitation cannot be accepted any more."),
            ) from None
    else:
        cur = await conn.execute(
            q("users_set_password"), {"id": row["user_id"], "password_hash": password_hash}
        )
        account = await cur.fetchone()
    if account is None:
        raise NotFound("the account of this link no longer exists")
    await conn.execute(q("links_mark_used"), {"id": row["id"], "user_id": account["id"]})
    return RedeemedAccount(
        user_id=cast(uuid.UUID, account["id"]),
        role=str(account["role"]),
        patient_id=cast("uuid.UUID | None", account["patient_id"]),
        email=str(account["email"]),
        session_epoch=int(account["session_epoch"]),
        purpose=purpose,
    )

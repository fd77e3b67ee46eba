"""Passwords: the policy every place that sets one calls (``check_password``: length, estimated
strength with zxcvbn, not derived from the account's e-mail), and argon2id hashing (argon2-cffi's
RFC 9106 low-memory profile); verify never raises.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from api.errors import InvalidInput

#: Shortest password accepted for any account, in characters.
MIN_PASSWORD_LENGTH = 10
#: Longest password accepted, in characters (argon2 handles more; this bounds request work).
MAX_PASSWORD_LENGTH = 256
#: Least zxcvbn score (0-4) accepted: 3 is "safely unguessable" (about 10^8 guesses or more), out
#: of reach of online guessing that ``api.auth.throttle`` slows to a trickle.
MIN_STRENGTH_SCORE = 3
#: zxcvbn reads at most this many leading characters (a longer password is at least that strong).
STRENGTH_ESTIMATE_CHARS = 72
#: Parts of an e-mail address shorter than this are not checked for (too common to mean anything).
MIN_PERSONAL_PART_CHARS = 3


class WeakPassword(InvalidInput):
    """A password the policy refuses; ``fields["errors"]`` names the field and why (422)."""

    code = "weak_password"

    def __init__(self, reason: str, *, field: str = "password") -> None:
        super().__init__(
            f"password {reason}",
            errors=[{"loc": ["body", field], "msg": f"password {reason}", "type": "weak_password"}],
        )
        self.reason = reason


def _personal_parts(email: str | None, extra: Iterable[str]) -> list[str]:
    parts: list[str] = []
    if email:
        address = email.strip().lower()
        local, _, domain = address.partition("@")
        parts += [address, local, *re.split(r"[._+-]", local), *domain.split(".")]
    parts += [e.strip().lower() for e in extra]
    return [p for p in dict.fromkeys(parts) if len(p) >= MIN_PERSONAL_PART_CHARS]


def _alnum(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _built_on_email(password: str, email: str) -> bool:
    """The password is the address, holds its name part (4+ characters), or is the address with
    other separators ("sam-example-org")."""
    lowered, address = password.lower(), email.strip().lower()
    local = address.partition("@")[0]
    squeezed = _alnum(address)
    return (
        lowered == address
        or (len(local) >= 4 and local in lowered)
        or (len(squeezed) >= 4 and squeezed in _alnum(password))
    )


def password_problem(
    password: str, *, email: str | None = None, personal: Iterable[str] = ()
) -> str | None:
    """Why ``password`` may not be used (a phrase after "password …"), or ``None`` when it may.

    Parameters
    ----------
    password:
        The candidate.
    email:
        The account's e-mail address: the password may not be it, contain its name part, or be
        guessable from it (zxcvbn gets its parts as user inputs).
    personal:
        Further words the password may not be built on (display name, clinic name).
    """
    from zxcvbn import zxcvbn  # loaded only when a password is set

    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"may have at most {MAX_PASSWORD_LENGTH} characters"
    parts = _personal_parts(email, personal)
    if email and _built_on_email(password, email):
        return "must not be built on your e-mail address"
    estimate: dict[str, Any] = zxcvbn(
        password[:STRENGTH_ESTIMATE_CHARS], user_inputs=parts, max_length=STRENGTH_ESTIMATE_CHARS
    )
    if int(estimate["score"]) < MIN_STRENGTH_SCORE:
        feedback = estimate.get("feedback") or {}
        hint = str(feedback.get("warning") or "").rstrip(".")
        suggestions = [str(x).rstrip(".") for x in feedback.get("suggestions") or []]
        why = "; ".join(x for x in [hint, *suggestions] if x)
        return "is too easy to guess" + (f" ({why})" if why else "")
    return None


def check_password(
    password: str,
    *,
    email: str | None = None,
    personal: Iterable[str] = (),
    field: str = "password",
) -> None:
    """Refuse a password the policy does not allow (``password_problem``).

    Every route or command that sets a password calls this (account creation, a patient's login,
    invitations and resets).

    Raises
    ------
    WeakPassword
        422 naming ``field`` and the reason.
    """
    problem = password_problem(password, email=email, personal=personal)
    if problem is not None:
        raise WeakPassword(problem, field=field)


_hasher = PasswordHasher()  # argon2id, t=3, m=64 MiB, p=4


def hash_password(password: str) -> str:
    """The argon2id hash (PHC string, salt included) of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True when ``password`` matches ``password_hash``; a malformed hash counts as no match."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's and should be replaced."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when no account matches, so unknown accounts cost the same time."""
    return _hasher.hash("somatrace-no-such-account")

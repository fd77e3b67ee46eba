"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile); verify never raises.

Policy on what a password must look like lives in the request models, not here.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

#: Shortest password accepted for any account, in characters.
MIN_PASSWORD_LENGTH = 10
#: Longest password accepted, in characters (argon2 handles more; this bounds request work).
MAX_PASSWORD_LENGTH = 256

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

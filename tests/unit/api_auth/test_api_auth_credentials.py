"""Passwords (argon2id), access tokens (HS256 JWT) and device tokens, without a database."""

from __future__ import annotations

import hashlib
import time
import uuid

import jwt
import pytest

from api.auth.device_tokens import (
    DEVICE_TOKEN_PREFIX,
    hash_device_token,
    looks_like_device_token,
    new_device_token,
    token_matches,
)
from api.auth.passwords import dummy_hash, hash_password, needs_rehash, verify_password
from api.auth.tokens import AUDIENCE, decode_access_token, issue_access_token
from api.errors import SomatraceError, Unauthorized

SECRET = "unit-test-secret-" + "k" * 64


def test_password_hash_is_salted_argon2id_and_verifies() -> None:
    first = hash_password("correct horse battery")
    second = hash_password("correct horse battery")
    assert first.startswith("$argon2id$") and first != second
    assert verify_password(first, "correct horse battery")
    assert not verify_password(first, "correct horse batterY")
    assert not verify_password("not-a-hash", "anything")
    assert not needs_rehash(first)
    assert needs_rehash("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA")
    assert not verify_password(dummy_hash(), "")


def test_access_token_round_trip_and_claims() -> None:
    user_id = uuid.uuid4()
    token = issue_access_token(SECRET, user_id, "therapist", 600)
    claims = decode_access_token(SECRET, token)
    assert claims.user_id == user_id and claims.role == "therapist"
    assert claims.expires_at_s - claims.issued_at_s == 600
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["aud"] == AUDIENCE and jwt.get_unverified_header(token)["alg"] == "HS256"


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(
            lambda: issue_access_token(SECRET, uuid.uuid4(), "admin", 60, now_s=time.time() - 120),
            id="expired",
        ),
        pytest.param(
            lambda: issue_access_token("other-" + "s" * 40, uuid.uuid4(), "admin", 60),
            id="other-key",
        ),
        pytest.param(
            lambda: jwt.encode(
                {
                    "sub": str(uuid.uuid4()),
                    "role": "admin",
                    "aud": AUDIENCE,
                    "iat": 1,
                    "exp": 2**40,
                },
                SECRET,
                algorithm="HS512",
            ),
            id="other-algorithm",
        ),
        pytest.param(
            lambda: jwt.encode(
                {
                    "sub": str(uuid.uuid4()),
                    "role": "device",
                    "aud": AUDIENCE,
                    "iat": 1,
                    "exp": 2**40,
                },
                SECRET,
                algorithm="HS256",
            ),
            id="unknown-role",
        ),
        pytest.param(
            lambda: jwt.encode(
                {"sub": "nope", "role": "admin", "aud": AUDIENCE, "iat": 1, "exp": 2**40},
                SECRET,
                algorithm="HS256",
            ),
            id="bad-subject",
        ),
        pytest.param(
            lambda: jwt.encode(
                {"sub": str(uuid.uuid4()), "role": "admin", "iat": 1, "exp": 2**40},
                SECRET,
                algorithm="HS256",
            ),
            id="no-audience",
        ),
        pytest.param(lambda: "a.b.c", id="garbage"),
        pytest.param(
            lambda: jwt.encode(
                {
                    "sub": str(uuid.uuid4()),
                    "role": "admin",
                    "aud": AUDIENCE,
                    "iat": 1,
                    "exp": 2**40,
                },
                "",
                algorithm="none",
            ),
            id="alg-none",
        ),
    ],
)
def test_bad_access_tokens_are_unauthorized(make: object) -> None:
    token = make()  # type: ignore[operator]
    with pytest.raises(Unauthorized) as caught:
        decode_access_token(SECRET, token)
    assert isinstance(caught.value, SomatraceError) and caught.value.status == 401


def test_device_tokens_are_256_random_bits_with_prefix_and_hash_compare() -> None:
    tokens = {new_device_token() for _ in range(200)}
    assert len(tokens) == 200
    token = next(iter(tokens))
    assert token.startswith(DEVICE_TOKEN_PREFIX) and looks_like_device_token(token)
    assert len(token) == len(DEVICE_TOKEN_PREFIX) + 43  # 32 bytes, unpadded base64url
    digest = hash_device_token(token)
    assert digest == hashlib.sha256(token.encode()).digest() and len(digest) == 32
    assert token_matches(token, digest)
    assert not token_matches(token[:-1] + ("A" if token[-1] != "A" else "B"), digest)
    assert not looks_like_device_token("stdev_short")
    assert not looks_like_device_token("Bearer " + token)

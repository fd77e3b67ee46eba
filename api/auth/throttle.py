"""Login throttling that slows an attacker without locking out the owner, kept in PostgreSQL.

Failed logins are counted per (account, address) pair, per address (spraying many accounts) and per
account from addresses the account never logged in from (guessing from many addresses). Past a few
free failures each further attempt of that scope must wait a delay that doubles with every failure,
up to ``MAX_DELAY_S``: an attacker is slowed to a trickle, and nobody is locked out for a fixed
time. The owner, logging in from an address that logged in before, is not slowed by failures from
elsewhere. Counters live in the database (every API replica shares them, a restart forgets
nothing); the policy below is pure logic, the store runs its SQL (``throttle.sql``).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import psycopg

from api.db.queries import q
from api.errors import TooManyRequests

Scope = Literal["pair", "address", "account"]


@dataclass(frozen=True)
class Policy:
    """How many failures of one scope are free and how the wait grows after them."""

    free_failures: int
    base_delay_s: float
    max_delay_s: float


#: Scopes and their policies. A pair reaches the 15-minute cap after about 15 failures; an address
#: may fail on 20 logins (typos across a household or a clinic's NAT) before it is slowed.
POLICIES: Final[Mapping[Scope, Policy]] = {
    "pair": Policy(free_failures=5, base_delay_s=1.0, max_delay_s=900.0),
    "address": Policy(free_failures=20, base_delay_s=1.0, max_delay_s=900.0),
    "account": Policy(free_failures=10, base_delay_s=1.0, max_delay_s=900.0),
}
#: Failures are forgotten after this long without another failure of the same scope, s.
FORGET_AFTER_S: Final[float] = 24 * 3600.0
#: An address the account logged in from within this time is the owner's, s.
KNOWN_ADDRESS_S: Final[float] = 90 * 24 * 3600.0
#: Longest account key kept (RFC 5321 path limit).
MAX_KEY_CHARS: Final[int] = 254
#: Key used when the client address is unknown.
NO_ADDRESS: Final[str] = "unknown"


class LoginThrottled(TooManyRequests):
    """Too many failed logins; ``retry_after_s`` (sent as ``Retry-After``) says when to retry."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        what = {"pair": "account from this address", "address": "address"}.get(scope, scope)
        super().__init__(
            f"too many failed logins for this {what}; try again in {retry_after_s} s",
            scope=scope,
            retry_after_s=retry_after_s,
        )
        self.scope = scope
        self.retry_after_s = retry_after_s


def delay_s(policy: Policy, failures: int) -> float:
    """Wait required after the last of ``failures`` failures, s (0 while they are free)."""
    if failures < policy.free_failures:
        return 0.0
    return min(policy.max_delay_s, policy.base_delay_s * 2.0 ** (failures - policy.free_failures))


def live_failures(failures: int, last_failure_s: float, now_s: float) -> int:
    """``failures`` unless they are older than ``FORGET_AFTER_S`` (then 0)."""
    return failures if now_s - last_failure_s <= FORGET_AFTER_S else 0


def wait_s(policy: Policy, failures: int, last_failure_s: float, now_s: float) -> float:
    """How long an attempt of a scope must still wait, s (0: it may go ahead)."""
    live = live_failures(failures, last_failure_s, now_s)
    return max(0.0, last_failure_s + delay_s(policy, live) - now_s) if live else 0.0


def account_key(account: str) -> str:
    """Accounts are compared like logins: trimmed, case-insensitive, bounded."""
    return account.strip().lower()[:MAX_KEY_CHARS]


@dataclass(frozen=True)
class Attempt:
    """One login attempt's counter keys; ``counted`` names the scopes it was counted in."""

    account: str
    address: str
    known_address: bool
    counted: tuple[Scope, ...] = ()

    @property
    def keys(self) -> dict[Scope, str]:
        keys: dict[Scope, str] = {
            "pair": f"{self.account}|{self.address}",
            "address": self.address,
        }
        if not self.known_address:
            keys["account"] = self.account
        return keys


def decide(
    attempt: Attempt, rows: Sequence[Mapping[str, Any]]
) -> tuple[LoginThrottled | None, dict[Scope, int]]:
    """The refusal for an attempt (longest wait over its scopes) or the counts it leaves behind.

    ``rows`` are the locked counters (``scope``, ``failures``, ``last_failure_s``, ``now_s``).
    """
    longest: tuple[float, Scope] | None = None
    counts: dict[Scope, int] = {}
    for row in rows:
        scope: Scope = row["scope"]
        now = float(row["now_s"])
        last = float(row["last_failure_s"])
        failures = int(row["failures"])
        wait = wait_s(POLICIES[scope], failures, last, now)
        if wait > 0 and (longest is None or wait > longest[0]):
            longest = (wait, scope)
        counts[scope] = live_failures(failures, last, now) + 1
    if longest is not None:
        return LoginThrottled(longest[1], max(1, math.ceil(longest[0]))), {}
    return None, counts


class LoginThrottle:
    """The throttle's store: counters in ``login_throttle``, known addresses per account."""

    async def begin(
        self,
        conn: psycopg.AsyncConnection[Any],
        account: str,
        address: str | None,
        user_id: uuid.UUID | None,
    ) -> Attempt:
        """Refuse the attempt (``LoginThrottled``) or count it as a failure until ``succeeded``.

        Counting before the password is checked, under a row lock, means concurrent guesses on
        any replica cannot slip past the count.
        """
        key = account_key(account)
        addr = address or NO_ADDRESS
        known = False
        if user_id is not None and address is not None:
            cur = await conn.execute(
                q("throttle_known_address"),
                {"user_id": user_id, "client_addr": addr, "known_s": KNOWN_ADDRESS_S},
            )
            row = await cur.fetchone()
            known = bool(row is not None and row["known"])
        attempt = Attempt(key, addr, known)
        scopes = list(attempt.keys)
        keys = [attempt.keys[s] for s in scopes]
        async with conn.transaction():
            await conn.execute(q("throttle_ensure"), {"scopes": scopes, "keys": keys})
            cur = await conn.execute(q("throttle_lock"), {"scopes": scopes, "keys": keys})
            refusal, counts = decide(attempt, await cur.fetchall())
            if refusal is not None:
                raise refusal
            await conn.execute(
                q("throttle_set"),
                {"scopes": scopes, "keys": keys, "failures": [counts[s] for s in scopes]},
            )
        return Attempt(key, addr, known, counted=tuple(scopes))

    async def failed(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The attempt failed: it stays counted; counters nobody touched for a day are pruned."""
        await conn.execute(q("throttle_prune"), {"forget_s": FORGET_AFTER_S})

    async def succeeded(
        self, conn: psycopg.AsyncConnection[Any], attempt: Attempt, user_id: uuid.UUID
    ) -> None:
        """The password was right: forgive the pair, take the provisional counts back, and remember
        the address as the owner's."""
        keys = attempt.keys
        async with conn.transaction():
            await conn.execute(
                q("throttle_success"),
                {
                    "pair_key": keys["pair"],
                    "address_key": keys["address"],
                    "account_key": attempt.account,
                    "counted_address": "address" in attempt.counted,
                    "counted_account": "account" in attempt.counted,
                },
            )
            if attempt.address != NO_ADDRESS:
                await conn.execute(
                    q("throttle_remember_address"),
                    {"user_id": user_id, "client_addr": attempt.address},
                )

"""Login throttling: failed attempts counted per account and per client address in sliding windows.

State is in memory, per API process; a restart forgets it. Pure logic with an injectable clock.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from api.errors import TooManyRequests

#: Failed logins per account allowed in the window before further attempts are refused.
MAX_FAILURES_PER_ACCOUNT = 5
#: Failed logins per client address allowed in the window (covers spraying many accounts).
MAX_FAILURES_PER_ADDRESS = 20
#: Length of the sliding window, in seconds.
WINDOW_S = 900.0
#: Keys tracked at most per kind; the oldest are forgotten beyond this (bounds memory under attack).
MAX_TRACKED_KEYS = 100_000


class LoginThrottled(TooManyRequests):
    """Too many failed logins; ``retry_after_s`` (sent as ``Retry-After``) says when to retry."""

    def __init__(self, scope: str, retry_after_s: int) -> None:
        super().__init__(
            f"too many failed logins for this {scope}; try again in {retry_after_s} s",
            scope=scope,
            retry_after_s=retry_after_s,
        )
        self.retry_after_s = retry_after_s
        self.headers = {"Retry-After": str(retry_after_s)}


class LoginThrottle:
    """Counts failures; ``check`` refuses an attempt while a limit is reached.

    Parameters
    ----------
    max_per_account, max_per_address:
        Failures allowed within ``window_s`` before attempts are refused.
    window_s:
        Sliding window length in seconds.
    clock:
        Monotonic time source in seconds (tests pass a fake).
    """

    def __init__(
        self,
        *,
        max_per_account: int = MAX_FAILURES_PER_ACCOUNT,
        max_per_address: int = MAX_FAILURES_PER_ADDRESS,
        window_s: float = WINDOW_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_per_account = max_per_account
        self.max_per_address = max_per_address
        self.window_s = window_s
        self._clock = clock
        self._accounts: dict[str, deque[float]] = {}
        self._addresses: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _account_key(account: str) -> str:
        return account.strip().lower()

    def _retry_after(self, failures: deque[float] | None, limit: int, now: float) -> int | None:
        if failures is None:
            return None
        while failures and failures[0] <= now - self.window_s:
            failures.popleft()
        if len(failures) < limit:
            return None
        oldest_that_counts = failures[len(failures) - limit]
        return max(1, math.ceil(oldest_that_counts + self.window_s - now))

    def check(self, account: str, address: str | None) -> None:
        """Raise ``LoginThrottled`` when the account or the address has too many recent failures."""
        now = self._clock()
        with self._lock:
            wait = self._retry_after(
                self._accounts.get(self._account_key(account)), self.max_per_account, now
            )
            if wait is not None:
                raise LoginThrottled("account", wait)
            if address is not None:
                wait = self._retry_after(self._addresses.get(address), self.max_per_address, now)
                if wait is not None:
                    raise LoginThrottled("address", wait)

    def _add(self, table: dict[str, deque[float]], key: str, now: float) -> None:
        failures = table.get(key)
        if failures is None:
            if len(table) >= MAX_TRACKED_KEYS:
                table.pop(next(iter(table)))
            failures = table[key] = deque()
        failures.append(now)
        while len(failures) > max(self.max_per_account, self.max_per_address):
            failures.popleft()

    def record_failure(self, account: str, address: str | None) -> None:
        """Count one failed login for the account and the address."""
        now = self._clock()
        with self._lock:
            self._add(self._accounts, self._account_key(account), now)
            if address is not None:
                self._add(self._addresses, address, now)

    def record_success(self, account: str) -> None:
        """Forget the account's failures (the address keeps its count)."""
        with self._lock:
            self._accounts.pop(self._account_key(account), None)

"""Login throttling policy (pure): free failures, doubling waits, forgetting, the owner's address."""

from __future__ import annotations

from api.auth.throttle import (
    FORGET_AFTER_S,
    POLICIES,
    Attempt,
    account_key,
    decide,
    delay_s,
    wait_s,
)


def _row(scope: str, failures: int, last: float, now: float) -> dict[str, object]:
    return {"scope": scope, "failures": failures, "last_failure_s": last, "now_s": now}


def test_waits_double_after_the_free_failures_up_to_the_cap() -> None:
    pair = POLICIES["pair"]
    assert [delay_s(pair, n) for n in range(pair.free_failures)] == [0.0] * pair.free_failures
    waits = [delay_s(pair, pair.free_failures + k) for k in range(12)]
    assert waits[:4] == [1.0, 2.0, 4.0, 8.0]
    assert max(waits) == pair.max_delay_s == 900.0  # slowed, never locked for longer than that


def test_wait_counts_from_the_last_failure_and_failures_are_forgotten() -> None:
    pair = POLICIES["pair"]
    assert wait_s(pair, 7, last_failure_s=1000.0, now_s=1001.0) == 3.0  # 4 s after the 7th
    assert wait_s(pair, 7, last_failure_s=1000.0, now_s=1004.0) == 0.0
    assert wait_s(pair, 30, last_failure_s=0.0, now_s=FORGET_AFTER_S + 1) == 0.0


def test_decide_refuses_with_the_longest_wait_and_otherwise_counts_the_attempt() -> None:
    attempt = Attempt("a@example.org", "192.0.2.1", known_address=False)
    rows = [
        _row("pair", 6, 1000.0, 1000.5),  # 2 s after the 6th failure: 1.5 s left
        _row("address", 3, 1000.0, 1000.5),
        _row("account", 20, 1000.0, 1000.5),  # 2^10 s capped at 900 s
    ]
    refusal, counts = decide(attempt, rows)
    assert refusal is not None and refusal.scope == "account"
    assert refusal.retry_after_s == 900 and refusal.status == 429
    assert refusal.response_headers() == {"Retry-After": "900"}
    assert counts == {}
    refusal, counts = decide(attempt, [_row("pair", 2, 1000.0, 1100.0)])
    assert refusal is None and counts == {"pair": 3}
    refusal, counts = decide(attempt, [_row("pair", 9, 0.0, FORGET_AFTER_S + 10)])
    assert refusal is None and counts == {"pair": 1}  # forgotten: counting starts again


def test_the_owners_known_address_has_no_account_wide_counter() -> None:
    stranger = Attempt(account_key(" A@Example.org"), "198.51.100.9", known_address=False)
    owner = Attempt(account_key("a@example.org"), "192.0.2.1", known_address=True)
    assert stranger.account == owner.account == "a@example.org"
    assert set(stranger.keys) == {"pair", "address", "account"}
    assert set(owner.keys) == {"pair", "address"}  # failures elsewhere cannot slow the owner
    assert owner.keys["pair"] == "a@example.org|192.0.2.1"

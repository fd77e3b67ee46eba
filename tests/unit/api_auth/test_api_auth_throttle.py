"""Login throttling per account and per address, with a fake clock."""

from __future__ import annotations

import pytest

from api.auth.throttle import LoginThrottle, LoginThrottled


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_account_is_locked_after_max_failures_until_the_window_passes() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_per_account=3, max_per_address=100, window_s=60, clock=clock)
    for _ in range(3):
        throttle.check("A@example.org", "10.0.0.1")
        throttle.record_failure("A@example.org", "10.0.0.1")
        clock.now += 5
    with pytest.raises(LoginThrottled) as caught:
        throttle.check("a@EXAMPLE.org ", "10.0.0.2")  # same account, other address, other case
    assert caught.value.status == 429
    assert caught.value.retry_after_s == 45  # first failure at 1000 + 60 s window - now 1015
    assert caught.value.headers == {"Retry-After": "45"}
    throttle.check("b@example.org", "10.0.0.1")  # other accounts are unaffected
    clock.now += 45
    throttle.check("a@example.org", "10.0.0.1")  # the oldest failure left the window


def test_success_clears_the_account_but_not_the_address() -> None:
    clock = Clock()
    throttle = LoginThrottle(max_per_account=2, max_per_address=3, window_s=60, clock=clock)
    throttle.record_failure("a@example.org", "10.0.0.1")
    throttle.record_failure("a@example.org", "10.0.0.1")
    throttle.record_success("a@example.org")
    throttle.check("a@example.org", "10.0.0.9")
    throttle.record_failure("c@example.org", "10.0.0.1")
    with pytest.raises(LoginThrottled) as caught:
        throttle.check("d@example.org", "10.0.0.1")
    assert caught.value.fields["scope"] == "address"
    throttle.check("d@example.org", None)  # no address known: only the account counts

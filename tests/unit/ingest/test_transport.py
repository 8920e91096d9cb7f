"""The token bucket paces requests to the plan's budget; the clock is simulated."""

from __future__ import annotations

from anthill_ingest.transport import TokenBucket, _retry_after_seconds


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_free_plan_budget_is_five_per_minute() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5, clock=clock, sleep=clock.sleep)
    for _ in range(11):
        bucket.acquire()
    # The first request goes at once, then one every 12 seconds.
    assert clock.now == 120.0
    assert bucket.waited == 120.0


def test_a_burst_capacity_lets_requests_through_at_once() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, capacity=3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        bucket.acquire()
    assert clock.now == 0.0
    bucket.acquire()
    assert clock.now == 1.0


def test_idle_time_refills_but_never_beyond_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(60, capacity=2, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    clock.now += 3600
    for _ in range(2):
        bucket.acquire()
    assert clock.now == 3600
    bucket.acquire()
    assert clock.now == 3601


def test_retry_after_parsing() -> None:
    assert _retry_after_seconds("7") == 7.0
    assert _retry_after_seconds("0.5") == 0.5
    assert _retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT") is None
    assert _retry_after_seconds(None) is None

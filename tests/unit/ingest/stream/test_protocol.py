"""What the server's status messages mean for the stream, and how long it waits before trying again."""

from __future__ import annotations

import random

import pytest

from anthill_ingest.stream.protocol import Backoff, classify, redact


@pytest.mark.parametrize(
    ("status", "asset_class", "kind", "channels"),
    [
        pytest.param({"status": "success", "message": "subscribed to: T.AAPL"}, "stocks", "subscribed",
                     {"trades"}, id="subscribed"),
        pytest.param({"status": "success", "message": "unsubscribed to: Q.AAPL"}, "stocks", "ok", {"quotes"},
                     id="unsubscribed is no subscription"),
        pytest.param({"status": "error", "message": "Your plan doesn't include websocket access to the Q channel "
                      "(subscription Q.AAPL)."}, "stocks", "refused", {"quotes"}, id="a channel outside the plan"),
        pytest.param({"status": "error", "message": "Your plan doesn't include websocket access. Upgrade."},
                     "stocks", "refused", set(), id="a refusal naming no channel"),
        pytest.param({"status": "error", "message": "not authorized (subscription XQ.BTC-USD)"}, "crypto",
                     "refused", {"quotes"}, id="crypto prefix"),
        pytest.param({"status": "max_connections", "message": "Maximum number of connections exceeded."},
                     "stocks", "notice", set(), id="max connections"),
        pytest.param({"status": "error", "message": "Invalid subscription: 'T' (want CHANNEL.SYMBOL)"},
                     "stocks", "notice", set(), id="an error that is no refusal"),
        pytest.param({"status": "auth_success", "message": "authenticated"}, "stocks", "ok", set(), id="auth"),
    ],
)  # fmt: skip
def test_status_messages(status: dict[str, str], asset_class: str, kind: str, channels: set[str]) -> None:
    assert classify({"ev": "status", **status}, asset_class) == (kind, frozenset(channels))


@pytest.mark.parametrize(
    ("backoff", "attempt", "low", "high"),
    [
        pytest.param(Backoff(0.5, 60), 0, 0.25, 0.5, id="first retry is quick"),
        pytest.param(Backoff(0.5, 60), 4, 4.0, 8.0, id="doubles per attempt"),
        pytest.param(Backoff(0.5, 60), 50, 30.0, 60.0, id="capped at 60 s"),
        pytest.param(Backoff(15, 300), 10, 150.0, 300.0, id="a refusal waits up to five minutes"),
    ],
)
def test_backoff_is_exponential_jittered_and_capped(
    backoff: Backoff, attempt: int, low: float, high: float
) -> None:
    rng = random.Random(7)  # noqa: S311 - jitter, not a secret
    delays = [backoff.delay(attempt, rng) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert len(set(delays)) > 100  # jittered: replicas that lost the same server do not return together


def test_redact_hides_the_key() -> None:
    assert redact("bad key sk-123 refused", "sk-123") == "bad key *** refused"
    assert redact("nothing", "") == "nothing"

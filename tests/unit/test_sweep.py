"""Which replica's drift sweep acts, read from kopf's peering object; and the per-object turns that keep a drift
check from reconciling a spec older than one already reconciled."""

from __future__ import annotations

import datetime
import threading
from typing import Any

import pytest

from anthill.controller.sweep import outranked, peer_alive
from anthill.owned import PAUSED_ANNOTATION, SUPERSEDED, Result, Turns

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


def peer(priority: int, seen_ago: float, lifetime: int = 60) -> dict[str, Any]:
    seen = NOW - datetime.timedelta(seconds=seen_ago)
    return {"priority": priority, "lastseen": seen.isoformat(), "lifetime": lifetime}


@pytest.mark.parametrize(
    ("entry", "alive"),
    [
        pytest.param(peer(1, 10), True, id="seen-within-its-lifetime"),
        pytest.param(peer(1, 61), False, id="silent-past-its-lifetime"),
        pytest.param(peer(1, 100, lifetime=300), True, id="its-own-lifetime-counts"),
        pytest.param(
            {"priority": 1, "lastseen": "2026-12-03T11:59:30", "lifetime": 60}, True, id="naive-is-utc"
        ),
        pytest.param({"priority": 1}, False, id="never-seen"),
        pytest.param({"priority": 1, "lastseen": "yesterday"}, False, id="unreadable"),
    ],
)
def test_a_peer_is_alive_within_its_lifetime(entry: dict[str, Any], alive: bool) -> None:
    assert peer_alive(entry, NOW) is alive


@pytest.mark.parametrize(
    ("peers", "paused"),
    [
        pytest.param({}, False, id="not-joined-yet"),
        pytest.param({"me": peer(100, 1)}, False, id="alone"),
        pytest.param({"me": peer(100, 1), "other": peer(50, 1)}, False, id="the-other-ranks-lower"),
        pytest.param({"me": peer(100, 1), "other": peer(200, 1)}, True, id="a-live-higher-priority"),
        pytest.param({"me": peer(100, 1), "other": peer(200, 120)}, False, id="the-higher-one-is-dead"),
        # kopf pauses every replica of a priority two share: neither may sweep.
        pytest.param({"me": peer(100, 1), "twin": peer(100, 1)}, True, id="two-of-the-same-priority"),
        pytest.param({"me": peer(100, 1), "twin": peer(100, 90)}, False, id="the-twin-is-dead"),
    ],
)
def test_a_replica_is_outranked_as_kopf_decides_its_pause(peers: dict[str, Any], paused: bool) -> None:
    assert outranked(peers, 100, NOW) is paused


def feed(generation: int, uid: str = "u1", **annotations: str) -> dict[str, Any]:
    meta = {"namespace": "n", "name": "f", "uid": uid, "generation": generation, "annotations": annotations}
    return {"metadata": meta, "spec": {"generation": generation}}


class Recorder:
    def __init__(self, stored: dict[str, Any] | None) -> None:
        self.stored = stored
        self.reconciled: list[int] = []
        self.reads = 0

    def reconcile(self, body: dict[str, Any]) -> Result:
        self.reconciled.append(body["spec"]["generation"])
        return Result("Available")

    def read(self, namespace: str, name: str) -> dict[str, Any] | None:
        assert (namespace, name) == ("n", "f")
        self.reads += 1
        return self.stored


def test_a_body_older_than_the_spec_already_reconciled_is_read_again() -> None:
    """A drift pass listed generation 1; an edit's handler reconciled generation 2 before the pass's turn came.
    Reconciling the listed body would put the old spec back: the object is read again instead."""
    turns, server = Turns(), Recorder(feed(2))
    turns.run(feed(1), server.reconcile, server.read)
    turns.run(feed(2), server.reconcile, server.read)
    assert server.reads == 0  # bodies as new as any before them are taken as they are
    assert turns.run(feed(1), server.reconcile, server.read).reason == "Available"
    assert (server.reconciled, server.reads) == ([1, 2, 2], 1)


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(None, id="deleted"),
        pytest.param(feed(3, **{PAUSED_ANNOTATION: "true"}), id="paused"),
        pytest.param(feed(1, uid="u2"), id="deleted-and-created-again"),
    ],
)
def test_a_stale_body_whose_object_went_on_is_superseded(stored: dict[str, Any] | None) -> None:
    turns, server = Turns(), Recorder(stored)
    turns.run(feed(2), server.reconcile, server.read)
    assert turns.run(feed(1), server.reconcile, server.read).reason == SUPERSEDED
    assert server.reconciled == [2]


def test_an_object_created_again_under_its_name_starts_over() -> None:
    """Generations count per object (uid): a new feed's generation 1 is not older than its namesake's 5."""
    turns, server = Turns(), Recorder(None)
    turns.run(feed(5, uid="old"), server.reconcile, server.read)
    turns.run(feed(1, uid="new"), server.reconcile, server.read)
    assert (server.reconciled, server.reads) == ([5, 1], 0)


def test_one_reconcile_of_an_object_at_a_time() -> None:
    turns = Turns()
    inside, release = threading.Event(), threading.Event()
    order: list[str] = []

    def slow(body: dict[str, Any]) -> Result:
        order.append("slow")
        inside.set()
        release.wait(10)
        return Result("Available")

    def fast(body: dict[str, Any]) -> Result:
        order.append("fast")
        return Result("Available")

    first = threading.Thread(target=turns.run, args=(feed(1), slow, lambda *_: None))
    first.start()
    inside.wait(10)
    second = threading.Thread(target=turns.run, args=(feed(1), fast, lambda *_: None))
    second.start()
    second.join(0.2)  # bounded: the second must still be waiting for the first's turn
    assert second.is_alive()
    assert order == ["slow"]
    release.set()
    first.join(10)
    second.join(10)
    assert order == ["slow", "fast"]

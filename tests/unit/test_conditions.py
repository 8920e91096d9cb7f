"""Conditions: lastTransitionTime moves only when status does, so idle reconciles write nothing."""

from __future__ import annotations

import datetime

from anthill.conditions import condition, merge_conditions

T0 = datetime.datetime(2026, 11, 28, 3, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)


def test_new_conditions_get_the_current_time_and_a_stable_order() -> None:
    merged = merge_conditions([], [condition("Synced", True, "ReconcileSuccess", "", 1),
                                   condition("Ready", True, "Available", "ok", 1)], T0)  # fmt: skip
    assert [c["type"] for c in merged] == ["Ready", "Synced"]
    assert {c["lastTransitionTime"] for c in merged} == {"2026-11-28T03:00:00Z"}


def test_same_status_keeps_the_transition_time_even_if_the_message_changes() -> None:
    first = merge_conditions([], [condition("Ready", True, "Available", "a", 1)], T0)
    second = merge_conditions(first, [condition("Ready", True, "Available", "b", 2)], T1)
    assert second[0]["lastTransitionTime"] == "2026-11-28T03:00:00Z"
    assert (second[0]["message"], second[0]["observedGeneration"]) == ("b", 2)


def test_status_change_moves_the_transition_time() -> None:
    first = merge_conditions([], [condition("Ready", True, "Available", "", 1)], T0)
    second = merge_conditions(first, [condition("Ready", False, "SecretNotFound", "gone", 1)], T1)
    assert second[0]["lastTransitionTime"] == "2026-11-28T03:05:00Z"


def test_unchanged_input_is_a_fixed_point() -> None:
    updates = [
        condition("Ready", True, "Available", "", 1),
        condition("Synced", True, "ReconcileSuccess", "", 1),
    ]
    once = merge_conditions([], updates, T0)
    assert merge_conditions(once, updates, T1) == once

"""Suite-wide wiring: kind tests skip with the reason when Docker or kind is missing."""

from __future__ import annotations

import functools

import pytest

from anthill.dev.cluster import kind_unavailable


@functools.cache
def _kind_skip_reason() -> str | None:
    return kind_unavailable()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    kind_items = [item for item in items if item.get_closest_marker("kind")]
    if not kind_items:
        return
    reason = _kind_skip_reason()
    if reason is None:
        return
    for item in kind_items:
        item.add_marker(pytest.mark.skip(reason=f"kind test: {reason}"))

"""Label values and names from resource names: valid at any name length, the same every time."""

from __future__ import annotations

import re

import pytest

from anthill.naming import LABEL_VALUE_MAX, label_value, shortened

# The API server's rule for label values (k8s.io/apimachinery validation.IsValidLabelValue).
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
LONGEST_NAME = "a" * 61 + "." + "b" * 61 + "." + "c" * 61 + "." + "d" * 67  # 253: the longest object name


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("daily", id="short names are kept as they are"),
        pytest.param("x" * LABEL_VALUE_MAX, id="exactly 63 is kept"),
        pytest.param("x" * (LABEL_VALUE_MAX + 1), id="one over is hashed"),
        pytest.param(LONGEST_NAME, id="the longest name a custom resource can have"),
        pytest.param("a" * 53 + "-" * 10 + "b" * 10, id="a cut at hyphens does not end the value with one"),
        pytest.param("a" * 53 + "." * 10 + "b" * 10, id="nor with a dot"),
    ],
)
def test_label_values_are_valid_for_any_name(name: str) -> None:
    value = label_value(name)
    assert len(value) <= LABEL_VALUE_MAX
    assert LABEL_VALUE.match(value)
    assert value == label_value(name)  # selectors compute it again and must match
    assert (value == name) == (len(name) <= LABEL_VALUE_MAX)


def test_long_names_that_share_a_prefix_stay_distinct() -> None:
    assert label_value("a" * 100 + "1") != label_value("a" * 100 + "2")


def test_shortened_keeps_the_start_of_the_name_for_readers() -> None:
    assert shortened(LONGEST_NAME, 40).startswith("a" * 31 + "-")
    assert len(shortened(LONGEST_NAME, 40)) == 40

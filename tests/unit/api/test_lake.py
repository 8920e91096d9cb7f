"""The lake layout both the ingest and the operator use, and the platform's per-namespace lake prefix."""

from __future__ import annotations

import pytest

from anthill_api.lake import bronze_uri, is_key_segment, outside_prefix, prefix_violation, state_key

PREFIX = "s3://anthill-lake-prod/market/"


def test_every_key_of_a_feed_carries_its_namespace() -> None:
    assert bronze_uri("s3://lake/data/", "team-a", "daily") == "s3://lake/data/bronze/team-a/daily"
    assert state_key("team-a", "daily") != state_key("team-b", "daily")


@pytest.mark.parametrize(
    ("uri", "inside"),
    [
        pytest.param("s3://anthill-lake-prod/market", True, id="the prefix itself, without its slash"),
        pytest.param("s3://anthill-lake-prod/market/equities", True, id="a folder below it"),
        pytest.param("s3a://anthill-lake-prod/market/gold", True, id="s3a is the same bucket as s3"),
        pytest.param("S3://anthill-lake-prod/market//x", True, id="scheme case and empty segments do not matter"),
        pytest.param("s3://anthill-lake-prod/marketing", False, id="a longer name is not a folder below"),
        pytest.param("s3://anthill-lake-prod/other", False, id="another namespace's folder"),
        pytest.param("s3://anthill-lake-prod", False, id="the bucket root"),
        pytest.param("s3://anthill-lake-prod.attacker/market", False, id="another bucket with the name as prefix"),
        pytest.param("s3://anthill-lake-prod/market/../other", False, id="dot-dot climbs out"),
        pytest.param("s3://anthill-lake-prod/market/%2E%2E/other", False, id="encoded dot-dot climbs out"),
        pytest.param("s3://anthill-lake-prod/market/./x", False, id="a dot segment"),
        pytest.param("file:///anthill-lake-prod/market", False, id="another scheme"),
        pytest.param("s3://anthill-lake-prod/market?x=1", False, id="a query"),
        pytest.param("s3://user@anthill-lake-prod/market", False, id="user info"),
    ],
)  # fmt: skip
def test_outside_prefix_compares_parsed_segments(uri: str, inside: bool) -> None:
    assert (outside_prefix(uri, PREFIX) is None) is inside


def test_prefix_violation_renders_the_namespace_and_names_the_field() -> None:
    template = "s3://anthill-lake-prod/{namespace}/"
    assert prefix_violation(template, "market", "spec.lake.uri", "s3://anthill-lake-prod/market/x") is None
    message = prefix_violation(template, "other", "spec.lake.uri", "s3://anthill-lake-prod/market/x")
    assert message is not None
    assert message.startswith("spec.lake.uri must lie under s3://anthill-lake-prod/other/")
    assert prefix_violation("", "other", "spec.lake.uri", "file:///anywhere") is None  # no prefix: no rule


@pytest.mark.parametrize(
    ("name", "valid"),
    [("daily", True), ("us-equities.v2", True), ("..", False), ("a/b", False), ("Daily", False), ("", False)],
)
def test_only_kubernetes_names_become_key_segments(name: str, valid: bool) -> None:
    assert is_key_segment(name) is valid

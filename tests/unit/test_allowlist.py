"""The platform team's allowlists for images, Databricks wheels and instance profiles (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from anthill.allowlist import (
    Allowlists,
    ImageName,
    image_refusal,
    instance_profile_refusal,
    parse_image,
    wheel_refusal,
)
from anthill.settings import OperatorSettings
from anthill_api.pipeline import MedallionPipelineSpec

REPO = Path(__file__).resolve().parents[2]
PLATFORM = ["ghcr.io/anthill-platform"]
DIGEST = "sha256:" + "a" * 64
PROFILE = "arn:aws:iam::123456789012:instance-profile/anthill-dev"


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        pytest.param("ubuntu", ImageName("docker.io", "library/ubuntu"), id="official image"),
        pytest.param("local/anthill-spark:abc", ImageName("docker.io", "local/anthill-spark"), id="hub user"),
        pytest.param(
            "localhost/local/anthill-spark", ImageName("localhost", "local/anthill-spark"), id="localhost"
        ),
        pytest.param("registry:5000/a/b:1", ImageName("registry:5000", "a/b"), id="registry with port"),
        pytest.param(f"ghcr.io/a/b:1@{DIGEST}", ImageName("ghcr.io", "a/b"), id="tag and digest"),
        pytest.param(f"ghcr.io/a/b@{DIGEST}", ImageName("ghcr.io", "a/b"), id="digest only"),
    ],
)
def test_parse_image(reference: str, expected: ImageName) -> None:
    assert parse_image(reference) == expected


@pytest.mark.parametrize(
    "reference",
    [
        pytest.param("GHCR.io/Anthill/Spark", id="uppercase path"),
        pytest.param("ghcr.io/a/b:", id="empty tag"),
        pytest.param("ghcr.io/a/b@sha256:short", id="short digest"),
        pytest.param("ghcr.io//b", id="empty component"),
        pytest.param("ghcr.io/a/../b", id="dot segment"),
        pytest.param("", id="empty"),
    ],
)
def test_parse_image_refuses_what_is_no_reference(reference: str) -> None:
    with pytest.raises(ValueError, match=r"is not an image reference|invalid"):
        parse_image(reference)


@pytest.mark.parametrize(
    ("image", "allowed", "ok"),
    [
        pytest.param("ghcr.io/anthill-platform/anthill-spark:0.1.0", PLATFORM, True, id="under the prefix"),
        pytest.param(
            f"ghcr.io/anthill-platform/anthill-spark:1@{DIGEST}", PLATFORM, True, id="with a digest"
        ),
        pytest.param("ghcr.io/anthill-platform-evil/x:1", PLATFORM, False, id="prefix of a segment only"),
        pytest.param("ghcr.io.evil.example/anthill-platform/x:1", PLATFORM, False, id="registry lookalike"),
        pytest.param("anthill-platform/anthill-spark:1", PLATFORM, False, id="same path on Docker Hub"),
        pytest.param("ghcr.io/anthill-platform", PLATFORM, True, id="the prefix itself"),
        pytest.param("ghcr.io/other/x:1", ["ghcr.io"], True, id="a whole registry"),
        pytest.param(
            "ghcr.io/anthill-platform/x:1", ["ghcr.io/anthill-platform/"], True, id="trailing slash"
        ),
        pytest.param("ubuntu:24.04", ["docker.io/library"], True, id="official images by their full name"),
        pytest.param("local/anthill-spark:abc", ["local/anthill-spark"], True, id="a locally built image"),
        pytest.param("local/anthill-spark-evil:abc", ["local/anthill-spark"], False, id="local lookalike"),
        pytest.param("ghcr.io/anthill-platform/x:1", [], False, id="empty list allows nothing"),
        pytest.param("Not An Image", PLATFORM, False, id="unparseable"),
    ],
)
def test_image_refusal(image: str, allowed: list[str], ok: bool) -> None:
    refusal = image_refusal(image, allowed)
    assert (refusal is None) == ok, refusal


@pytest.mark.parametrize(
    ("wheel", "allowed", "ok"),
    [
        pytest.param(
            OperatorSettings.model_fields["spark_wheel"].default,
            ["/Volumes/anthill/"],
            True,
            id="the operator's default wheel passes the default list",
        ),
        pytest.param("/Volumes/anthill-evil/w.whl", ["/Volumes/anthill/"], False, id="segment lookalike"),
        pytest.param("/Volumes/anthill/../other/w.whl", ["/Volumes/anthill/"], False, id="climbs out"),
        pytest.param("/Volumes/anthill/%2e%2e/other/w.whl", ["/Volumes/anthill/"], False, id="encoded climb"),
        pytest.param("/Volumes/anthill/x/w.whl", ["/Volumes/anthill"], True, id="entry without slash"),
        pytest.param("dbfs:/wheels/w.whl", ["/Volumes/anthill/"], False, id="another file system"),
        pytest.param("dbfs:/wheels/w.whl", ["dbfs:/wheels/"], True, id="an allowed dbfs folder"),
        pytest.param("/Volumes/anthill/w.whl", [], False, id="empty list allows nothing"),
    ],
)
def test_wheel_refusal(wheel: str, allowed: list[str], ok: bool) -> None:
    refusal = wheel_refusal(wheel, allowed)
    assert (refusal is None) == ok, refusal


@pytest.mark.parametrize(
    ("arn", "allowed", "ok"),
    [
        pytest.param(PROFILE, [PROFILE], True, id="exact"),
        pytest.param(PROFILE + "-admin", [PROFILE], False, id="exact entries are not prefixes"),
        pytest.param(PROFILE, [], False, id="none allowed by default"),
        pytest.param(
            "arn:aws:iam::123456789012:instance-profile/anthill/dev",
            ["arn:aws:iam::123456789012:instance-profile/anthill/"],
            True,
            id="path prefix",
        ),
        pytest.param(
            "arn:aws:iam::123456789012:instance-profile/anthill-admin",
            ["arn:aws:iam::123456789012:instance-profile/anthill/"],
            False,
            id="path lookalike",
        ),
    ],
)
def test_instance_profile_refusal(arn: str, allowed: list[str], ok: bool) -> None:
    refusal = instance_profile_refusal(arn, allowed)
    assert (refusal is None) == ok, refusal


def _spec(kind: str, **runtime: Any) -> MedallionPipelineSpec:
    docs = yaml.safe_load_all((REPO / "examples" / f"medallion-{kind}.yaml").read_text())
    raw = next(doc for doc in docs if doc["kind"] == "MedallionPipeline")["spec"]
    if kind == "databricks":
        raw["runtime"]["databricks"]["cluster"].pop("instanceProfileArn", None)
    raw["runtime"][kind].update(runtime)
    return MedallionPipelineSpec.model_validate(raw)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        pytest.param(_spec("kubernetes"), None, id="the example image"),
        pytest.param(
            _spec("kubernetes", image="docker.io/attacker/miner:1"),
            "spec.runtime.kubernetes.image",
            id="a foreign image",
        ),
        pytest.param(_spec("databricks"), None, id="the default wheel, no instance profile"),
        pytest.param(
            _spec("databricks", wheel="/Workspace/Users/me/evil.whl"),
            "spec.runtime.databricks.wheel",
            id="a foreign wheel",
        ),
        pytest.param(
            _spec(
                "databricks",
                cluster={
                    "sparkVersion": "17.3.x-scala2.13",
                    "nodeTypeId": "m6i.xlarge",
                    "instanceProfileArn": PROFILE + "-admin",
                },
            ),
            "spec.runtime.databricks.cluster.instanceProfileArn",
            id="an instance profile not allowed",
        ),
    ],
)
def test_pipeline_refusal_names_the_field(spec: MedallionPipelineSpec, field: str | None) -> None:
    refusal = Allowlists(PLATFORM, ["/Volumes/anthill/"], [PROFILE]).pipeline_refusal(spec)
    if field is None:
        assert refusal is None
    else:
        assert refusal is not None
        assert refusal.startswith(f"{field}: ")


def test_settings_read_the_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHILL_ALLOWED_IMAGES", "ghcr.io/anthill-platform, local/anthill-spark")
    monkeypatch.setenv("ANTHILL_ALLOWED_INSTANCE_PROFILES", PROFILE)
    monkeypatch.delenv("ANTHILL_ALLOWED_WHEELS", raising=False)
    settings = OperatorSettings()
    assert settings.allowed_images == ["ghcr.io/anthill-platform", "local/anthill-spark"]
    assert settings.allowed_wheels == ["/Volumes/anthill/"]
    assert settings.allowed_instance_profiles == [PROFILE]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        pytest.param("ANTHILL_ALLOWED_IMAGES", "ghcr.io/*", id="wildcard image"),
        pytest.param("ANTHILL_ALLOWED_INSTANCE_PROFILES", "arn:aws:iam::*", id="wildcard profile"),
        pytest.param("ANTHILL_ALLOWED_IMAGES", "Not An Image", id="unparseable image prefix"),
    ],
)
def test_settings_refuse_entries_that_cannot_mean_what_they_say(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("ANTHILL_").lower()):
        OperatorSettings()

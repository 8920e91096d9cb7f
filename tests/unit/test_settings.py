"""Operator settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from anthill.settings import OperatorSettings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ANTHILL_NAMESPACES", "ANTHILL_DRIFT_INTERVAL", "ANTHILL_STANDALONE"):
        monkeypatch.delenv(var, raising=False)
    settings = OperatorSettings()
    assert (settings.namespaces, settings.drift_interval, settings.standalone) == ([], 60.0, False)


def test_namespaces_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHILL_NAMESPACES", "market, research,,")
    settings = OperatorSettings()
    assert settings.namespaces == ["market", "research"]
    assert settings.scopes == ["market", "research"]


def test_no_namespaces_is_one_cluster_wide_scope() -> None:
    assert OperatorSettings(namespaces=[]).scopes == [None]


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHILL_DRIFT_INTERVAL", "0")
    with pytest.raises(ValidationError, match="drift_interval"):
        OperatorSettings()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in OperatorSettings.model_fields:
        assert f"`ANTHILL_{name.upper()}`" in readme, f"ANTHILL_{name.upper()} is missing from the README"


def test_databricks_hosts_default_to_the_cloud_domains_and_loopback_is_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for var in ("ANTHILL_DATABRICKS_HOSTS", "ANTHILL_ALLOW_LOOPBACK_HOSTS"):
        monkeypatch.delenv(var, raising=False)
    settings = OperatorSettings()
    assert settings.databricks_hosts == [
        ".cloud.databricks.com",
        ".azuredatabricks.net",
        ".gcp.databricks.com",
    ]
    assert settings.allow_loopback_hosts is False


def test_databricks_hosts_are_comma_separated_suffixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHILL_DATABRICKS_HOSTS", ".Cloud.Databricks.com, dbc-1.example.org,")
    assert OperatorSettings().databricks_hosts == [".cloud.databricks.com", "dbc-1.example.org"]


@pytest.mark.parametrize("value", ["https://x.cloud.databricks.com", "*.databricks.com", "localhost", "."])
def test_a_databricks_host_that_is_no_suffix_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("ANTHILL_DATABRICKS_HOSTS", value)
    with pytest.raises(ValidationError, match="databricks_hosts"):
        OperatorSettings()

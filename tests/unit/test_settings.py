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
    assert OperatorSettings().namespaces == ["market", "research"]


def test_bad_values_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHILL_DRIFT_INTERVAL", "0")
    with pytest.raises(ValidationError, match="drift_interval"):
        OperatorSettings()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for name in OperatorSettings.model_fields:
        assert f"`ANTHILL_{name.upper()}`" in readme, f"ANTHILL_{name.upper()} is missing from the README"

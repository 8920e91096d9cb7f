"""The `anthill` command: version, and a useful --help on every command."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from anthill_api import __version__
from anthill_api.command import build_app

runner = CliRunner()
app = build_app()
REPO = Path(__file__).resolve().parents[3]


def _commands(group: typer.Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str]]:
    """Every command and group under ``group`` with the help text it shows."""
    for command in group.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__.replace("_", "-")
        yield (*path, name), command.help or inspect.getdoc(command.callback) or ""
    for sub in group.registered_groups:
        assert sub.name is not None
        assert sub.typer_instance is not None
        yield (*path, sub.name), str(sub.help or sub.typer_instance.info.help or "")
        yield from _commands(sub.typer_instance, (*path, sub.name))


COMMANDS = dict(_commands(app))


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"anthill {__version__}\n"


def test_the_documented_commands_exist() -> None:
    for expected in [("dev", "cluster", name) for name in ("up", "down", "status", "env")]:
        assert expected in COMMANDS


@pytest.mark.parametrize("path", [(), *COMMANDS], ids=lambda p: " ".join(p) or "anthill")
def test_every_command_explains_itself(path: tuple[str, ...]) -> None:
    result = runner.invoke(app, [*path, "--help"], terminal_width=120)
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output
    summary = COMMANDS.get(path, app.info.help or "").strip()
    assert summary, f"`anthill {' '.join(path)}` has no help text"
    assert summary.split(".")[0][:40] in " ".join(result.output.split())


def test_status_of_an_unknown_cluster_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("ANTHILL_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["dev", "cluster", "status", "--name", "nope"])
    assert result.exit_code == 1
    assert "no cluster named 'nope'" in result.output


def test_render_prints_the_children_of_a_feed() -> None:
    result = runner.invoke(app, ["render", str(REPO / "examples" / "market-holidays.yaml")])
    assert result.exit_code == 0, result.output
    assert [doc.split("\n")[0] for doc in result.output.split("---\n")] == [
        "apiVersion: v1",
        "apiVersion: batch/v1",
    ]


def test_render_names_the_bad_field() -> None:
    bad = REPO / "tests" / "data" / "marketfeeds" / "invalid" / "06-multiplier-zero.yaml"
    result = runner.invoke(app, ["render", str(bad)])
    assert result.exit_code == 1
    assert "spec.bars.multiplier" in result.output


def test_render_refuses_kinds_it_does_not_know(tmp_path: Path) -> None:
    manifest = tmp_path / "configmap.yaml"
    manifest.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
    result = runner.invoke(app, ["render", str(manifest)])
    assert result.exit_code == 1
    assert "cannot render ConfigMap x" in result.output


def test_render_prints_the_cronjob_of_a_kubernetes_pipeline_and_nothing_for_databricks() -> None:
    local = runner.invoke(app, ["render", str(REPO / "examples" / "medallion-kubernetes.yaml")])
    assert local.exit_code == 0, local.output
    assert [doc["kind"] for doc in yaml.safe_load_all(local.output)] == ["CronJob"]
    remote = runner.invoke(app, ["render", str(REPO / "examples" / "medallion-databricks.yaml")])
    assert remote.exit_code == 0, remote.output
    assert remote.output.strip() == ""

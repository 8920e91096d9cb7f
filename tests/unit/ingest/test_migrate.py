"""`anthill lake migrate`: a feed's objects from the layout without namespaces into <namespace>/<feed> keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from anthill_ingest.lake_cli import app
from anthill_ingest.migrate import Move, plan_moves

OLD_LAKE = {
    "bronze/aggregates/1day/date=2024-07-01/daily.parquet": b"daily-0701",
    "bronze/aggregates/1day/date=2024-07-02/daily.parquet": b"daily-0702",
    "bronze/aggregates/1day/date=2024-07-01/other.parquet": b"other-0701",
    "bronze/dividends/event/date=2024-07-01/daily.parquet": b"dividends",
    "_manifests/daily/2024-07-01_2024-07-02.json": json.dumps({"files": [
        {"key": "bronze/aggregates/1day/date=2024-07-01/daily.parquet"},
        {"key": "bronze/aggregates/1day/date=2024-07-02/daily.parquet"}]}).encode(),
    "_manifests/other/2024-07-01_2024-07-01.json": b"{}",
    "_state/daily.json": json.dumps({"watermark": "2024-07-02",
                                     "manifest": "_manifests/daily/2024-07-01_2024-07-02.json"}).encode(),
    "_state/other.json": b"{}",
    "_quarantine/daily/20240702T120000Z/reason.json": b"{}",
}  # fmt: skip


def lake(root: Path, objects: dict[str, bytes]) -> Path:
    for key, data in objects.items():
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(data)
    return root


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def migrate(root: Path, *extra: str) -> str:
    result = CliRunner().invoke(app, ["migrate", "--lake", f"file://{root}", "--namespace", "market",
                                      "--feed", "daily", *extra])  # fmt: skip
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize(
    ("key", "target"),
    [
        pytest.param("bronze/aggregates/1day/date=2024-07-01/daily.parquet",
                     "bronze/market/daily/aggregates/1day/date=2024-07-01/daily.parquet", id="a bronze partition"),
        pytest.param("_state/daily.json", "_state/market/daily.json", id="the watermark"),
        pytest.param("_manifests/daily/a_b.json", "_manifests/market/daily/a_b.json", id="a manifest"),
        pytest.param("_quarantine/daily/t/reason.json", "_quarantine/market/daily/t/reason.json", id="quarantine"),
        pytest.param("bronze/aggregates/1day/date=2024-07-01/other.parquet", None, id="another feed's file"),
        pytest.param("bronze/daily/daily/aggregates/1day/date=2024-07-01/daily.parquet", None,
                     id="new layout of a namespace named like the feed"),
        pytest.param("_manifests/daily/daily/a_b.json", None, id="a new-layout manifest"),
        pytest.param("_state/daily/daily.json", None, id="a new-layout watermark"),
    ],
)  # fmt: skip
def test_plan_moves_only_the_feeds_old_keys(key: str, target: str | None) -> None:
    expected = [Move(key, target)] if target else []
    assert plan_moves([key], "market", "daily") == expected


def test_the_watermark_moves_last() -> None:
    moves = plan_moves(sorted(OLD_LAKE), "market", "daily")
    assert moves[-1].source == "_state/daily.json"
    assert moves[0].source.startswith("bronze/")


def test_dry_run_lists_the_moves_and_changes_nothing(tmp_path: Path) -> None:
    root = lake(tmp_path, OLD_LAKE)
    output = migrate(root)
    assert "would move _state/daily.json -> _state/market/daily.json" in output
    assert "6 objects would move; run again with --apply" in output.replace("\n", " ")
    assert contents(root) == OLD_LAKE


def test_apply_moves_rewrites_references_and_is_idempotent(tmp_path: Path) -> None:
    root = lake(tmp_path, OLD_LAKE)
    migrate(root, "--apply")
    after = contents(root)
    new = "bronze/market/daily/aggregates/1day/date={}/daily.parquet"
    assert after[new.format("2024-07-01")] == b"daily-0701"
    assert after["bronze/market/daily/dividends/event/date=2024-07-01/daily.parquet"] == b"dividends"
    assert after["_quarantine/market/daily/20240702T120000Z/reason.json"] == b"{}"
    state = json.loads(after["_state/market/daily.json"])
    assert state == {
        "watermark": "2024-07-02",
        "manifest": "_manifests/market/daily/2024-07-01_2024-07-02.json",
    }
    manifest = json.loads(after[state["manifest"]])
    assert [f["key"] for f in manifest["files"]] == [new.format("2024-07-01"), new.format("2024-07-02")]
    others = {k: v for k, v in OLD_LAKE.items() if "other" in k}
    assert {k: v for k, v in after.items() if "daily" not in k} == others  # other feeds untouched
    assert not [k for k in after if "daily" in k and "/market/daily" not in k]  # nothing left behind

    assert "nothing of market/daily in the old layout" in migrate(root, "--apply")
    assert contents(root) == after


def test_an_object_the_new_layout_already_has_is_not_overwritten(tmp_path: Path) -> None:
    """A run of the new version came first (or a migration was interrupted): the new key is kept."""
    newer = "bronze/market/daily/aggregates/1day/date=2024-07-02/daily.parquet"
    root = lake(
        tmp_path, {**OLD_LAKE, newer: b"newer", "_state/market/daily.json": b'{"watermark": "2024-07-09"}'}
    )
    assert "would drop _state/daily.json (kept: _state/market/daily.json already exists)" in migrate(root)
    migrate(root, "--apply")
    after = contents(root)
    assert after[newer] == b"newer"
    assert after["_state/market/daily.json"] == b'{"watermark": "2024-07-09"}'
    assert "_state/daily.json" not in after


def test_names_that_are_not_kubernetes_names_are_refused(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["migrate", "--lake", f"file://{tmp_path}", "--namespace", "..",
                                      "--feed", "daily"])  # fmt: skip
    assert result.exit_code == 2
    assert "must be a Kubernetes name" in result.output

"""Silver's input is named, never implied: the CLI and the wheel's entry points refuse to run without it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
from typer.testing import CliRunner

from anthill_spark.cli import app
from anthill_spark.jobs.entrypoints import main_all, main_bronze_to_silver


def test_spark_run_needs_the_bronze_of_the_feeds_to_read() -> None:
    """Without --bronze, silver would have to guess which of the lake's bronze is the pipeline's."""
    result = CliRunner().invoke(app, ["run", "--lake", "file:///nowhere"])
    assert result.exit_code == 2
    assert "--bronze" in result.output


@pytest.mark.parametrize("entry_point", [main_bronze_to_silver, main_all], ids=["bronze_to_silver", "all"])
def test_entry_points_need_the_bronze_of_the_feeds_to_read(
    entry_point: Callable[[Sequence[str] | None], None], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        entry_point(["--lake", "file:///nowhere"])
    assert exit_info.value.code == 2
    assert "--bronze is required" in capsys.readouterr().err

"""The shared cron pattern: what the CronJob API accepts passes, what it refuses fails (as pydantic sees it;
tests/integration/test_crds.py checks the API server's own regex engine)."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from anthill_api.marketfeed import MarketFeedSpec
from anthill_api.pipeline import MedallionPipelineSpec
from tests.helpers import REPO


def _specs(schedule: str) -> list[dict[str, object]]:
    feed = yaml.safe_load((REPO / "examples" / "us-equities-daily.yaml").read_text())["spec"]
    pipeline = yaml.safe_load((REPO / "examples" / "medallion-kubernetes.yaml").read_text())["spec"]
    return [{**feed, "schedule": schedule}, {**pipeline, "schedule": schedule}]


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param("30 17 * * 1-5", id="weekdays"),
        pytest.param("*/15 * * * *", id="a step over all"),
        pytest.param("5/10 * * * *", id="a start with a step"),
        pytest.param("1-59/2 0,12 * * *", id="a range with a step, a list"),
        pytest.param("59 23 31 12 6", id="every maximum"),
        pytest.param("0 0 1 1 0", id="every minimum"),
        pytest.param("00 06 * * *", id="leading zeros"),
        pytest.param("0 6 ? Jan,jul MON-FRI", id="names in either case, ? for a day"),
        pytest.param("@daily", id="a macro"),
    ],
)
def test_crons_the_cronjob_api_accepts_are_admitted(schedule: str) -> None:
    MarketFeedSpec.model_validate(_specs(schedule)[0])
    MedallionPipelineSpec.model_validate(_specs(schedule)[1])


@pytest.mark.parametrize(
    "schedule",
    [
        pytest.param("61 * * * *", id="minute 61"),
        pytest.param("60 * * * *", id="minute 60"),
        pytest.param("0 24 * * *", id="hour 24"),
        pytest.param("* * 32 * *", id="day 32"),
        pytest.param("* * 0 * *", id="day 0"),
        pytest.param("* * * 13 *", id="month 13"),
        pytest.param("* * * 0 *", id="month 0"),
        pytest.param("* * * * 7", id="weekday 7: CronJob counts 0-6"),
        pytest.param("*/0 * * * *", id="step 0"),
        pytest.param("0-61 * * * *", id="a range past the maximum"),
        pytest.param("0 6 * FOO *", id="no month name"),
        pytest.param("0 6 * * 1-5 2026", id="six fields"),
        pytest.param("every day", id="words"),
    ],
)
def test_crons_the_cronjob_api_refuses_are_rejected(schedule: str) -> None:
    feed, pipeline = _specs(schedule)
    with pytest.raises(ValidationError, match="schedule"):
        MarketFeedSpec.model_validate(feed)
    with pytest.raises(ValidationError, match="schedule"):
        MedallionPipelineSpec.model_validate(pipeline)

"""The demo's pure parts: the plan read from the example manifests, the summary, the SVG charts, the report."""

from __future__ import annotations

import datetime
import re
import xml.dom.minidom
from pathlib import Path

import pytest

from anthill_devkit.demo.report import Series, html_report, line_chart, summarize
from anthill_devkit.demo.run import DemoError, load_plan

REPO = Path(__file__).resolve().parents[3]
D = datetime.date


def test_plan_reads_the_example_feeds_and_pipeline() -> None:
    plan = load_plan(REPO / "examples" / "demo.yaml", None)
    assert [feed.name for feed in plan.feeds] == [
        "demo-equities",
        "demo-indices",
        "demo-dividends",
        "demo-splits",
    ]
    assert plan.lake == "file:///tmp/anthill-demo/lake"
    assert len(plan.gold) == 7
    moved = load_plan(REPO / "examples" / "demo.yaml", "file:///data/lake/")
    assert {feed.spec.destination.uri for feed in moved.feeds} == {"file:///data/lake"}


@pytest.mark.parametrize(
    ("lake", "text", "message"),
    [
        ("s3://bucket/lake", None, "runs on a local lake"),
        (None, "kind: MarketFeed\nmetadata: {name: x}\nspec: {dataset: nope}\n", "spec.dataset"),
        (None, "kind: ConfigMap\n", "exactly one MedallionPipeline"),
    ],
)
def test_plan_errors_name_the_problem(
    tmp_path: Path, lake: str | None, text: str | None, message: str
) -> None:
    manifest = REPO / "examples" / "demo.yaml"
    if text is not None:
        manifest = tmp_path / "bad.yaml"
        manifest.write_text(text)
    with pytest.raises(DemoError, match=message):
        load_plan(manifest, lake)
    with pytest.raises(DemoError, match="does not exist"):
        load_plan(tmp_path / "missing.yaml", None)


def test_summary_takes_the_latest_year_per_ticker() -> None:
    closes = [{"ticker": "A", "date": D(2025, 12, 31), "close": 10.0}, {"ticker": "A", "date": D(2026, 3, 2), "close": 12.0},
              {"ticker": "B", "date": D(2026, 3, 2), "close": None}, {"ticker": "B", "date": D(2026, 3, 1), "close": 5.0}]  # fmt: skip
    yearly = [{"ticker": "A", "year": 2025, "annual_return": 0.5, "volatility": 0.2, "beta": 1.0, "sharpe": 2.0},
              {"ticker": "A", "year": 2026, "annual_return": 0.2, "volatility": 0.3, "beta": float("nan"), "sharpe": None}]  # fmt: skip
    anomalies = [{"ticker": "A", "date": D(2026, 1, 5), "is_anomaly": True},
                 {"ticker": "A", "date": D(2025, 1, 5), "is_anomaly": True},
                 {"ticker": "B", "date": D(2026, 1, 5), "is_anomaly": None}]  # fmt: skip
    year, summary = summarize(closes, yearly, anomalies)
    assert year == 2026
    a, b = summary
    assert (a.ticker, a.last_close, a.ytd_return, a.volatility, a.beta, a.sharpe, a.anomalies) == (
        "A", 12.0, 0.2, 0.3, None, None, 1)  # fmt: skip
    assert (b.ticker, b.last_date, b.last_close, b.ytd_return, b.anomalies) == (
        "B",
        D(2026, 3, 1),
        5.0,
        None,
        0,
    )
    with pytest.raises(ValueError, match="no gold rows"):
        summarize([], [], [])


def test_line_chart_maps_points_inside_the_plot() -> None:
    line = Series("close", [(D(2026, 1, 1), 10.0), (D(2026, 1, 31), 20.0), (D(2026, 1, 16), 15.0)], "#000")
    svg = line_chart("A & B", [line])
    assert "A &amp; B" in svg
    [points] = re.findall(r'points="([^"]+)"', svg)
    coords = [tuple(map(float, pair.split(","))) for pair in points.split()]
    assert [x for x, _ in coords] == sorted(x for x, _ in coords)  # drawn in date order
    assert coords[0] == (48.0, 192.0)  # first date, lowest value: bottom left of the plot
    assert coords[-1] == (672.0, 48.0)  # last date, highest value: top right
    assert "no data yet" in line_chart("empty", [Series("x", [], "#000")])
    flat = line_chart("flat", [Series("x", [(D(2026, 1, 1), 3.0)], "#000")])
    assert "<polyline" in flat


def test_report_is_one_well_formed_offline_page() -> None:
    closes = [{"ticker": "A", "date": D(2026, 3, 2) - datetime.timedelta(days=n), "close": 10.0 + n,
               "sma_50": 11.0, "sma_200": None} for n in range(30)]  # fmt: skip
    year, summary = summarize(closes, [], [])
    drawdowns = [{"ticker": "A", "date": row["date"], "drawdown": -0.01 * n} for n, row in enumerate(closes)]
    breadth = [
        {"date": row["date"], "advancers": 3, "decliners": 1, "new_highs": 1, "new_lows": 0} for row in closes
    ]
    page = html_report(
        year, summary, closes, drawdowns, breadth, datetime.datetime(2026, 3, 3, 8, 0), "the sandbox"
    )
    assert page.startswith("<!doctype html>")
    assert "http" not in page.replace('xmlns="http', "")  # nothing fetched from elsewhere
    svgs = re.findall(r"<svg.*?</svg>", page, re.DOTALL)
    assert len(svgs) == 3  # breadth, drawdowns, one ticker
    for svg in svgs:
        xml.dom.minidom.parseString(svg)  # noqa: S318 - our own output, checked for well-formedness
    assert "<td>A</td><td>10.00</td>" in page

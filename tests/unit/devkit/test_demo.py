"""The demo's pure parts: the plan read from the example manifests, the summary, the SVG charts, the report."""

from __future__ import annotations

import datetime
import itertools
import math
import re
import xml.dom.minidom
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill_devkit.demo.report import (
    WIDTH,
    Series,
    breadth_chart,
    chart_layout,
    drawdown_chart,
    html_report,
    line_chart,
    price_charts,
    summarize,
    text_width,
)
from anthill_devkit.demo.run import DemoError, load_plan
from anthill_devkit.demo.stream import load_stream_plan

REPO = Path(__file__).resolve().parents[3]
D = datetime.date


def test_plan_reads_the_example_feeds_and_pipeline() -> None:
    plan = load_plan(REPO / "examples" / "demo.yaml", None)
    assert [feed.name for feed in plan.feeds] == [
        "demo-equities",
        "demo-unadjusted",
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


# Advance widths (in em) of DejaVu Sans, the sans-serif a bare Debian draws `system-ui` with, as its hmtx
# table gives them: the oracle for how wide the charts' text is drawn. Wider faces than the usual
# Arial/Helvetica metrics, so text that fits here fits there too.
DEJAVU_SANS_EM = {
    char: width
    for chars, width in [("'", 0.275), ("ijl", 0.278), ("IJ", 0.295), (" ,.", 0.318), (":/", 0.337), ("f", 0.352),
                         ("-", 0.361), ("()", 0.39), ("t", 0.392), ("r", 0.411), ("_", 0.5), ("s", 0.521),
                         ("z", 0.525), ("c", 0.55), ("L", 0.557), ("F", 0.575), ("k", 0.579), ("vxy", 0.592),
                         ("P", 0.603), ("TY", 0.611), ("o", 0.612), ("a", 0.613), ("e", 0.615), ("E", 0.632),
                         ("hnu", 0.634), ("bdgpqS", 0.635), ("0123456789", 0.636), ("K", 0.656), ("AV", 0.684),
                         ("XZ", 0.685), ("B", 0.686), ("R", 0.695), ("C", 0.698), ("U", 0.732), ("N", 0.748),
                         ("H", 0.752), ("D", 0.77), ("G", 0.775), ("&", 0.78), ("OQ", 0.787), ("w", 0.818),
                         ("+", 0.838), ("M", 0.863), ("%", 0.95), ("m", 0.974), ("W", 0.989), ("\u2026", 1.0)]
    for char in chars
}  # fmt: skip
FONT_SIZE = 11.0  # the report's `svg text` size, in the viewBox's units
ASCENT, DESCENT = 0.928, 0.236  # DejaVu Sans's line box above and below the baseline, in em


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float
    what: str

    def overlaps(self, other: Box) -> bool:
        return (
            self.left < other.right
            and other.left < self.right
            and self.top < other.bottom
            and other.top < self.bottom
        )


@dataclass(frozen=True)
class Drawn:
    """What a chart's SVG draws, as boxes: the viewBox, the plot (its grid), every text and legend swatch."""

    view: Box
    plot: Box
    texts: list[Box]
    swatches: list[Box]


def drawn(svg: str) -> Drawn:
    [markup] = re.findall(r"<svg.*?</svg>", svg, re.DOTALL)
    root = xml.dom.minidom.parseString(markup).documentElement  # noqa: S318 - our own output
    _, _, width, height = map(float, root.getAttribute("viewBox").split())
    grid = [line for line in root.getElementsByTagName("line") if line.getAttribute("class") == "grid"]
    xs = [float(line.getAttribute(side)) for line in grid for side in ("x1", "x2")]
    ys = [float(line.getAttribute("y1")) for line in grid]
    texts = []
    for node in root.getElementsByTagName("text"):
        text = "".join(child.data for child in node.childNodes if child.nodeType == child.TEXT_NODE)
        size = sum(DEJAVU_SANS_EM.get(char, 1.0) for char in text) * FONT_SIZE
        x, y = float(node.getAttribute("x")), float(node.getAttribute("y"))
        left = {"end": x - size, "middle": x - size / 2}.get(node.getAttribute("text-anchor"), x)
        texts.append(Box(left, y - ASCENT * FONT_SIZE, left + size, y + DESCENT * FONT_SIZE, text))
    swatches = [Box(float(r.getAttribute("x")), float(r.getAttribute("y")),
                    float(r.getAttribute("x")) + float(r.getAttribute("width")),
                    float(r.getAttribute("y")) + float(r.getAttribute("height")), "swatch")
                for r in root.getElementsByTagName("rect")]  # fmt: skip
    return Drawn(
        Box(0, 0, width, height, "viewBox"), Box(min(xs), min(ys), max(xs), max(ys), "plot"), texts, swatches
    )


def _days(count: int) -> list[datetime.date]:
    return [D(2025, 3, 3) + datetime.timedelta(days=day) for day in range(count)]


def _wave(low: float, high: float, count: int = 250) -> list[tuple[datetime.date, float]]:
    """``count`` days of values swinging between ``low`` and ``high``."""
    return [(day, low + (high - low) * (0.5 + 0.5 * math.sin(n / 17))) for n, day in enumerate(_days(count))]


TICKERS = ["AAPL", "AMZN", "GOOGL", "I:COMP", "I:NDX", "JNJ", "JPM", "KO", "META", "MSFT", "NVDA", "V",
           "WMT", "XOM"]  # fmt: skip
START = D(2025, 1, 1)
BREADTH = [{"date": day, "advancers": 3 + day.day % 9, "decliners": 12 - day.day % 9, "new_highs": day.day % 3,
            "new_lows": day.day % 2} for day in _days(250)]  # fmt: skip
DRAWDOWNS = [
    {"ticker": ticker, "date": day, "drawdown": value} for ticker in TICKERS for day, value in _wave(-0.35, 0)
]
PRICES = [{"ticker": "AAPL", "date": day, "close": value, "sma_50": value * 0.98, "sma_200": value * 0.95}
          for day, value in _wave(180, 260)]  # fmt: skip
LONG_NAMES = [Series("x" * 300, [(D(2026, 1, 1), 1.0), (D(2026, 1, 2), 2.0)], "#000"),
              Series("short", [(D(2026, 1, 1), 2.0), (D(2026, 1, 2), 1.0)], "#111")]  # fmt: skip
CHARTS = [
    # Index levels: "21,403.75" was drawn past the left edge with a fixed 48-unit margin.
    pytest.param(
        line_chart("I:NDX", [Series("close", _wave(17_512.3, 21_403.75), "#000")]), id="index-levels"
    ),
    # Breadth: three long names placed 110 units apart ran into each other.
    pytest.param(breadth_chart(BREADTH, START), id="breadth"),
    # The demo's 12 stocks and 2 indices: the legend wraps onto rows that must stay clear of the plot.
    pytest.param(drawdown_chart(DRAWDOWNS, START), id="fourteen-tickers"),
    # A price chart as the report draws one per ticker: close with its moving averages.
    pytest.param(price_charts(PRICES, START)[0], id="price-and-averages"),
    # Small numbers need a small margin, and still fit.
    pytest.param(line_chart("penny", [Series("close", _wave(0.01, 0.09, 30), "#000")]), id="tiny-prices"),
    # Volumes: negative and in the billions, the widest labels a chart gets.
    pytest.param(
        line_chart("volume", [Series("v", _wave(-1_234_567_890, 9_876_543_210, 30), "#000")], "{:,.0f}"),
        id="billions",
    ),
    # A name wider than the whole chart is shortened, not drawn past the edge or over its neighbours.
    pytest.param(line_chart("long", LONG_NAMES), id="long-name"),
]


@pytest.mark.parametrize("svg", CHARTS)
def test_chart_text_stays_inside_and_off_the_plot(svg: str) -> None:
    chart = drawn(svg)
    boxes = chart.texts + chart.swatches
    for box in boxes:
        assert chart.view.left <= box.left, f"{box} is cut off at the left"
        assert box.right <= chart.view.right, f"{box} is cut off at the right"
        assert chart.view.top <= box.top, f"{box} is cut off at the top"
        assert box.bottom <= chart.view.bottom, f"{box} is cut off at the bottom"
        assert not box.overlaps(chart.plot), f"{box} is drawn over the plot {chart.plot}"
    for one, other in itertools.combinations(boxes, 2):
        assert not one.overlaps(other), f"{one} overlaps {other}"


@pytest.mark.parametrize("svg", CHARTS)
def test_left_margin_follows_the_widest_tick_label(svg: str) -> None:
    chart = drawn(svg)
    labels = [box for box in chart.texts if box.right <= chart.plot.left]
    assert labels, "no y-axis labels"
    widest = max(box.right - box.left for box in labels)
    # Fits (above) and is not a fixed guess: the plot starts within a few units of the label's room.
    assert chart.plot.left - widest <= 24, f"margin {chart.plot.left} for labels {widest:.0f} wide"


@pytest.mark.parametrize(
    ("labels", "names"),
    [
        # Index levels: the margin grows to the widest label, wherever it sits in the list.
        pytest.param(["17,500.00", "21,403.75", "9.00"], ["close", "SMA 50", "SMA 200"], id="index-levels"),
        # The breadth chart's long names, which overlapped at a fixed spacing.
        pytest.param(
            ["-12", "0", "12"], ["advancers - decliners", "52-week highs", "52-week lows"], id="breadth"
        ),
        # The demo's 14 tickers wrap onto a second line, still above the plot.
        pytest.param(["0%", "-35%"], TICKERS, id="fourteen-tickers"),
        # One name wider than a whole line: shortened so that it keeps to the chart.
        pytest.param(["1.00"], ["x" * 300, "short"], id="long-name"),
        # No legend at all: the plot starts just below the top edge.
        pytest.param(["1.00"], [], id="no-legend"),
    ],
)
def test_layout_keeps_labels_and_legend_off_the_plot(labels: list[str], names: list[str]) -> None:
    layout = chart_layout(labels, names)
    plot = layout.plot
    assert plot.x - 6 >= max(text_width(label) for label in labels)  # the widest label fits left of the plot
    assert plot.bottom < layout.height
    boxes = [item.box for item in layout.legend]
    assert len(boxes) == len(names)
    for box in boxes:
        assert box.x >= 0, box
        assert box.right <= WIDTH, box
        assert box.y >= 0, box
        assert not box.overlaps(plot), box
    for one, other in itertools.combinations(boxes, 2):
        assert not one.overlaps(other), (one, other)


def test_text_width_is_never_below_the_widest_face() -> None:
    for char, em in DEJAVU_SANS_EM.items():
        assert text_width(char, size=1.0) >= em, char


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("21,403.75", id="index-level"),  # the labels that were cut off
        pytest.param("-35%", id="drawdown"),
        pytest.param("advancers - decliners", id="breadth-name"),  # the legend names that overlapped
        pytest.param("I:COMP", id="ticker"),
    ],
)
def test_text_width_leaves_little_slack(text: str) -> None:
    # Cautious, not wasteful: within 15% of what DejaVu Sans draws, so margins stay tight.
    drawn_width = sum(DEJAVU_SANS_EM[char] for char in text) * FONT_SIZE
    assert drawn_width <= text_width(text) <= drawn_width * 1.15


def test_line_chart_maps_points_inside_the_plot() -> None:
    line = Series("close", [(D(2026, 1, 1), 10.0), (D(2026, 1, 31), 20.0), (D(2026, 1, 16), 15.0)], "#000")
    svg = line_chart("A & B", [line])
    assert "A &amp; B" in svg
    plot = drawn(svg).plot
    [points] = re.findall(r'points="([^"]+)"', svg)
    coords = [tuple(map(float, pair.split(","))) for pair in points.split()]
    assert [x for x, _ in coords] == sorted(x for x, _ in coords)  # drawn in date order
    assert coords[0] == pytest.approx((plot.left, plot.bottom), abs=0.05)  # first date, lowest value
    assert coords[-1] == pytest.approx((plot.right, plot.top), abs=0.05)  # last date, highest value
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


def test_the_stream_demo_plan_points_the_stream_at_the_local_lake(tmp_path: Path) -> None:
    plan = load_stream_plan(REPO / "examples" / "demo-stream.yaml", "file:///tmp/elsewhere/lake")
    assert (plan.name, plan.lake, plan.gold) == (
        "demo-live",
        "file:///tmp/elsewhere/lake",
        ["intraday_bars", "spreads"],
    )
    assert plan.document["spec"]["destination"]["uri"] == "file:///tmp/elsewhere/lake"
    assert plan.document["metadata"] == {"name": "demo-live", "namespace": "demo"}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        pytest.param(lambda docs: docs[:1], "exactly one MarketStream and one MedallionPipeline", id="no-pipeline"),
        pytest.param(lambda docs: [docs[0], {**docs[1], "spec": {**docs[1]["spec"], "feeds": [{"name": "other"}]}}],
                     "must read the MarketStream demo-live", id="pipeline-reads-something-else"),
        pytest.param(lambda docs: [{**docs[0], "spec": {**docs[0]["spec"], "channels": []}}, docs[1]],
                     "spec.channels", id="invalid-stream"),
    ],
)  # fmt: skip
def test_a_stream_demo_manifest_that_cannot_run_is_refused(tmp_path: Path, edit: Any, message: str) -> None:
    docs = list(yaml.safe_load_all((REPO / "examples" / "demo-stream.yaml").read_text()))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump_all(edit(docs)))
    with pytest.raises(DemoError, match=message):
        load_stream_plan(manifest, None)

"""The demo's HTML report as Chromium draws it, from the demo's own instruments and the sandbox's prices.

The test's output folder (pytest's ``tmp_path``, kept for the last three runs under pytest's base temp dir,
e.g. ``/tmp/pytest-of-$USER/pytest-current/``) keeps ``report.html`` and ``report.png``, the screenshot to
look at. The assertions use the boxes Chromium itself computed with the fonts this machine has.
"""

from __future__ import annotations

import datetime
from collections import deque
from pathlib import Path
from typing import Any

import pytest
import yaml

from anthill_devkit.demo.report import html_report, summarize, text_width
from anthill_sandbox.data import INSTRUMENTS, daily_bar
from tests.helpers import REPO
from tests.integration.devkit.browser import ensure_chromium, measure, problems, screenshot

pytestmark = pytest.mark.integration

START, END = datetime.date(2024, 1, 2), datetime.date(2025, 12, 31)
YEAR_OF_SESSIONS = 252
Row = dict[str, Any]


def demo_tickers() -> list[str]:
    """The tickers of the example manifest's bar feeds: the stocks and indices the demo charts."""
    docs = yaml.safe_load_all((REPO / "examples" / "demo.yaml").read_text())
    return sorted({t for d in docs if d["kind"] == "MarketFeed" and d["spec"]["dataset"] == "aggregates"
                   for t in d["spec"]["tickers"]})  # fmt: skip


def _mean(values: deque[float], size: int) -> float | None:
    return sum(values) / size if len(values) == size else None


def demo_like_gold(tickers: list[str]) -> tuple[list[Row], list[Row], list[Row]]:
    """Moving averages, drawdowns and breadth rows as gold shapes them, from the sandbox's daily closes."""
    averages: list[Row] = []
    drawdowns: list[Row] = []
    closes: dict[str, dict[datetime.date, float]] = {}
    for ticker in tickers:
        bars = [daily_bar(ticker, START + datetime.timedelta(days=n)) for n in range((END - START).days + 1)]
        series = {bar.day: bar.close for bar in bars if bar is not None}
        closes[ticker] = series
        last50: deque[float] = deque(maxlen=50)
        last200: deque[float] = deque(maxlen=200)
        peak = 0.0
        for day, close in series.items():
            last50.append(close)
            last200.append(close)
            peak = max(peak, close)
            averages.append({"ticker": ticker, "date": day, "close": close, "sma_50": _mean(last50, 50),
                             "sma_200": _mean(last200, 200)})  # fmt: skip
            drawdowns.append({"ticker": ticker, "date": day, "drawdown": close / peak - 1})
    stocks = [t for t in tickers if INSTRUMENTS[t].market == "stocks"]
    days = sorted(set.intersection(*(set(closes[t]) for t in stocks)))
    breadth = []
    for index in range(1, len(days)):
        moves = [closes[t][days[index]] - closes[t][days[index - 1]] for t in stocks]
        window = days[max(0, index - YEAR_OF_SESSIONS + 1) : index + 1]
        full = index + 1 >= YEAR_OF_SESSIONS
        highs = (
            sum(closes[t][days[index]] >= max(closes[t][d] for d in window) for t in stocks) if full else None
        )
        lows = (
            sum(closes[t][days[index]] <= min(closes[t][d] for d in window) for t in stocks) if full else None
        )
        breadth.append({"date": days[index], "advancers": sum(m > 0 for m in moves),
                        "decliners": sum(m < 0 for m in moves), "new_highs": highs, "new_lows": lows})  # fmt: skip
    return averages, drawdowns, breadth


def test_report_draws_every_label_inside_its_chart_and_clear_of_the_rest(tmp_path: Path) -> None:
    browser = ensure_chromium()
    tickers = demo_tickers()
    averages, drawdowns, breadth = demo_like_gold(tickers)
    year, summary = summarize(averages, [], [])
    page = tmp_path / "report.html"
    page.write_text(html_report(year, summary, averages, drawdowns, breadth,
                                datetime.datetime(2026, 1, 2, 8, 0), "the sandbox market-data server"))  # fmt: skip

    rendered = measure(browser, page, tmp_path)
    png = screenshot(browser, page, tmp_path / "report.png", rendered.height)
    print(f"screenshot: {png}")

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(rendered.charts) == 2 + len(tickers)  # breadth, drawdowns, one price chart per ticker
    texts = [item for chart in rendered.charts for item in chart["items"] if item["kind"] == "text"]
    assert {"advancers - decliners", "52-week highs", "52-week lows", *tickers} <= {t["text"] for t in texts}
    assert problems(rendered) == []
    # The layout's width estimate holds for the font this machine really draws with.
    for text in texts:
        assert text["length"] <= text_width(text["text"], size=text["fontSize"]), text

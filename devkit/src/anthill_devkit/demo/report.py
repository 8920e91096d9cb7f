"""The demo's results: a per-ticker summary and a self-contained HTML report with SVG charts.

Pure: rows in (plain dicts, as Spark's ``Row.asDict()`` gives them), text out. The report embeds everything it
draws (no scripts, fonts or images from elsewhere), so it opens offline and can be mailed as one file.
"""

from __future__ import annotations

import datetime
import html
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

Row = dict[str, Any]
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
           "#bcbd22", "#17becf", "#393b79", "#637939", "#8c6d31", "#843c39")  # fmt: skip
WIDTH, HEIGHT, MARGIN = 720, 240, 48
Y_TICKS = 4


@dataclass(frozen=True)
class TickerSummary:
    """One line of the summary table (None where the lake has too little history)."""

    ticker: str
    last_date: datetime.date
    last_close: float
    ytd_return: float | None
    volatility: float | None
    beta: float | None
    sharpe: float | None
    anomalies: int


@dataclass(frozen=True)
class Series:
    name: str
    points: list[tuple[datetime.date, float]]
    color: str


def summarize(
    closes: Iterable[Row], yearly: Iterable[Row], anomalies: Iterable[Row]
) -> tuple[int, list[TickerSummary]]:
    """The latest year in the lake and, per ticker, its last close and that year's figures.

    ``closes``: ticker, date, close (gold.moving_averages); ``yearly``: gold.yearly_performance;
    ``anomalies``: ticker, date, is_anomaly (gold.anomalies).
    """
    last: dict[str, tuple[datetime.date, float]] = {}
    for row in closes:
        if row["close"] is not None and (row["ticker"] not in last or row["date"] > last[row["ticker"]][0]):
            last[row["ticker"]] = (row["date"], float(row["close"]))
    if not last:
        raise ValueError("the lake has no gold rows yet")
    year = max(day for day, _ in last.values()).year
    figures = {row["ticker"]: row for row in yearly if row["year"] == year}
    flagged: dict[str, int] = defaultdict(int)
    for row in anomalies:
        if row.get("is_anomaly") and row["date"].year == year:
            flagged[row["ticker"]] += 1
    summary = []
    for ticker in sorted(last):
        day, close = last[ticker]
        row = figures.get(ticker, {})
        summary.append(TickerSummary(ticker, day, close, _num(row.get("annual_return")), _num(row.get("volatility")),
                                     _num(row.get("beta")), _num(row.get("sharpe")), flagged[ticker]))  # fmt: skip
    return year, summary


def _num(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) or math.isinf(number) else number


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:+.1f}%"


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _ticks(low: float, high: float) -> list[float]:
    if high <= low:
        return [low]
    step = (high - low) / Y_TICKS
    return [low + step * index for index in range(Y_TICKS + 1)]


def line_chart(title: str, series: Sequence[Series], y_format: str = "{:,.2f}") -> str:
    """An SVG line chart of ``series`` over dates, with a y axis, the first and last date and a legend."""
    points = [point for line in series for point in line.points]
    label = html.escape(title)
    if not points:
        return f'<figure><figcaption>{label}</figcaption><p class="empty">no data yet</p></figure>'
    first = min(day for day, _ in points).toordinal()
    last = max(day for day, _ in points).toordinal()
    low = min(value for _, value in points)
    high = max(value for _, value in points)
    if high == low:
        low, high = low - 1, high + 1
    plot_w, plot_h = WIDTH - 2 * MARGIN, HEIGHT - 2 * MARGIN

    def x(day: datetime.date) -> float:
        return MARGIN + plot_w * (day.toordinal() - first) / max(last - first, 1)

    def y(value: float) -> float:
        return MARGIN + plot_h * (1 - (value - low) / (high - low))

    parts = [f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{label}">']
    for tick in _ticks(low, high):
        parts.append(f'<line x1="{MARGIN}" x2="{WIDTH - MARGIN}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'class="grid"/><text x="{MARGIN - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
                     f"{html.escape(y_format.format(tick))}</text>")  # fmt: skip
    for day, anchor in ((first, "start"), (last, "end")):
        date = datetime.date.fromordinal(day)
        parts.append(
            f'<text x="{x(date):.1f}" y="{HEIGHT - MARGIN + 18}" text-anchor="{anchor}">{date}</text>'
        )
    for index, line in enumerate(series):
        ordered = sorted(line.points)
        if ordered:
            path = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in ordered)
            parts.append(f'<polyline fill="none" stroke="{line.color}" stroke-width="1.5" points="{path}"/>')
        legend_x = MARGIN + (index % 6) * 110
        legend_y = 16 + (index // 6) * 14
        parts.append(f'<rect x="{legend_x}" y="{legend_y - 8}" width="10" height="3" fill="{line.color}"/>'
                     f'<text x="{legend_x + 14}" y="{legend_y - 3}">{html.escape(line.name)}</text>')  # fmt: skip
    parts.append("</svg>")
    return f"<figure><figcaption>{label}</figcaption>{''.join(parts)}</figure>"


def _since(rows: Iterable[Row], start: datetime.date) -> list[Row]:
    return [row for row in rows if row["date"] >= start]


def _series(rows: Iterable[Row], column: str, name: str, color: str) -> Series:
    return Series(
        name, [(row["date"], float(row[column])) for row in rows if row.get(column) is not None], color
    )


def price_charts(moving_averages: Sequence[Row], start: datetime.date) -> list[str]:
    """Per ticker: close with its 50- and 200-day simple moving averages."""
    by_ticker: dict[str, list[Row]] = defaultdict(list)
    for row in _since(moving_averages, start):
        by_ticker[row["ticker"]].append(row)
    charts = []
    for ticker in sorted(by_ticker):
        rows = by_ticker[ticker]
        lines = [_series(rows, "close", "close", PALETTE[0]), _series(rows, "sma_50", "SMA 50", PALETTE[1]),
                 _series(rows, "sma_200", "SMA 200", PALETTE[2])]  # fmt: skip
        charts.append(line_chart(f"{ticker}: close and moving averages", lines))
    return charts


def drawdown_chart(drawdowns: Sequence[Row], start: datetime.date) -> str:
    by_ticker: dict[str, list[Row]] = defaultdict(list)
    for row in _since(drawdowns, start):
        by_ticker[row["ticker"]].append(row)
    lines = [_series(rows, "drawdown", ticker, PALETTE[index % len(PALETTE)])
             for index, (ticker, rows) in enumerate(sorted(by_ticker.items()))]  # fmt: skip
    return line_chart("Drawdown from the running peak", lines, "{:.0%}")


def breadth_chart(breadth: Sequence[Row], start: datetime.date) -> str:
    rows = _since(breadth, start)
    net = Series("advancers - decliners",
                 [(r["date"], float(r["advancers"] - r["decliners"])) for r in rows], PALETTE[0])  # fmt: skip
    lines = [net, _series(rows, "new_highs", "52-week highs", PALETTE[2]),
             _series(rows, "new_lows", "52-week lows", PALETTE[3])]  # fmt: skip
    return line_chart("Market breadth", lines, "{:,.0f}")


STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 780px; color: #222; }
table { border-collapse: collapse; width: 100%; } th, td { padding: 4px 8px; text-align: right; }
th:first-child, td:first-child { text-align: left; } tr:nth-child(even) { background: #f4f4f4; }
figure { margin: 1.5rem 0; } figcaption { font-weight: 600; } svg { width: 100%; height: auto; }
svg text { font-size: 11px; fill: #555; } .grid { stroke: #ddd; } .empty { color: #888; }
"""


def html_report(
    year: int,
    summary: Sequence[TickerSummary],
    moving_averages: Sequence[Row],
    drawdowns: Sequence[Row],
    breadth: Sequence[Row],
    generated: datetime.datetime,
    source: str,
) -> str:
    """The whole report: the summary table, then prices, drawdowns and breadth over the last year."""
    latest = max(item.last_date for item in summary)
    start = latest - datetime.timedelta(days=365)
    header = "<tr><th>ticker</th><th>last close</th><th>YTD</th><th>volatility</th><th>beta</th>" \
             "<th>Sharpe</th><th>anomalies</th></tr>"  # fmt: skip
    rows = "".join(
        f"<tr><td>{html.escape(s.ticker)}</td><td>{s.last_close:,.2f}</td><td>{percent(s.ytd_return)}</td>"
        f"<td>{percent(s.volatility)}</td><td>{ratio(s.beta)}</td><td>{ratio(s.sharpe)}</td>"
        f"<td>{s.anomalies}</td></tr>"
        for s in summary
    )
    charts = [
        breadth_chart(breadth, start),
        drawdown_chart(drawdowns, start),
        *price_charts(moving_averages, start),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Anthill demo: {year}</title><style>{STYLE}</style></head><body>"
        f"<h1>Anthill demo</h1><p>Gold tables as of {latest}, from {html.escape(source)}; generated "
        f"{generated:%Y-%m-%d %H:%M} UTC. Figures are for {year} to date; volatility is annualised, beta and "
        f"correlation are against the mean of the Nasdaq-100 and Nasdaq Composite.</p>"
        f"<table>{header}{rows}</table>{''.join(charts)}</body></html>\n"
    )

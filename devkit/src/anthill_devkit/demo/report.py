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
Y_TICKS = 4
# Chart geometry, in the viewBox's units (the page scales the whole SVG to its width).
WIDTH = 720
PLOT_HEIGHT = 160
FONT_SIZE = 11  # `svg text` in STYLE: the estimates below are for this size
EDGE = 4  # kept clear inside the viewBox's border
TICK_GAP = 6  # between a y-axis label's end and the plot
RIGHT = 12  # right of the plot; the last date label ends at the plot's edge
LEGEND_ROW = 16  # a legend line: the text's line box (about 13 units at FONT_SIZE) and a gap
LEGEND_BASELINE = 11  # from a legend line's top to its text's baseline
SWATCH, SWATCH_GAP, ITEM_GAP = 10, 4, 16
# The top y-axis label straddles the plot's top edge (half a line above it); the legend stays clear of it.
LEGEND_GAP = 14
DATE_ROW = 22  # below the plot: the first and last dates
LABEL_NUDGE = 4  # from a y tick to its label's baseline, so that digits sit centred on the grid line
ELLIPSIS = "\u2026"

# Advance widths in em, rounded up from DejaVu Sans, the widest of the common sans-serif faces and the one a
# bare Linux draws `system-ui` with: text spaced by these never runs into its neighbours in any usual face,
# at the cost of a few units of slack where a narrower face (Arial, Helvetica, Segoe) draws it.
_EM = {**dict.fromkeys(" .,:;'|ijlIJ", 0.34), **dict.fromkeys("ft()[]/-r", 0.42),
       **dict.fromkeys("0123456789", 0.64), **dict.fromkeys("mwMW%", 1.0)}  # fmt: skip
_LOWER_EM, _UPPER_EM, _OTHER_EM = 0.64, 0.8, 1.0


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


@dataclass(frozen=True)
class Box:
    """A rectangle in the viewBox's units: top left corner, width and height."""

    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    def overlaps(self, other: Box) -> bool:
        """Whether the two share any area (touching edges do not count)."""
        return (
            self.x < other.right and other.x < self.right and self.y < other.bottom and other.y < self.bottom
        )


@dataclass(frozen=True)
class LegendItem:
    box: Box
    """The swatch and the name together."""
    name: str
    """As drawn: shortened with an ellipsis when the whole name would not fit on one line."""


@dataclass(frozen=True)
class ChartLayout:
    """Where a chart's parts go: legend lines on top, the plot under them, y labels left, dates below."""

    height: float
    plot: Box
    legend: tuple[LegendItem, ...]


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """How wide ``text`` is drawn at ``size``: an estimate never below DejaVu Sans's own advances."""
    em = 0.0
    for char in text:
        if char in _EM:
            em += _EM[char]
        elif char.islower():
            em += _LOWER_EM
        elif char.isupper():
            em += _UPPER_EM
        else:
            em += _OTHER_EM
    return em * size


def fit(text: str, width: float) -> str:
    """``text``, or as much of it as fits in ``width`` followed by an ellipsis."""
    if text_width(text) <= width:
        return text
    kept = text
    while kept and text_width(kept + ELLIPSIS) > width:
        kept = kept[:-1]
    return kept + ELLIPSIS


def chart_layout(y_labels: Sequence[str], names: Sequence[str]) -> ChartLayout:
    """The layout for a chart whose y axis reads ``y_labels`` and whose legend names ``names``.

    The left margin is the widest label's estimated width, so long labels (index levels such as 21,403.75)
    are never cut off and short ones waste no room. Legend items flow left to right in lines above the plot,
    wrapping before the plot's right edge, so they overlap neither each other nor the plot.
    """
    left = EDGE + max((text_width(label) for label in y_labels), default=0.0) + TICK_GAP
    right = WIDTH - RIGHT
    items: list[LegendItem] = []
    x, line = left, 0
    for name in names:
        shown = fit(name, right - left - SWATCH - SWATCH_GAP)
        width = SWATCH + SWATCH_GAP + text_width(shown)
        if x > left and x + width > right:
            x, line = left, line + 1
        items.append(LegendItem(Box(x, EDGE + line * LEGEND_ROW, width, LEGEND_ROW - 2), shown))
        x += width + ITEM_GAP
    legend_bottom = EDGE + (line + 1) * LEGEND_ROW if items else EDGE
    plot = Box(left, legend_bottom + LEGEND_GAP, right - left, PLOT_HEIGHT)
    return ChartLayout(plot.bottom + DATE_ROW + EDGE, plot, tuple(items))


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
    ticks = [(tick, y_format.format(tick)) for tick in _ticks(low, high)]
    layout = chart_layout([text for _, text in ticks], [line.name for line in series])
    plot = layout.plot

    def x(day: datetime.date) -> float:
        return plot.x + plot.width * (day.toordinal() - first) / max(last - first, 1)

    def y(value: float) -> float:
        return plot.y + plot.height * (1 - (value - low) / (high - low))

    parts = [f'<svg viewBox="0 0 {WIDTH} {layout.height:g}" role="img" aria-label="{label}">']
    for tick, text in ticks:
        parts.append(f'<line x1="{plot.x:.1f}" x2="{plot.right:.1f}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
                     f'class="grid"/><text x="{plot.x - TICK_GAP:.1f}" y="{y(tick) + LABEL_NUDGE:.1f}" '
                     f'text-anchor="end">{html.escape(text)}</text>')  # fmt: skip
    dates = [(first, "start")] if first == last else [(first, "start"), (last, "end")]
    for day, anchor in dates:
        date = datetime.date.fromordinal(day)
        parts.append(f'<text x="{x(date):.1f}" y="{plot.bottom + DATE_ROW - 4:.1f}" '
                     f'text-anchor="{anchor}">{date}</text>')  # fmt: skip
    for line, item in zip(series, layout.legend, strict=True):
        ordered = sorted(line.points)
        if ordered:
            path = " ".join(f"{x(day):.1f},{y(value):.1f}" for day, value in ordered)
            parts.append(f'<polyline fill="none" stroke="{line.color}" stroke-width="1.5" points="{path}"/>')
        parts.append(_legend_item(item, line))
    parts.append("</svg>")
    return f"<figure><figcaption>{label}</figcaption>{''.join(parts)}</figure>"


def _legend_item(item: LegendItem, line: Series) -> str:
    box = item.box
    swatch_y = box.y + LEGEND_BASELINE - 5.5  # a short bar level with the text's lower-case letters
    full = f"<title>{html.escape(line.name)}</title>" if item.name != line.name else ""
    return (f'<g class="legend"><rect x="{box.x:.1f}" y="{swatch_y:.1f}" width="{SWATCH}" height="3" '
            f'fill="{line.color}"/><text x="{box.x + SWATCH + SWATCH_GAP:.1f}" y="{box.y + LEGEND_BASELINE:.1f}">'
            f"{html.escape(item.name)}{full}</text></g>")  # fmt: skip


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

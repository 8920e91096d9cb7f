"""A page as a browser draws it: Debian's Chromium, headless, driven through its command line.

Chromium comes from Debian like the suite's other system packages (``ensure_debian_packages``), so a fresh
machine installs it on first use. Two runs per page: ``--dump-dom`` on a copy that measures every SVG's text
and swatches with the renderer's own ``getBBox`` (the fonts the machine really has), and ``--screenshot``.
"""

from __future__ import annotations

import html
import itertools
import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from anthill_devkit.node import ensure_debian_packages, missing_packages

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_PACKAGES: Mapping[str, str] = {str(CHROMIUM): "chromium"}
VIEWPORT_WIDTH = 900
TIMEOUT = 180.0
RESULT_ID = "anthill-measured"

# Runs after the page has laid out: every SVG's viewBox, its plot (the grid lines' extent) and the box of each
# text and rect in the SVG's own units, then the page's height, as JSON in one element that --dump-dom prints.
MEASURE = f"""<script>
(() => {{
  const box = (b) => ({{left: b.x, top: b.y, right: b.x + b.width, bottom: b.y + b.height}});
  const charts = [...document.querySelectorAll("svg")].map((svg) => {{
    const grid = [...svg.querySelectorAll("line.grid")].map((line) => box(line.getBBox()));
    const plot = grid.length ? {{left: Math.min(...grid.map((b) => b.left)), top: Math.min(...grid.map((b) => b.top)),
      right: Math.max(...grid.map((b) => b.right)), bottom: Math.max(...grid.map((b) => b.bottom))}} : null;
    const items = [...svg.querySelectorAll("text, rect")].map((el) => ({{
      kind: el.tagName, ...box(el.getBBox()),
      text: el.tagName === "text" ? el.childNodes[0].nodeValue : "",
      length: el.tagName === "text" ? el.getComputedTextLength() : 0,
      fontSize: parseFloat(getComputedStyle(el).fontSize),
    }}));
    const view = svg.viewBox.baseVal;
    return {{label: svg.getAttribute("aria-label"), view: {{width: view.width, height: view.height}}, plot, items}};
  }});
  const out = document.createElement("pre");
  out.id = "{RESULT_ID}";
  out.textContent = JSON.stringify({{height: document.documentElement.scrollHeight, charts}});
  document.body.appendChild(out);
}})();
</script>"""


@dataclass(frozen=True)
class Rendered:
    """What Chromium measured on a page: its height in CSS pixels and, per SVG chart, the boxes it drew."""

    height: int
    charts: list[dict[str, Any]]


def ensure_chromium() -> Path:
    """Chromium from Debian, installed with apt-get the first time (as root, as the suite installs packages)."""
    ensure_debian_packages(missing_packages(BROWSER_PACKAGES), print, what="the report's browser check")
    return CHROMIUM


def _chromium(browser: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # --no-sandbox: the suite runs as root, where Chromium refuses its sandbox. A profile of its own keeps
    # runs apart and leaves the user's untouched.
    command = [str(browser), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
               "--hide-scrollbars", f"--user-data-dir={profile}", *args]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=TIMEOUT)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr[-3000:]}")
    return result


def measure(browser: Path, page: Path, workdir: Path) -> Rendered:
    """Load a copy of ``page`` with MEASURE added and read back what it measured."""
    probe = workdir / f"{page.stem}.measure.html"
    probe.write_text(page.read_text().replace("</body>", f"{MEASURE}</body>"))
    dom = _chromium(browser, workdir / "profile", "--dump-dom", probe.as_uri()).stdout
    start = dom.index(f'<pre id="{RESULT_ID}">') + len(f'<pre id="{RESULT_ID}">')
    raw = dom[start : dom.index("</pre>", start)]
    found = json.loads(html.unescape(raw))
    return Rendered(int(found["height"]), found["charts"])


def screenshot(browser: Path, page: Path, png: Path, height: int) -> Path:
    """A PNG of the whole of ``page`` (``height`` CSS pixels tall) at a desktop width."""
    _chromium(browser, png.parent / "profile", f"--screenshot={png}", f"--window-size={VIEWPORT_WIDTH},{height}",
              page.as_uri())  # fmt: skip
    return png


def _overlap(one: dict[str, Any], other: dict[str, Any]) -> bool:
    """Whether two measured boxes share any area (touching edges do not count)."""
    return bool(one["left"] < other["right"] and other["left"] < one["right"] and one["top"] < other["bottom"]
                and other["top"] < one["bottom"])  # fmt: skip


def problems(rendered: Rendered) -> list[str]:
    """Every text or swatch Chromium drew outside its chart, on the plot, or on another one."""
    found = []
    for chart in rendered.charts:
        view, plot, items = chart["view"], chart["plot"], chart["items"]
        for item in items:
            what = f"{chart['label']}: {item['kind']} {item['text']!r}"
            if (
                min(item["left"], item["top"]) < 0
                or item["right"] > view["width"]
                or item["bottom"] > view["height"]
            ):
                found.append(f"{what} leaves the chart ({item} in {view})")
            if plot is not None and _overlap(item, plot):
                found.append(f"{what} is on the plot ({item} on {plot})")
        found += [f"{chart['label']}: {one['kind']} {one['text']!r} overlaps {other['kind']} {other['text']!r}"
                  for one, other in itertools.combinations(items, 2) if _overlap(one, other)]  # fmt: skip
    return found

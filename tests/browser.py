"""Helpers for browser tests: start `streamlit run` on a free port, drive Debian's Chromium.

Used by tests/test_browser.py and by scripts/screenshots.py. Never downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
READY = (
    "() => !!document.querySelector(\"[data-testid='stApp']\") && "
    "!!document.querySelector(\"[data-test-script-state='notRunning']\") && "
    "!document.querySelector(\"[data-testid='stSkeleton']\")"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_process(timeout_s: float = 60.0, env: dict[str, str] | None = None):
    """Run the dashboard on a free loopback port (extra environment ``env``); yields (base URL,
    the server's Popen)."""
    port = free_port()
    log = open(os.devnull, "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "dashboard.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("streamlit did not start")
            time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def streamlit_server(timeout_s: float = 60.0, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run the dashboard on a free loopback port (extra environment ``env``); yields its base URL."""
    with streamlit_process(timeout_s, env) as (url, _):
        yield url


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    """A Playwright page in Debian's headless Chromium."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": width, "height": height})
            yield page
        finally:
            browser.close()


def wait_ready(page, timeout_ms: int = 60000) -> None:
    """Wait until Streamlit has finished running the page's script."""
    page.wait_for_function(READY, timeout=timeout_ms)


DATA_SQUARES = "svg g.mark-symbol.role-mark path"
"""The data squares of a Vega-Lite square chart (SVG renderer; legend symbols are role-legend-symbol)."""

LARGEST_SQUARE = """(chart, sel) => { const ps = [...chart.querySelectorAll(sel)];
    let best = -1, area = -1;
    ps.forEach((p, i) => { const b = p.getBoundingClientRect();
                           if (b.width * b.height > area) { area = b.width * b.height; best = i; } });
    return best; }"""

TOOLTIP = """() => { const t = document.querySelector('#vg-tooltip-element.visible');
    return t ? Object.fromEntries([...t.querySelectorAll('tr')].map(r => [r.querySelector('td.key').innerText,
                                                                       r.querySelector('td.value').innerText]))
             : null; }"""


def click_largest_square(page, chart_index: int = 0) -> dict[str, str]:
    """Hover over the largest data square of a Vega-Lite square chart (SVG renderer), read its
    tooltip, click it; returns the tooltip's {title: text}."""
    chart = page.locator(f"[data-testid='stVegaLiteChart'] >> nth={chart_index}")
    squares = chart.locator(DATA_SQUARES)
    idx = chart.evaluate(LARGEST_SQUARE, DATA_SQUARES)
    target = squares.nth(idx)
    target.hover()
    page.wait_for_function(TOOLTIP, timeout=10000)
    tip = page.evaluate(TOOLTIP)
    target.click()
    return tip


CHART_OVERFLOW = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].map((c, i) => {
    const col = c.closest("[data-testid='stColumn']")
        || c.closest("[data-testid='stMainBlockContainer'] [data-testid='stVerticalBlock']");
    const pic = c.querySelector('svg.marks, canvas') || c;
    const a = pic.getBoundingClientRect(), b = col.getBoundingClientRect();
    return {chart: i, drawn: [Math.round(a.left), Math.round(a.right)], column: [Math.round(b.left), Math.round(b.right)],
            over: Math.max(b.left - a.left, a.right - b.right)};
}).filter(r => r.over > 1)"""
"""Charts whose drawing (the Vega SVG or canvas) reaches out of its column (an st.columns column, or
the main block for a chart outside columns) by more than 1 px."""


def collapse_sidebar(page) -> None:
    """Collapse the sidebar (as a user on a narrow screen would) and wait until the main block has
    taken its place."""
    if page.locator("[data-testid='stSidebar'][data-collapsed='false']").count():
        page.locator("[data-testid='stSidebar']").hover()  # the button shows on hover
        page.locator("button[aria-label='Collapse sidebar']").first.click()
    page.wait_for_function(
        "() => document.querySelector(\"[data-testid='stMainBlockContainer']\").getBoundingClientRect().left < 50",
        timeout=10000)


TEXT_CUT = """() => {
    const cut = [];
    const main = document.querySelector("[data-testid='stMain']") || document.body;
    for (const e of main.querySelectorAll('*')) {  // HTML text cut by CSS: "text-overflow: ellipsis"
        if (!e.offsetParent || e.closest("[data-testid='stDataFrame'], [data-baseweb='select']")) continue;
        if (getComputedStyle(e).textOverflow === 'ellipsis' && e.scrollWidth > e.clientWidth + 1)
            cut.push(e.innerText.slice(0, 60));
    }
    for (const t of main.querySelectorAll("[data-testid='stVegaLiteChart'] svg text"))  // Vega's "limit"
        if (t.textContent.endsWith('…')) cut.push(t.textContent);
    return cut;
}"""
"""Texts of the main block shown cut with "…": HTML elements whose text overflows their box under
``text-overflow: ellipsis`` (labels of buttons, links, metrics) and chart texts Vega shortened to
fit its ``limit`` (legend and axis titles). Tables (a canvas grid) and the chosen values of select
boxes (cut like any input field) are not searched."""

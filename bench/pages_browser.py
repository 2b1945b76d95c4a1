"""What a user waits for in a real browser (headless Debian Chromium driven by Playwright), with
`streamlit run` servers as a user gets them. Run by ``bench/pages.py --browser``.

Every figure is seconds from the user's action (opening an address, pressing a key, choosing in a
select box) until the page has finished its script run and drawn its charts; ``*_feedback_s`` is
the time until the first visible sign of life in the main area (a title, a progress bar, a
spinner or a chart). Servers:

- ``idle``: a fresh server, warm-up off (DNNLENS_WARMUP=0), one session at a time: the cold first
  map of /s/, a new phoneme's map on the now warm server (a new page load, and a choice in the
  open page's select box), a slider move, the /s/-/sh/ pair, a cold direct link to a pair on
  another fresh server;
- ``busy``: a fresh server, warm-up off; a second session opens a pair of two new phonemes and
  while it computes the first session opens a new phoneme's map;
- ``warm``: a fresh server with the background warm-up on: how long the warm-up takes (until the
  sidebar says ready), then a new phoneme's map and a new pair (page load and select box).

``warm_select_s`` / ``warm_pair_select_s`` choose a new phoneme in the open map / pair page (what
"opening" another phoneme or pair is for a user already there); ``warm_map_s`` / ``warm_pair_s``
load a new page (a new session: the browser's Streamlit start-up included).

``peak_rss_mb`` is the server process's peak resident memory (VmHWM) at the end of each scenario.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import browser_page, streamlit_process  # noqa: E402

DONE = """(n) => document.querySelectorAll("[data-testid='stVegaLiteChart'] svg, [data-testid='stVegaLiteChart'] canvas")
    .length >= n && !!document.querySelector("[data-test-script-state='notRunning']")
    && !document.querySelector("[data-testid='stMain'] [data-testid='stProgress']")"""
FEEDBACK = """() => !!document.querySelector(["[data-testid='stMain'] h1", "[data-testid='stMain'] [data-testid='stProgress']",
    "[data-testid='stMain'] [data-testid='stSpinner']", "[data-testid='stMain'] [data-testid='stCaptionContainer']",
    "[data-testid='stVegaLiteChart']"].join(", "))"""
TIMEOUT_MS = 600_000


def peak_rss_mb(proc) -> float:
    for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def open_and_wait(page, url: str, charts: int = 1) -> tuple[float, float]:
    """(seconds until drawn, seconds until the first feedback) for opening ``url``."""
    t0 = time.perf_counter()
    page.goto(url)
    page.wait_for_function(FEEDBACK, timeout=TIMEOUT_MS, polling=50)
    feedback = time.perf_counter() - t0
    page.wait_for_function(DONE, arg=charts, timeout=TIMEOUT_MS, polling=50)
    return time.perf_counter() - t0, feedback


def _rerun_done(page, t0: float, charts: int) -> float:
    try:  # the rerun may start and end between two polls; then the wait below returns at once
        page.wait_for_selector("[data-test-script-state='running']", timeout=3000)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError
        pass
    page.wait_for_function(DONE, arg=charts, timeout=TIMEOUT_MS, polling=20)
    return time.perf_counter() - t0


def choose_phoneme(page, label: str, phone: str, charts: int = 1) -> float:
    """Choose ``phone`` in the select box ``label`` of the open page; seconds until redrawn."""
    box = page.locator("[data-testid='stMain'] [data-testid='stSelectbox']").filter(has_text=label).first
    box.locator("input").first.click()
    page.keyboard.type(f"{phone}  (")
    t0 = time.perf_counter()
    page.keyboard.press("Enter")
    dt = _rerun_done(page, t0, charts)
    if f"={phone}" not in page.url:
        raise RuntimeError(f"choosing /{phone}/ in '{label}' did not work (address {page.url})")
    return dt


def move_slider(page, label: str, charts: int = 1) -> float:
    thumb = page.locator(f"[data-testid='stSlider'] input[type=range][aria-label='{label}']").first
    thumb.focus()
    t0 = time.perf_counter()
    page.keyboard.press("ArrowLeft")
    return _rerun_done(page, t0, charts)


def wait_warmup(page) -> None:
    page.wait_for_function(
        "() => (document.querySelector(\"[data-testid='stSidebar']\")?.innerText || '').includes('ready (')",
        timeout=3 * TIMEOUT_MS,
        polling=500,
    )


def run(scenarios: tuple[str, ...] = ("idle", "busy", "warm")) -> dict:
    r: dict = {"load_avg_1min_start": round(os.getloadavg()[0], 2)}
    try:
        _scenarios(r, scenarios)
    except Exception as exc:  # noqa: BLE001 - the figures measured so far are still printed
        r["error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    out = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
    out["load_avg_1min_end"] = round(os.getloadavg()[0], 2)
    return out


def _scenarios(r: dict, scenarios: tuple[str, ...]) -> None:
    off = {"DNNLENS_WARMUP": "0"}
    with browser_page(1400, 1000) as page:
        if "idle" in scenarios:
            _idle(r, page, off)
        if "busy" in scenarios:
            _busy(r, page, off)
        if "warm" in scenarios:
            _warm(r, page)


def _idle(r: dict, page, off: dict) -> None:
    with streamlit_process(env=off) as (url, proc):
        r["cold_map_s"], r["cold_map_feedback_s"] = open_and_wait(page, f"{url}/importance_map?phone=s")
        r["new_phoneme_map_s"], _ = open_and_wait(page, f"{url}/importance_map?phone=aa")
        r["new_phoneme_select_s"] = choose_phoneme(page, "Phoneme", "iy")
        r["slider_map_s"] = move_slider(page, "Show the top k % of cells")
        r["pair_s_sh_s"], _ = open_and_wait(page, f"{url}/phoneme_pair?pair_a=s&pair_b=sh", 2)
        r["idle_peak_rss_mb"] = peak_rss_mb(proc)
    with streamlit_process(env=off) as (url, proc):
        r["cold_pair_link_s"], r["cold_pair_link_feedback_s"] = open_and_wait(
            page, f"{url}/phoneme_pair?pair_a=b&pair_b=d", 2
        )


def _busy(r: dict, page, off: dict) -> None:
    with streamlit_process(env=off) as (url, proc):
        open_and_wait(page, f"{url}/importance_map?phone=s")  # load the model and histograms
        other = page.context.browser.new_page(viewport={"width": 1400, "height": 1000})
        other.goto(f"{url}/phoneme_pair?pair_a=ih&pair_b=eh")  # not awaited: busy meanwhile
        other.wait_for_function(FEEDBACK, timeout=TIMEOUT_MS)
        time.sleep(1.0)
        r["busy_new_phoneme_map_s"], _ = open_and_wait(page, f"{url}/importance_map?phone=ao")
        other.wait_for_function(DONE, arg=2, timeout=TIMEOUT_MS)
        other.close()
        r["busy_peak_rss_mb"] = peak_rss_mb(proc)


def _warm(r: dict, page) -> None:
    with streamlit_process(env={"DNNLENS_WARMUP": "1"}) as (url, proc):
        t0 = time.perf_counter()
        page.goto(url)
        wait_warmup(page)
        r["warmup_s"] = round(time.perf_counter() - t0, 1)
        r["warm_map_s"], _ = open_and_wait(page, f"{url}/importance_map?phone=uw")
        r["warm_select_s"] = choose_phoneme(page, "Phoneme", "oy")
        r["warm_pair_s"], _ = open_and_wait(page, f"{url}/phoneme_pair?pair_a=m&pair_b=n", 2)
        r["warm_pair_select_s"] = choose_phoneme(page, "Phoneme B", "ng", charts=2)
        r["warm_peak_rss_mb"] = peak_rss_mb(proc)

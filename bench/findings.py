"""How fast the Findings page renders, on a fresh server and later.

    .venv/bin/python bench/findings.py [--repeats 3] [--no-browser]

Prints JSON (seconds; the 1-minute load average before and after, the machine is shared):

- AppTest (server time of one script run, a fresh process = a fresh server):
  ``apptest_first_s`` the first run of the page (every card drawn from the shipped file, then the
  live cards computed: two models, their validation sets and histograms, six gradient targets);
  ``apptest_later_s`` the median of ``--repeats`` later runs (everything cached).
- Browser (Debian's Chromium against ``streamlit run``, a new server): ``browser_cards_s`` from
  opening the page's URL until all card titles and the status line are on screen,
  ``browser_first_s`` until the script has finished (every live card checked); then the bench
  waits for the end of the server's background warm-up (``warmup_done_s`` after opening),
  ``browser_later_s`` the median of ``--repeats`` reloads until finished (a new Streamlit
  session in the browser each time), ``browser_later_nav_s`` the median of ``--repeats`` returns
  to the page by the menu's link from Home (the same session) until all cards are on screen and
  the script has finished.

Target (issue 12): first render <= 10 s with progress shown, later <= 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def load() -> float:
    return round(os.getloadavg()[0], 2)


def apptest(repeats: int) -> dict:
    import logging

    logging.disable(logging.WARNING)
    from streamlit.testing.v1 import AppTest

    # no background warm-up in this process: it would compete with the runs measured
    os.environ["DNNLENS_WARMUP"] = "0"
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=900)
    at.run()
    at.switch_page("screens/findings.py")
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    if at.exception:
        raise RuntimeError(at.exception[0].message)
    later = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        at.run()
        later.append(time.perf_counter() - t0)
    return {"apptest_first_s": round(first, 2), "apptest_later_s": round(statistics.median(later), 3)}


HOME_SHOWN = """() => (document.querySelector("[data-testid='stMain'] h1")?.innerText || "").startsWith("dnnlens")"""
CARDS_SHOWN = """(n) => [...document.querySelectorAll("[data-testid='stHeading'] h3")].length >= n"""


def browser(repeats: int) -> dict:
    from bench.pages_browser import wait_warmup
    from core.findings import CLAIMS
    from tests.browser import browser_page, streamlit_server, wait_ready

    # a server as users get it: the background warm-up on
    with streamlit_server(timeout_s=120, env={"DNNLENS_WARMUP": "1"}) as url, browser_page(1400, 1000) as page:
        t0 = time.perf_counter()
        page.goto(f"{url}/findings")
        page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=600_000)
        cards = time.perf_counter() - t0
        wait_ready(page, 900_000)
        first = time.perf_counter() - t0
        wait_warmup(page)  # later = after the server's background warm-up (its first minutes)
        warm = time.perf_counter() - t0
        later, nav = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            page.reload()
            page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=600_000)
            wait_ready(page, 600_000)
            later.append(time.perf_counter() - t0)
        for _ in range(repeats):  # as a user comes back: Home, then the Findings link of the menu
            page.get_by_role("link", name="Home").first.click()
            page.wait_for_function(HOME_SHOWN, timeout=60_000)
            wait_ready(page, 600_000)
            t0 = time.perf_counter()
            page.get_by_role("link", name="Findings").first.click()
            page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=600_000)
            wait_ready(page, 600_000)
            nav.append(time.perf_counter() - t0)
    return {
        "browser_cards_s": round(cards, 2),
        "browser_first_s": round(first, 2),
        "warmup_done_s": round(warm, 1),
        "browser_later_s": round(statistics.median(later), 2),
        "browser_later_nav_s": round(statistics.median(nav), 2),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    out = {"load_before": load()}
    out.update(apptest(args.repeats))
    if not args.no_browser:
        out.update(browser(args.repeats))
    out["load_after"] = load()
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

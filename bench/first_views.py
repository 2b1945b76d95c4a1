"""Every page's first view and every main control, as a user waits for them in the browser, on a
warm server (issue 25: first view <= 5 s, control <= 1 s).

    .venv/bin/python bench/first_views.py [--json]

Starts the dashboard (warm-up on; what it computes is read from the store on disk when a server of
this machine computed it before), waits for the warm-up to end, then in Debian's headless Chromium
(1400 x 1000) opens each page at a new address (the Streamlit frontend's start included) and works
one control on it. A time runs from the action until the page's script has finished and nothing
is left running (``tests.browser.READY``). Prints JSON: ``first_view_s`` per page,
``control_s`` per control, ``exceptions`` (tracebacks seen on the pages: must be 0), the warm-up's seconds, the server's peak RSS and the commit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {
    "home": "",
    "map": "importance_map",
    "pair": "phoneme_pair",
    "units": "units_pruning",
    "digits": "digit_cnn",
    "digits_prune": "digit_cnn?cnn_view=prune",
    "voice": "your_voice",
    "findings": "findings",
    "methods": "methods",
}


def _key(role: str, name: str, key: str):
    """A control worked from the keyboard: focus it, press ``key`` once."""

    def act(page) -> None:
        el = page.get_by_role(role, name=name).first
        el.focus()
        el.press(key)

    return act


def _click(text: str):
    def act(page) -> None:
        page.get_by_text(text, exact=True).first.click()

    return act


CONTROLS = {  # name: (page, action)
    "map_top_slider": ("map", _key("slider", "Show the top k % of cells", "ArrowLeft")),
    "map_hollow_switch": ("map", _click("Hollow squares: cells not distinguishable from zero")),
    "pair_top_slider": ("pair", _key("slider", "Show the top k % of cells", "ArrowLeft")),
    "pair_hollow_switch": ("pair", _click("Hollow squares: cells not distinguishable from zero")),
    "units_delete_k": ("units", _key("slider", "Delete k units", "ArrowRight")),
    "digits_delete_k": ("digits_prune", _key("slider", "Delete k filters", "ArrowRight")),
    "voice_vtln_switch": ("voice", _click("Normalise the vocal tract length (VTLN)")),
    "voice_time_cursor": ("voice", _key("slider", "Time cursor (s)", "ArrowRight")),
    "language_japanese": ("home", _click("日本語")),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--json", action="store_true")
    ap.parse_args()
    from bench.load import _proc_stats, wait_warmup
    from tests.browser import READY, browser_page, streamlit_process

    out: dict = {"first_view_s": {}, "control_s": {}, "exceptions": 0}
    with streamlit_process() as (url, proc):
        out["warmup_s"] = round(wait_warmup(url), 1)
        with browser_page(1400, 1000) as page:
            def timed(action) -> float:
                t0 = time.monotonic()
                action()
                page.wait_for_timeout(100)  # the rerun has started
                page.wait_for_function(READY, timeout=300_000)
                dt = round(time.monotonic() - t0, 2)
                out["exceptions"] += page.locator("[data-testid='stException']").count()
                return dt

            for name, address in PAGES.items():
                out["first_view_s"][name] = timed(lambda a=address: page.goto(f"{url}/{a}"))
                for control, (where, act) in CONTROLS.items():
                    if where == name:
                        out["control_s"][control] = timed(lambda act=act: act(page))
                        if control == "language_japanese":
                            page.goto(f"{url}/?lang=en")
                            page.wait_for_function(READY, timeout=300_000)
        out["server_peak_rss_mb"] = round(_proc_stats([proc.pid])[1])
    out["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                   text=True).stdout.strip()
    out["max_first_view_s"] = max(out["first_view_s"].values())
    out["max_control_s"] = max(out["control_s"].values())
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

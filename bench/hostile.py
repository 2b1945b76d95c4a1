"""Hostile uploads in a real browser, timed, with the server's memory and another session watched.

    .venv/bin/python bench/hostile.py [--json]

Starts the dashboard (``DNNLENS_WARMUP=0``), opens Your voice in Debian's Chromium (Playwright),
chooses "upload a file" and uploads every file of tests/hostile in turn, each in a new tab (a new
session, as many students; ``set_input_files`` on the page's file input, as a student's choice of
file does). For each: the seconds until the page has
finished its run and shows either one error box or the recording's figures (``Duration``), what it
shows (the error's text), and the server's peak resident memory while it was handled (VmRSS of the
server process sampled every 20 ms). Meanwhile a second session (tests/ws_client.py, Streamlit's
protocol, no browser) asks for the Your voice page on its default sample again and again: its run
times before and during the suite, and any exception it saw. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser import browser_page, streamlit_process, wait_ready  # noqa: E402
from tests.hostile import make  # noqa: E402
from tests.ws_client import open_pages  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watch(threading.Thread):
    """The server's RSS every 20 ms; ``peak()`` since the last ``reset()``."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.top, self.stop = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.top = max(self.top, rss_mb(self.pid))
            time.sleep(0.02)

    def reset(self) -> float:
        self.top = rss_mb(self.pid)
        return self.top


class Other(threading.Thread):
    """Another session asking for the Your voice page (its default sample) over and over."""

    def __init__(self, url: str):
        super().__init__(daemon=True)
        self.url, self.stop, self.runs = url, threading.Event(), []

    def run(self) -> None:
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                (page,) = open_pages(self.url, "your_voice", timeout_s=120)
                self.runs.append((t, page.seconds, page.exceptions()))
            except Exception as exc:  # a session the server failed to serve
                self.runs.append((t, float("nan"), [f"{type(exc).__name__}: {exc}"]))


def p(values: list[float], q: float) -> float | None:
    v = sorted(x for x in values if x == x)
    return round(v[min(len(v) - 1, int(q * len(v)))], 2) if v else None


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).add_argument("--json", action="store_true")
    folder = Path(tempfile.mkdtemp(prefix="hostile_"))
    cases = make(folder)
    out: dict = {"files": {}}
    with streamlit_process(env={"DNNLENS_WARMUP": "0"}) as (url, proc):
        watch = Watch(proc.pid)
        watch.start()
        open_pages(url, "your_voice", timeout_s=300)  # the sample analysed once: what the other session reads
        other = Other(url)
        other.start()
        time.sleep(8)
        start = time.monotonic()
        with browser_page(1400, 1000) as first:
            browser = first.context.browser
            rss_before = watch.reset()
            for name, case in cases.items():
                page = browser.new_page(viewport={"width": 1400, "height": 1000})  # a fresh session per file
                page.goto(f"{url}/your_voice")
                wait_ready(page, 300000)
                page.get_by_text("upload a file").click()
                page.wait_for_selector("[data-testid='stFileUploader'] input[type=file]", state="attached")
                wait_ready(page, 120000)
                watch.reset()
                t = time.monotonic()
                page.locator("[data-testid='stFileUploader'] input[type=file]").set_input_files(str(case.path))
                # a fresh page shows neither an error box nor the figures before its file: wait for one
                page.wait_for_function(
                    """() => document.querySelectorAll("[data-testid='stAlertContentError']").length > 0
                             || [...document.querySelectorAll("[data-testid='stMetricLabel']")]
                                .some(e => e.innerText.includes('Duration'))""", timeout=120000)
                wait_ready(page, 120000)
                seconds = time.monotonic() - t
                errors = page.locator("[data-testid='stAlertContentError']").all_inner_texts()
                tracebacks = page.locator("[data-testid='stException']").count()
                out["files"][name] = {"what": case.what, "seconds": round(seconds, 2), "errors": len(errors),
                                      "message": errors[0][:120] if errors else None, "tracebacks": tracebacks,
                                      "expected": "refused" if case.refuse else "accepted",
                                      "peak_rss_mb": round(watch.top, 1)}
                print(name, out["files"][name], file=sys.stderr, flush=True)
                page.close()
        end = time.monotonic()
        other.stop.set()
        other.join(150)
        watch.stop.set()
    before = [s for t, s, _ in other.runs if t < start]
    during = [s for t, s, _ in other.runs if start <= t < end]
    files = out["files"].values()
    out["summary"] = {
        "files": len(out["files"]),
        "max_seconds": max(f["seconds"] for f in files),
        "over_2_s": sorted(n for n, f in out["files"].items() if f["seconds"] > 2),
        "wrong_outcome": sorted(n for n, f in out["files"].items()
                                if (f["errors"] == 1) != (f["expected"] == "refused") or f["errors"] > 1),
        "tracebacks": sum(f["tracebacks"] for f in files),
        "server_rss_mb_before": round(rss_before, 1),
        "server_peak_rss_mb": max(f["peak_rss_mb"] for f in files),
        "other_session": {"runs_before": len(before), "p50_before": p(before, 0.5), "p95_before": p(before, 0.95),
                          "runs_during": len(during), "p50_during": p(during, 0.5), "p95_during": p(during, 0.95),
                          "exceptions": sum(len(e) for _, _, e in other.runs)},
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

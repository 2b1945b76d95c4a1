"""What a user waits for on the Your voice page in Chromium, with and without VTLN; one JSON object.

    .venv/bin/python bench/voice_page.py [--seconds 10] [--repeats 3]

A fresh ``streamlit run`` server (warm-up off: the page's own work only), the shipped English
model. A recording of ``--seconds`` s (the shipped samples joined, the 1.2-times-faster copy of
each: formants 20 % higher, as a smaller vocal tract) is uploaded ``--repeats`` times as new files
(a new recording each time: nothing cached), alternately with VTLN on and off, in one browser
session; each figure is the seconds from choosing the file until the page has finished its run
(the spectrogram/posterior chart drawn, the script idle). ``vtln_over_plain`` compares the medians
of one run (the machine is shared: ratios, not absolute times). ``load_avg_1min``: how busy it was.

``--adapt``: instead, the five English shipped samples are chosen in turn (their transcripts
filled in: pocketsphinx aligns them) and each is added for adaptation; ``adapt_s`` is the seconds
from clicking "Adapt to my voice" until the figures after adapting are shown and the page is idle,
``cursor_step_after_adapt_s`` those of a click on the spectrogram that moves the time cursor (the adapted copy's
posteriors are kept with it, so a step does not classify again), each ``--repeats`` times (the
adaptation set cleared between repeats), VTLN as the model's default sets it.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.pages_browser import DONE, TIMEOUT_MS  # noqa: E402
from core.audio import SAMPLE_RATE, load_audio, wav_bytes  # noqa: E402
from tests.browser import browser_page, streamlit_process, wait_ready  # noqa: E402


def recording(seconds: float, variant: int) -> bytes:
    """The English samples back to back, each also 1.2 times faster, cut to ``seconds``; ``variant``
    adds a tiny different noise (every upload a new recording for the page's caches)."""
    from scipy.signal import resample_poly

    parts = []
    for f in sorted((ROOT / "assets" / "samples").glob("*.wav")):
        if not f.name.startswith("ja_"):
            x = load_audio(f.read_bytes())
            parts += [x, resample_poly(x, 5, 6).astype(np.float32)]
    x = np.concatenate(parts)
    while len(x) < seconds * SAMPLE_RATE:
        x = np.concatenate([x, x])
    x = x[: int(seconds * SAMPLE_RATE)]
    x = x + np.random.default_rng(variant).normal(0, 1e-4, len(x)).astype(np.float32)
    return wav_bytes(x)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--adapt", action="store_true", help="time adapting to the five English samples instead")
    args = ap.parse_args()
    if args.adapt:
        return adapt_main(args.repeats)
    times: dict[str, list[float]] = {"vtln": [], "plain": []}
    with tempfile.TemporaryDirectory() as tmp, \
            streamlit_process(env={"DNNLENS_WARMUP": "0"}) as (url, _proc), browser_page(1400, 1600) as page:
        page.goto(url)
        wait_ready(page, TIMEOUT_MS)
        page.get_by_role("link", name="Your voice").click()
        wait_ready(page, TIMEOUT_MS)
        page.get_by_text("upload a file").click()
        wait_ready(page, TIMEOUT_MS)
        toggle, n = page.get_by_text("Normalise the vocal tract length (VTLN)"), 0
        on = page.locator("label:has-text('Normalise the vocal tract length (VTLN)') input").is_checked()
        for _ in range(args.repeats):
            for mode in ("vtln", "plain"):
                n += 1
                seconds = args.seconds + 0.01 * n  # a duration of its own: the page shows it when done
                path = Path(tmp) / f"rec{n}.wav"
                path.write_bytes(recording(seconds, n))
                if on != (mode == "vtln"):
                    toggle.click()
                    on = not on
                    wait_ready(page, TIMEOUT_MS)
                t0 = time.perf_counter()
                page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(path))
                page.get_by_text(f"{seconds:.2f} s", exact=True).wait_for(timeout=TIMEOUT_MS)
                page.wait_for_function(DONE, arg=1, timeout=TIMEOUT_MS, polling=50)
                times[mode].append(round(time.perf_counter() - t0, 3))
                print(mode, times[mode][-1], file=sys.stderr, flush=True)
    out = {
        "seconds_of_audio": args.seconds,
        "upload_to_drawn_s": times,
        "median_vtln_s": statistics.median(times["vtln"]),
        "median_plain_s": statistics.median(times["plain"]),
        "vtln_over_plain": round(statistics.median(times["vtln"]) / statistics.median(times["plain"]), 3),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, indent=1))
    return 0


LIMIT_MS = 180_000  # --adapt: a step that takes longer than this is a failure


def adapt_main(repeats: int) -> int:
    """``--adapt`` (module docstring)."""
    import re

    from core.models import ASSETS_DIR
    from core.voice.align import sample_texts

    def say(*what) -> None:
        print(f"{time.perf_counter() - start:7.1f}", *what, file=sys.stderr, flush=True)

    start = time.perf_counter()
    names = [f for f in sample_texts(ASSETS_DIR / "samples") if not f.startswith("ja_")]
    adapt_s, step_s = [], []
    with streamlit_process(env={"DNNLENS_WARMUP": "0"}) as (url, _proc), browser_page(1400, 1600) as page:
        page.goto(url)
        wait_ready(page, LIMIT_MS)
        page.get_by_role("link", name="Your voice").click()
        page.wait_for_function(DONE, arg=1, timeout=LIMIT_MS, polling=50)
        page.get_by_text("Adapt the network to your voice").click()
        for _ in range(repeats):
            for name in names:
                page.get_by_label("Sample", exact=True).click()
                page.get_by_role("option", name=re.compile("^" + re.escape(name))).click()
                page.get_by_role("button", name="Add this recording").wait_for(timeout=LIMIT_MS)
                page.wait_for_function(DONE, arg=1, timeout=LIMIT_MS, polling=50)
                page.get_by_role("button", name="Add this recording").click()
                say("added", name)
                page.wait_for_function(DONE, arg=1, timeout=LIMIT_MS, polling=50)
            page.get_by_text(f"Recordings to adapt on: {len(names)}").wait_for(timeout=LIMIT_MS)
            say("adapting")
            t0 = time.perf_counter()
            page.get_by_role("button", name="Adapt to my voice").click()
            page.get_by_text("Agreement after adapting").wait_for(timeout=LIMIT_MS)
            page.wait_for_function(DONE, arg=1, timeout=LIMIT_MS, polling=50)
            adapt_s.append(round(time.perf_counter() - t0, 3))
            say("adapted")
            # a click on the spectrogram's left part moves the time cursor there (as a user does)
            thumb = page.locator("[data-testid='stSlider'] [data-testid='stSliderThumbValue']").first
            before = thumb.inner_text()
            pic = page.locator(".st-key-voice_chart [data-testid='stVegaLiteChart']").first.locator("svg.marks, canvas")
            pic.first.scroll_into_view_if_needed()
            box = pic.first.bounding_box()
            t0 = time.perf_counter()
            page.mouse.click(box["x"] + 120 + 20 * len(step_s), box["y"] + 80)  # right of the 70 px axis
            say("clicked at", before)
            page.wait_for_function("(b) => document.querySelector(\"[data-testid='stSliderThumbValue']\")"
                                   ".innerText !== b", arg=before, timeout=LIMIT_MS)
            page.wait_for_function(DONE, arg=1, timeout=LIMIT_MS, polling=50)
            step_s.append(round(time.perf_counter() - t0, 3))
            print("adapt", adapt_s[-1], "step", step_s[-1], file=sys.stderr, flush=True)
            page.get_by_role("button", name=re.compile("^Clear$")).click()
            page.wait_for_function(DONE, arg=1, timeout=LIMIT_MS, polling=50)
    out = {
        "recordings": len(names),
        "adapt_s": adapt_s,
        "cursor_step_after_adapt_s": step_s,
        "median_adapt_s": statistics.median(adapt_s),
        "median_cursor_step_after_adapt_s": statistics.median(step_s),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

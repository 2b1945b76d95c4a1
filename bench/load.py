"""A whole class at once: N sessions drive the dashboard together, as N students would.

    .venv/bin/python bench/load.py [--sessions N] [--clients ws|browser] [--json]
                                   [--url URL | --replicas R] [--no-warmup] [--models DIR]

Starts the server (or uses ``--url``), waits for its background warm-up to end (unless
``--no-warmup``: then the first views compute what the warm-up would have), then opens N sessions
at the same moment. Each session goes through the same steps, one after the other, each with its
own choices so that it can tell its answers from another session's:

- ``map``: the importance map of its own phoneme (session i: the i-th of the model's phonemes);
- ``pair``: the phoneme pair page for its own pair (from the paper's and the model's pairs);
- ``slider``: "Show the top k % of cells" moved to its own k on that page (browser: one step, a key
  press, to 99 %);
- ``voice``: Your voice, "upload a file", one shipped sample uploaded, its transcript typed;
- ``units``: Units and pruning, first view.

``--clients ws`` (default) speaks Streamlit's websocket protocol and draws nothing
(tests/ws_session.py), so a step's time is the server's: from the request to ``script_finished``.
``--clients browser`` drives Debian's headless Chromium (one browser context per session; what a
user waits for, drawing included, on the same machine as the server, so it also loads the CPU).

Reported (JSON with ``--json``): per step p50/p95/max seconds over the sessions; ``errors`` (a step
that failed or showed an exception on the page: must be 0); ``leaks`` (a step whose page showed
another choice than the session's own: its caption, or the settings in its address: must be 0);
the server's peak RSS (VmHWM, all replicas summed), its CPU seconds over the run and per view;
the warm-up's seconds; the commit. Replicas: ``--replicas R`` starts ``scripts/serve.sh`` (R
servers behind the proxy) and measures through the proxy.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STEPS = ("map", "pair", "slider", "voice", "units")
SLIDER = "Show the top k % of cells"
UPLOAD_RADIO, UPLOAD_CHOICE = "Recording", "upload a file"
UPLOADER = "WAV, FLAC, OGG, MP3 or AIFF, at most {s:g} s"
TRANSCRIPT = "Transcript (English words; leave empty to see only what the network decodes)"
MODEL = "speech_en_mfbank"


def plan(sessions: int, models: str | None = None) -> list[dict]:
    """Each session's own choices: phoneme, pair, slider value, sample recording (and its duration
    as the page writes it)."""
    from core.audio import SAMPLE_RATE, load_audio, trim_digital_silence
    from core.models import ASSETS_DIR, MODELS_DIR, read_model_info
    from core.voice.align import sample_texts

    info = read_model_info(Path(models or MODELS_DIR) / MODEL)
    phones = [p for p in info.phone_set.phones if p in info.labels and p != info.phone_set.silence]
    pairs = [("s", "sh"), ("b", "d"), ("p", "b"), ("m", "n"), ("f", "th"), ("t", "d"), ("k", "g"), ("iy", "ih")]
    pairs = [(a, b) for a, b in pairs if a in phones and b in phones]
    samples = sorted((f, t) for f, t in sample_texts(ASSETS_DIR / "samples").items() if not f.startswith("ja_"))
    # the Duration the page shows: the recording at 16 kHz without digital silence at its ends
    seconds = {f: len(trim_digital_silence(load_audio((ASSETS_DIR / "samples" / f).read_bytes()))) / SAMPLE_RATE
               for f, _ in samples}
    return [{"phone": phones[i % len(phones)], "pair": pairs[i % len(pairs)], "top": 10 + (i * 7) % 90,
             "sample": samples[i % len(samples)], "duration": f"{seconds[samples[i % len(samples)][0]]:.2f} s"}
            for i in range(sessions)]


def _params(address: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(address))


def leaks(step: str, texts: list[str], address: str, expect_text: str, expect_params: dict[str, str]) -> list[str]:
    """What a step's page showed that is not the session's own choice: ``expect_text`` missing from
    its texts, or a setting in its address (the query string the server wrote) not the session's."""
    out = [f"{step}: no {expect_text!r} on the page"] if expect_text and not any(expect_text in t for t in texts) else []
    got = _params(address)
    return out + [f"{step}: address has {k}={got.get(k)!r}, not {v!r}" for k, v in expect_params.items()
                  if got.get(k) != v]


# ---------------------------------------------------------------------------------------------
# The ws client


async def ws_session(url: str, me: dict, start: asyncio.Event) -> dict:
    """One session's steps; returns {step: seconds}, errors and leaks (lists of text)."""
    from core.audio import MAX_SECONDS
    from tests.ws_session import Session

    out: dict = {"seconds": {}, "errors": [], "leaks": []}
    a, b = me["pair"]
    await start.wait()

    def check(step: str, run, expect_text: str, expect_params: dict[str, str], address: str) -> None:
        out["seconds"][step] = run.seconds
        if run.exceptions():
            out["errors"].append(f"{step}: {run.exceptions()[0][:200]}")
        out["leaks"].extend(leaks(step, run.texts(), address, expect_text, expect_params))

    try:
        async with Session(url) as s:
            run = await s.open("importance_map", f"phone={me['phone']}&model={MODEL}")
            check("map", run, f"for output /{me['phone']}/", {"phone": me["phone"]}, s.address)
            run = await s.open("phoneme_pair", f"pair_a={a}&pair_b={b}&model={MODEL}")
            check("pair", run, f"importance(/{a}/) × importance(/{b}/)", {"pair_a": a, "pair_b": b}, s.address)
            run = await s.set_widget(SLIDER, double_array_value=[me["top"]])
            check("slider", run, f"importance(/{a}/) × importance(/{b}/)",
                  {"pair_a": a, "pair_b": b, "top": str(me["top"])}, s.address)
            name, text = me["sample"]
            t0 = time.monotonic()
            await s.open("your_voice", f"model={MODEL}")
            await s.set_widget(UPLOAD_RADIO, string_value=UPLOAD_CHOICE)
            with open(ROOT / "assets" / "samples" / name, "rb") as fh:
                await s.upload(UPLOADER.format(s=MAX_SECONDS), name, fh.read())
            run = await s.set_widget(TRANSCRIPT, string_value=text)
            run.seconds = time.monotonic() - t0  # the whole step: page, choice, upload, transcript
            check("voice", run, "phone error rate", {"model": MODEL}, s.address)
            if me["duration"] not in run.texts():  # the Duration metric: this session's recording
                out["leaks"].append(f"voice: no duration {me['duration']} on the page (not {name}?)")
            run = await s.open("units_pruning", f"model={MODEL}")
            check("units", run, "", {"model": MODEL}, s.address)
    except Exception as e:  # noqa: BLE001 - a failed session is counted, the others go on
        out["errors"].append(f"{type(e).__name__}: {e}"[:300])
    return out


# ---------------------------------------------------------------------------------------------
# The browser client


def browser_sessions(url: str, mine: list[dict]) -> list[dict]:
    """Every session in its own context of one headless Chromium, steps driven concurrently with
    Playwright's async API; a step's time is what the user waits for (the page drawn and idle)."""
    from playwright.async_api import async_playwright

    from tests.browser import CHROMIUM, CHROMIUM_ARGS, READY

    async def one(browser, me: dict, start: asyncio.Event) -> dict:
        out: dict = {"seconds": {}, "errors": [], "leaks": []}
        a, b = me["pair"]
        ctx = await browser.new_context(viewport={"width": 1400, "height": 1000})
        page = await ctx.new_page()
        await start.wait()

        async def step(name: str, action, expect: str, params: dict[str, str]) -> None:
            t0 = time.monotonic()
            await action()
            await page.wait_for_timeout(100)  # the rerun has started
            await page.wait_for_function(READY, timeout=300_000)
            if expect:  # the page may still be drawing what the run sent: wait for the session's own text
                with contextlib.suppress(Exception):
                    await page.get_by_text(expect, exact=False).first.wait_for(timeout=60_000)
            out["seconds"][name] = time.monotonic() - t0
            if await page.locator("[data-testid='stException']").count():
                out["errors"].append(f"{name}: exception on the page")
            texts = [expect] if expect and await page.get_by_text(expect, exact=False).count() else []
            out["leaks"].extend(leaks(name, texts, urllib.parse.urlparse(page.url).query, expect, params))

        try:
            await step("map", lambda: page.goto(f"{url}/importance_map?phone={me['phone']}&model={MODEL}"),
                       f"for output /{me['phone']}/", {"phone": me["phone"]})
            await step("pair", lambda: page.goto(f"{url}/phoneme_pair?pair_a={a}&pair_b={b}&model={MODEL}"),
                       f"importance(/{a}/) × importance(/{b}/)", {"pair_a": a, "pair_b": b})

            async def move() -> None:  # one step of the slider, as one key press (one rerun)
                thumb = page.get_by_role("slider", name=SLIDER)
                await thumb.focus()
                await thumb.press("ArrowLeft")

            await step("slider", move, f"importance(/{a}/) × importance(/{b}/)", {"top": "99"})
            name, text = me["sample"]

            async def voice() -> None:
                await page.goto(f"{url}/your_voice?model={MODEL}")
                await page.wait_for_function(READY, timeout=300_000)
                await page.get_by_text(UPLOAD_CHOICE).click()
                await page.wait_for_function(READY, timeout=300_000)
                await page.locator("input[type='file']").set_input_files(str(ROOT / "assets" / "samples" / name))
                await page.wait_for_timeout(300)
                await page.wait_for_function(READY, timeout=300_000)
                box = page.get_by_label(TRANSCRIPT)
                await box.fill(text)
                await box.press("Enter")

            await step("voice", voice, "phone error rate", {"model": MODEL})
            await step("units", lambda: page.goto(f"{url}/units_pruning?model={MODEL}"), "", {"model": MODEL})
        except Exception as e:  # noqa: BLE001
            out["errors"].append(f"{type(e).__name__}: {e}"[:300])
        await ctx.close()
        return out

    async def run() -> list[dict]:
        async with async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            start = asyncio.Event()
            tasks = [asyncio.create_task(one(browser, me, start)) for me in mine]
            await asyncio.sleep(2.0)  # every context open before the class starts
            start.set()
            res = await asyncio.gather(*tasks)
            await browser.close()
            return res

    return asyncio.run(run())


def ws_sessions(url: str, mine: list[dict]) -> list[dict]:
    async def run() -> list[dict]:
        start = asyncio.Event()
        tasks = [asyncio.create_task(ws_session(url, me, start)) for me in mine]
        await asyncio.sleep(0.2)
        start.set()
        return await asyncio.gather(*tasks)

    return asyncio.run(run())


# ---------------------------------------------------------------------------------------------
# The server


def _proc_stats(pids: list[int]) -> tuple[float, float]:
    """(CPU seconds, peak RSS in MB) of these processes, summed (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu = peak = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / tick
            status = Path(f"/proc/{pid}/status").read_text()
            peak += next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024
    return cpu, peak


def wait_warmup(url: str, timeout_s: float = 1800.0) -> float:
    """Poll Home until its sidebar no longer says the warm-up is computing; returns the seconds."""
    from tests.ws_client import open_pages

    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout_s:
        texts = open_pages(url, "")[0].texts()
        if not any("in the background" in t for t in texts):
            return time.monotonic() - t0
        time.sleep(2.0)
    raise TimeoutError("the warm-up did not end")


@contextlib.contextmanager
def server(args):
    """Yields (URL, server pids) of the server(s) to measure."""
    env = {"DNNLENS_WARMUP": "0"} if args.no_warmup else {}
    if args.models:
        env["DNNLENS_MODELS"] = args.models
    if args.url:
        yield args.url, [int(p) for p in args.pids.split(",") if p] if args.pids else []
    elif args.replicas:
        from tests.replicas import replicas

        with replicas(args.replicas, env=env) as (url, pids):
            yield url, pids
    else:
        from tests.browser import streamlit_process

        with streamlit_process(env=env) as (url, proc):
            yield url, [proc.pid]


def summary(results: list[dict]) -> dict:
    out: dict = {}
    for step in STEPS:
        xs = sorted(r["seconds"][step] for r in results if step in r["seconds"])
        if xs:
            p95 = xs[min(len(xs) - 1, max(0, round(0.95 * len(xs) + 0.5) - 1))]
            out[step] = {"n": len(xs), "p50_s": round(statistics.median(xs), 2), "p95_s": round(p95, 2),
                         "max_s": round(xs[-1], 2)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=10)
    ap.add_argument("--clients", choices=("ws", "browser"), default="ws")
    ap.add_argument("--json", action="store_true", help="print only the JSON figures")
    ap.add_argument("--url", help="measure a server already running there (no warm-up wait)")
    ap.add_argument("--pids", help="with --url: the server's process ids, comma-separated (for RSS and CPU)")
    ap.add_argument("--replicas", type=int, default=0, help="start R servers behind the proxy (scripts/serve.sh)")
    ap.add_argument("--no-warmup", action="store_true", help="no background warm-up: first views compute")
    ap.add_argument("--models", help="models folder (default: the shipped assets/models)")
    args = ap.parse_args()

    mine = plan(args.sessions, args.models)
    with server(args) as (url, pids):
        warm = None if args.no_warmup or args.url else round(wait_warmup(url), 1)
        cpu0, _ = _proc_stats(pids)
        t0 = time.monotonic()
        results = (ws_sessions if args.clients == "ws" else browser_sessions)(url, mine)
        wall = time.monotonic() - t0
        cpu1, peak = _proc_stats(pids)
    views = sum(len(r["seconds"]) for r in results) + sum(3 for r in results if "voice" in r["seconds"])  # voice: 4 runs
    errors = [e for r in results for e in r["errors"]]
    leaks = [e for r in results for e in r["leaks"]]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                            text=True).stdout.strip()
    out = {
        "commit": commit, "sessions": args.sessions, "clients": args.clients, "replicas": args.replicas or 1,
        "warmup_s": warm, "steps": summary(results), "errors": len(errors), "leaks": len(leaks),
        "wall_s": round(wall, 1), "server_cpu_s": round(cpu1 - cpu0, 1),
        "server_cpu_s_per_view": round((cpu1 - cpu0) / max(1, views), 3),
        "server_peak_rss_mb": round(peak), "cores": os.cpu_count(), "load_avg_1min": round(os.getloadavg()[0], 2),
        "error_texts": errors[:5], "leak_texts": leaks[:5],
    }
    if not args.json:
        print(f"{args.sessions} sessions ({args.clients}): errors {len(errors)}, leaks {len(leaks)}", file=sys.stderr)
    print(json.dumps(out, indent=1, ensure_ascii=False))
    return 0 if not errors and not leaks else 1


if __name__ == "__main__":
    sys.exit(main())

"""Check a running dashboard as a deployment: health, a tour of the pages, the server's memory.

    .venv/bin/python bench/deploy.py --url http://127.0.0.1:8501 --pid PID [--wait-warmup 900]

For a container, PID is the server's process as the host sees it:
``podman inspect --format '{{.State.Pid}}' NAME`` (docs/DEPLOY.md). Prints JSON:

- ``health``: what ``/_stcore/health`` answers ("ok" wanted);
- ``before_pages``: the server's memory before this opens anything;
- ``pages``: each address of ``--pages`` opened in one session through Streamlit's websocket
  (tests/ws_client.py: the server runs the page's script, nothing is drawn), in order: seconds until
  the script finished, the exceptions the page showed (none wanted), whether ``--expect`` text
  appeared (Home in English), the server's RSS and peak RSS (VmRSS, VmHWM of /proc/PID/status) after it;
- ``warmup``: with ``--wait-warmup S``, Home is opened every 10 s until its sidebar says the
  background warm-up is done (up to S seconds): its caption, and the peak RSS then;
- ``peak_rss_mb``: VmHWM at the end, the most memory the server held at any moment.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.ws_client import open_pages  # noqa: E402

PAGES = ["", "?lang=ja", "importance_map?phone=s", "phoneme_pair?pair_a=s&pair_b=sh", "units_pruning",
         "digit_cnn", "your_voice", "findings", "methods"]


def memory_mb(pid: int | None) -> dict[str, float]:
    if pid is None:
        return {}
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = round(int(value.split()[0]) / 1024, 1)  # kB -> MiB
    return {"rss_mb": fields["VmRSS"], "peak_rss_mb": fields["VmHWM"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", default="http://127.0.0.1:8501")
    ap.add_argument("--pid", type=int, help="the server's process id (for its memory)")
    ap.add_argument("--pages", nargs="*", default=PAGES)
    ap.add_argument("--expect", default="dnnlens: what a deep neural network looks at", help="text Home must show")
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds one page may take")
    ap.add_argument("--wait-warmup", type=float, default=0.0, metavar="S")
    args = ap.parse_args()

    out: dict = {"url": args.url, "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    with urllib.request.urlopen(f"{args.url}/_stcore/health", timeout=10) as r:
        out["health"] = r.read().decode().strip()
    out["before_pages"] = memory_mb(args.pid)
    out["pages"] = []
    for address in args.pages:
        run = open_pages(args.url, address, timeout_s=args.timeout)[0]
        row = {"page": address or "(home)", "seconds": round(run.seconds, 2), "exceptions": run.exceptions()}
        if address == "":  # Home in English
            row["expected_text"] = any(args.expect in t for t in run.texts())
        row.update(memory_mb(args.pid))
        out["pages"].append(row)
        print(json.dumps(row, ensure_ascii=False), file=sys.stderr)
    if args.wait_warmup > 0:
        deadline = time.monotonic() + args.wait_warmup
        caption = ""
        while time.monotonic() < deadline:
            texts = open_pages(args.url, "", timeout_s=args.timeout)[0].texts()
            caption = next((t for t in texts if "Importance maps of every phoneme" in t
                            or "in the background: step" in t or "Background preparation stopped" in t), "")
            if "Importance maps of every phoneme" in caption or "stopped" in caption:  # done, or given up
                break
            time.sleep(10)
        out["warmup"] = {"caption": caption, **memory_mb(args.pid)}
    out.update({k: v for k, v in memory_mb(args.pid).items() if k == "peak_rss_mb"})
    print(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()

"""A client that speaks Streamlit's websocket protocol and draws nothing.

It opens a session on ``/_stcore/stream`` (subprotocol "streamlit"), asks for a page with a
``BackMsg.rerun_script`` (the query string selects the page and its settings, as a browser's address
does) and reads ``ForwardMsg``s until the script has finished. Used by tests that need a real server
session without a browser (tests/test_shutdown.py).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

import websockets
from google.protobuf.message import Message
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg


@dataclass
class PageRun:
    """What one run of a page sent: every ForwardMsg, the seconds until ``script_finished``."""

    messages: list[ForwardMsg] = field(default_factory=list)
    seconds: float = 0.0

    def texts(self) -> list[str]:
        """Every string field of every element the run drew (markdown bodies, progress texts, ...)."""
        out: list[str] = []
        for m in self.messages:
            if m.WhichOneof("type") == "delta":
                _strings(m.delta, out)
        return out

    def exceptions(self) -> list[str]:
        """Messages of the exceptions the page showed (a traceback on the page)."""
        return [
            m.delta.new_element.exception.message
            for m in self.messages
            if m.WhichOneof("type") == "delta" and m.delta.new_element.WhichOneof("type") == "exception"
        ]


def _strings(msg: Message, out: list[str]) -> None:
    for desc, value in msg.ListFields():
        if desc.type == desc.TYPE_STRING:
            out.extend(value if desc.is_repeated else [value])
        elif desc.type == desc.TYPE_MESSAGE:
            for v in value if desc.is_repeated else [value]:
                _strings(v, out)


async def _run(url: str, queries: list[str], timeout_s: float) -> list[PageRun]:
    ws_url = url.replace("http://", "ws://", 1) + "/_stcore/stream"
    runs = []
    async with websockets.connect(ws_url, subprotocols=["streamlit"], max_size=None) as ws:
        for address in queries:
            page, _, q = address.partition("?")
            msg = BackMsg()
            msg.rerun_script.query_string = q
            msg.rerun_script.page_script_hash = ""
            msg.rerun_script.page_name = page
            t0 = time.monotonic()
            await ws.send(msg.SerializeToString())
            run = PageRun()
            while True:
                f = ForwardMsg()
                f.ParseFromString(await asyncio.wait_for(ws.recv(), timeout_s))
                run.messages.append(f)
                if f.WhichOneof("type") == "script_finished":
                    break
            run.seconds = time.monotonic() - t0
            runs.append(run)
    return runs


def open_pages(url: str, *queries: str, timeout_s: float = 120.0) -> list[PageRun]:
    """Open one session on the server at ``url`` and run each address in turn: "PAGE?QUERY", PAGE
    the page's file name without .py ("phoneme_pair?pair_a=s&lang=ja"; "" or "?lang=ja" is Home)."""
    return asyncio.run(_run(url, list(queries) or [""], timeout_s))


def warmup_computing(url: str, timeout_s: float = 240.0) -> str:
    """Open Home on the server at ``url`` (the first view starts the background warm-up) until its
    sidebar says the warm-up is computing a phoneme's gradients (not its histograms); returns that
    text ("" if it never did within ``timeout_s``). Waits for the server to answer first."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            texts = open_pages(url, "")[0].texts()
        except OSError:
            time.sleep(0.3)
            continue
        step = next((t for t in texts if "in the background: step" in t), "")
        if step and "(histograms)" not in step:
            return step
        time.sleep(0.3)
    return ""


def ctrl_c_during_warmup(env: dict[str, str], timeout_s: float = 300.0) -> tuple[str, float, int, str]:
    """Start ``streamlit run dashboard.py`` with ``env`` (its whole environment), wait until the
    warm-up computes a phoneme (``warmup_computing``), send SIGINT as Ctrl-C does and wait for the
    process to end. Returns (the warm-up's step text, seconds from SIGINT to exit, exit status, the
    server's output). Used by tests/test_shutdown.py and bench/exit.py."""
    import signal
    import subprocess
    import sys
    import tempfile
    from pathlib import Path

    from tests.browser import free_port

    root = Path(__file__).resolve().parents[1]
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(root / "dashboard.py"), "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            step = warmup_computing(f"http://127.0.0.1:{port}", timeout_s)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGINT)
            code = proc.wait(60)
            waited = time.monotonic() - t0
        finally:
            if proc.poll() is None:
                proc.kill()
        log.seek(0)
        return step, waited, code, log.read()

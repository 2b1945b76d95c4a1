"""Replicas behind nginx (scripts/serve.sh, `make serve REPLICAS=n`), on the tiny real models:
a value one replica computed is read by the other from the shared store on disk, and every
session's websocket and uploads reach the same replica (sticky sessions through the proxy)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

from tests.replicas import replicas
from tests.ws_client import open_pages
from tests.ws_session import Session

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = "fish_dish.wav"


async def _uploading_session(url: str) -> list[str]:
    async with Session(url) as s:
        await s.open("your_voice", "")
        await s.set_widget("Recording", string_value="upload a file")
        label = next(k for k in s_widgets(s) if k.startswith("WAV"))
        run = await s.upload(label, SAMPLE, (ROOT / "assets" / "samples" / SAMPLE).read_bytes())
        return run.exceptions() + [t for t in run.texts() if t == "Duration"]


def s_widgets(s: Session) -> list[str]:
    from tests.ws_session import _widgets

    return list(_widgets(s.last))


def test_two_replicas_share_the_store_and_keep_each_session_on_one(tiny_models):
    store = Path(os.environ["DNNLENS_CACHE"])
    with replicas(2, env={"DNNLENS_WARMUP": "0"}) as (url, pids):
        assert len(pids) == 2
        port = int(url.rsplit(":", 1)[1])
        first, second = (f"http://127.0.0.1:{port + 100 + i}" for i in (1, 2))
        a = open_pages(first, "phoneme_pair?pair_a=s&pair_b=sh")[0]
        assert not a.exceptions()
        written = {p: p.stat().st_mtime_ns for p in store.rglob("*.npz")}
        assert len(written) >= 4  # /s/ and /sh/ statistics, the histograms, the evaluation
        b = open_pages(second, "phoneme_pair?pair_a=s&pair_b=sh")[0]
        assert not b.exceptions()
        # the second replica read them: no file written again, and the same pair map
        assert {p: p.stat().st_mtime_ns for p in store.rglob("*.npz")} == written
        spec = lambda run: [m.delta.new_element.vega_lite_chart.spec for m in run.messages  # noqa: E731
                            if m.WhichOneof("type") == "delta" and m.delta.new_element.HasField("vega_lite_chart")]
        assert spec(a) and spec(a) == spec(b)

        async def many() -> list[list[str]]:
            return await asyncio.gather(*[_uploading_session(url) for _ in range(6)])

        # six sessions through the proxy, each uploading: an upload that reached another replica
        # than its session would be refused (HTTP 400: no such session there)
        assert asyncio.run(many()) == [["Duration"]] * 6

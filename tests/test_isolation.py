"""Isolation between sessions of one server (issue 25, item 5), on the tiny real models and a real
`streamlit run` server: one session adapts the network to three recordings and prunes (speech
units, then digit filters) while another reads maps and a pair at the same time. The reader sees
exactly what it sees alone (the same chart specs), and a new session afterwards gets the same
figures from the shared model as before (its weights did not change; in-process, the cached weights
are compared bit for bit with the files by tests/test_pages_units.py and tests/test_pages_voice.py)."""

from __future__ import annotations

import asyncio

from core.models import ASSETS_DIR
from core.voice.align import sample_texts
from tests.browser import streamlit_server
from tests.ws_session import Session

PHONES = ("s", "sh", "b", "d")
SAMPLES = ("fish_dish.wav", "sue_showed.wav", "she_sells.wav")


def _specs(run) -> list[str]:
    return [m.delta.new_element.vega_lite_chart.spec for m in run.messages
            if m.WhichOneof("type") == "delta" and m.delta.new_element.HasField("vega_lite_chart")]


async def _reader(url: str) -> list[str]:
    specs: list[str] = []
    async with Session(url) as s:
        for p in PHONES:
            run = await s.open("importance_map", f"phone={p}")
            assert not run.exceptions(), run.exceptions()
            specs += _specs(run)
        run = await s.open("phoneme_pair", "pair_a=s&pair_b=sh")
        assert not run.exceptions(), run.exceptions()
        return specs + _specs(run)


async def _voice_figures(url: str) -> list[str]:
    """The default sample's figures on Your voice (metrics and captions), from the shared model."""
    async with Session(url) as s:
        run = await s.open("your_voice", "")
        assert not run.exceptions(), run.exceptions()
        return [t for t in run.texts() if "%" in t or "Decoded by the network" in t]


async def _writer(url: str) -> list[str]:
    """Adapt to three recordings, then delete units and filters; returns what the pages said."""
    texts = ["start"]
    samples = sample_texts(ASSETS_DIR / "samples")
    async with Session(url) as s:
        await s.open("your_voice", "")
        for name in SAMPLES:
            await s.set_widget("Sample", string_value=f"{name} — “{samples[name]}”")
            run = await s.set_widget("Add this recording", trigger_value=True)
            assert not run.exceptions(), run.exceptions()
        run = await s.set_widget("Adapt to my voice", trigger_value=True)
        assert not run.exceptions(), run.exceptions()
        texts += [t for t in run.texts() if "Recordings to adapt on" in t]
        run = await s.open("units_pruning", "")
        slider = s.widget("Delete k units")
        run = await s.set_widget("Delete k units", string_array_value=[slider.options[-2]])
        assert not run.exceptions(), run.exceptions()
        run = await s.open("digit_cnn", "cnn_view=prune")
        slider = s.widget("Delete k filters")
        run = await s.set_widget("Delete k filters", string_array_value=[slider.options[-2]])
        assert not run.exceptions(), run.exceptions()
    return texts


def test_adapting_and_pruning_beside_a_reader_change_nothing_for_it(tiny_models):
    async def together(url: str, alone: list[str]) -> tuple[list[str], int]:
        writer = asyncio.create_task(_writer(url))
        rounds = 0
        while rounds == 0 or (not writer.done() and rounds < 30):  # read for as long as the writer works
            assert await _reader(url) == alone, f"round {rounds}"
            rounds += 1
        return await writer, rounds

    with streamlit_server(env={"DNNLENS_WARMUP": "0"}) as url:
        alone = asyncio.run(_reader(url))  # alone (this also computes what both runs read)
        voice_before = asyncio.run(_voice_figures(url))
        # a map page draws its map, two profiles and the 'why these differ' chart; the pair page two and the block's
        assert len(alone) == 4 * len(PHONES) + 3 and voice_before
        said, rounds = asyncio.run(together(url, alone))
        assert any("Recordings to adapt on: 3" in t for t in said), said
        assert rounds >= 1
        assert asyncio.run(_voice_figures(url)) == voice_before  # the shared model is unchanged

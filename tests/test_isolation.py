"""Isolation between sessions of one server (issue 25, item 5), on the tiny real models: one
session adapts the network to its recordings and prunes while another reads maps at the same time.
Every shared (cached) model stays bit-identical to its file, and the reader sees exactly what it
sees alone. Both sessions are AppTests of one process (one server's caches), run in two threads."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import torch
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parents[1]
PHONES = ("s", "sh", "b", "d")


def _open(page: str, query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _reader() -> list[str]:
    """The map of each phoneme and the /s/-/sh/ pair map: their Vega-Lite specs."""
    specs = []
    for p in PHONES:
        at = _open("screens/importance_map.py", {"phone": p})
        specs += [c.proto.spec for c in at.get("vega_lite_chart")]
    at = _open("screens/phoneme_pair.py", {"pair_a": "s", "pair_b": "sh"})
    return specs + [c.proto.spec for c in at.get("vega_lite_chart")]


def _writer(done: list) -> None:
    """Adapt to three recordings (kept whatever the check says), then prune on both pages."""
    at = _open("screens/your_voice.py")
    for name in ("fish_dish.wav", "sue_showed.wav", "she_sells.wav"):
        at.selectbox(key="w_voice_sample").set_value(name).run()
        at.button(key="voice_adapt_add").click().run()
    at.button(key="voice_adapt_run").click().run()
    assert not at.exception and not at.error, [e.message for e in at.exception]
    assert at.session_state["voice_adapted"]["net"] is not None
    at.switch_page("screens/units_pruning.py").run()
    slider = at.select_slider(key="prune_k_input_None")
    slider.set_value(int(slider.options[-2].split()[0])).run()
    at.switch_page("screens/digit_cnn.py").run()
    at.segmented_control(key="w_cnn_view").set_value("prune").run()
    assert not at.exception, [e.message for e in at.exception]
    done.append(True)


def _weights(tiny_models) -> dict:
    import app_state as S

    out = {}
    for name, getter in (("speech_en_mfbank", S.model), ("digits_cnn", S.digits_model)):
        net, _ = getter(name)
        out[name] = {k: v.clone() for k, v in net.state_dict().items()}
    return out


def test_adapting_and_pruning_beside_a_reader_change_nothing_for_it(tiny_models, monkeypatch):
    import app_state.voice as V
    from core.adapt import AdaptConfig
    from core.models import load_model

    monkeypatch.setattr(V, "ADAPT_CONFIG", dataclasses.replace(AdaptConfig(), min_gain=-1.0, max_epochs=2))
    alone = _reader()  # the reader alone (this also computes the statistics both runs read)
    before = _weights(tiny_models)
    done: list = []
    errors: list = []

    def write() -> None:
        try:
            _writer(done)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    t = threading.Thread(target=write)
    t.start()
    rounds = 0
    while rounds == 0 or (t.is_alive() and rounds < 30):  # read for as long as the writer works
        assert _reader() == alone, f"round {rounds}"
        rounds += 1
    t.join(600)
    assert not errors, errors
    assert done == [True]
    after = _weights(tiny_models)
    for name in before:
        fresh, _ = load_model(tiny_models / name)
        for k, v in fresh.state_dict().items():
            assert torch.equal(before[name][k], v) and torch.equal(after[name][k], v), (name, k)

"""The Your voice page through AppTest: samples, uploads good and bad, transcripts good and bad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.audio import wav_bytes

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "assets" / "samples" / "she_sells.wav"
TIMEOUT = 120


def voice_page() -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/your_voice.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.radio(key="w_voice_source").set_value("upload").run()
    at.file_uploader(key="w_voice_upload").upload(name, data, "audio/wav").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def shows_recording(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.metric[0].label == "Duration"
    assert any("Decoded by the network" in c.value for c in at.caption)
    assert at.subheader[0].value.startswith("The frame at")


def test_default_sample_is_aligned(tiny_models):
    at = voice_page()
    shows_recording(at)
    labels = [m.label for m in at.metric]
    assert "Frames where the network agrees with pocketsphinx" in labels
    share = next(m.value for m in at.metric if m.label.startswith("Frames where"))
    assert share.endswith("%") and 0 <= int(share[:-1]) <= 100
    assert at.text_input[0].value == "She sells sea shells on the sea shore."
    at.slider(key=at.slider[0].key).set_value(0.5).run()
    at.selectbox(key="w_voice_phone").set_value("s").run()
    shows_recording(at)
    assert "0.50 s" in at.subheader[0].value
    at.radio(key="w_voice_which").set_value("network").run()
    shows_recording(at)


def test_good_upload(tiny_models):
    at = upload(voice_page(), "mine.wav", SAMPLE.read_bytes())
    shows_recording(at)
    assert at.text_input[0].value == ""  # no transcript: no alignment yet
    at.text_input[0].set_value("she sells sea shells on the sea shore").run()
    shows_recording(at)
    assert any(m.label.startswith("Frames where") for m in at.metric)


def _too_long() -> bytes:
    return wav_bytes(np.random.default_rng(0).normal(0, 0.1, 31 * 16000).astype(np.float32))


@pytest.mark.parametrize("data,message", [
    (SAMPLE.read_bytes()[:30000], "truncated"),
    (b"this is not a sound file " * 40, "not an audio file"),
    (_too_long(), "the limit is 30 s"),
    (wav_bytes(np.zeros(16000, np.float32)), "silent"),
])
def test_bad_upload_is_one_error_and_the_page_stays_usable(tiny_models, data, message):
    at = upload(voice_page(), "bad.wav", data)
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    at.radio(key="w_voice_source").set_value("sample").run()
    shows_recording(at)


@pytest.mark.parametrize("text,message", [
    ("she sells zorblax", "zorblax"),
    ("she sells sea shells " * 20, "too long"),
])
def test_bad_transcript_is_one_error_and_the_pictures_stay(tiny_models, text, message):
    at = voice_page()
    at.text_input[0].set_value(text).run()
    assert not at.exception
    assert len(at.error) == 1 and message in at.error[0].value, [e.value for e in at.error]
    assert any("Decoded by the network" in c.value for c in at.caption)

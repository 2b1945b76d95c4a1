"""Errors a user can cause, in the interface's language (issue 13): core's errors carry an English
template and its values (core.text.UserError); str() stays English, the pages show the Japanese."""

from __future__ import annotations

import pickle
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.audio import AudioError, load_audio, wav_bytes
from core.text import N_, UserError
from core.voice.align import AlignError, pronounce
from core.voice.compare import CompareError
from i18n import error_text, translate, translator
from i18n.catalogue import find_messages, is_japanese
from tests.test_pages_i18n import english_left
from tests.test_pages_ja import JA as JA_MODEL
from tests.test_pages_ja import ja_models, ja_models_dir  # noqa: F401 (fixtures)
from tests.test_pages_voice import SAMPLE, TIMEOUT, _too_long, upload

ROOT = Path(__file__).resolve().parents[1]
JA = translator("ja")


def test_a_user_error_is_english_text_and_translated_text():
    e = AudioError(N_("The recording is {s:.1f} s long; the limit is {max:g} s. Cut it shorter and try again."),
                   s=31.04, max=30.0)
    assert str(e) == "The recording is 31.0 s long; the limit is 30 s. Cut it shorter and try again."
    assert e.text() == str(e) and isinstance(e, ValueError)
    assert e.text(JA) == "録音の長さが 31.0 秒です。上限は 30 秒です。短く切ってからもう一度試してください。"
    assert error_text(e, "ja") == e.text(JA) and error_text(e, "en") == str(e)
    # a copy through pickle keeps the template (a worker or a cache may copy it)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is AudioError and back.text(JA) == e.text(JA) and str(back) == str(e)
    # wrapped by another module's error type: same sentence, still translated
    w = AlignError.wrap(e)
    assert type(w) is AlignError and str(w) == str(e) and w.text(JA) == e.text(JA)
    # a cause as a value is shown in the same language
    n = AlignError(N_("{name}: {reason}"), name="r1", reason=e)
    assert n.text(JA) == "r1：" + e.text(JA) and str(n) == "r1: " + str(e)


def test_unmarked_messages_and_other_exceptions_stay_as_they_are():
    e = AlignError("a {brace} that is not a field")  # no values: never formatted
    assert str(e) == e.text(JA) == "a {brace} that is not a field"
    assert error_text(KeyError("x"), "ja") == "'x'" and error_text(ValueError("plain"), "ja") == "plain"
    assert AlignError.wrap(ValueError("plain")).text(JA) == "plain"


def test_core_error_templates_are_in_the_catalogue_and_raised_from_there():
    found, _ = find_messages()
    with pytest.raises(AudioError) as got:
        load_audio(b"this is not a sound file " * 40)
    assert got.value.template in found and is_japanese(got.value.text(JA))
    with pytest.raises(AlignError) as got:
        pronounce("she sells zorblax and qwxz")
    assert got.value.template in found and "zorblax, qwxz" in got.value.text(JA)
    assert is_japanese(got.value.text(JA)) and str(got.value).startswith("These words are not in")
    assert translate(got.value.template, "ja") != got.value.template


def test_every_core_error_type_derives_from_user_error():
    import importlib
    import pkgutil

    import core

    for m in pkgutil.walk_packages(core.__path__, "core."):
        if not m.name.endswith("__main__"):
            importlib.import_module(m.name)

    def subclasses(c):
        return {c} | {s for d in c.__subclasses__() for s in subclasses(d)}

    errors = {c for c in subclasses(ValueError) if c.__module__.startswith("core.") and c.__name__.endswith("Error")}
    assert {"AudioError", "AlignError", "ReadingError", "CompareError", "AdaptError", "TrustError",
            "FindingsError", "ModelError", "PhoneError", "FeatureError"} <= {c.__name__ for c in errors}
    assert not [c for c in errors if not issubclass(c, UserError) and c.__name__ != "CliError"]


# --- the pages ----------------------------------------------------------------------------------


def voice_page_ja() -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["lang"] = "ja"
    at.run()
    at.switch_page("screens/your_voice.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def one_japanese_error(at: AppTest, expected: str, allowed: set[str] = frozenset()) -> str:
    assert not at.exception, [e.message for e in at.exception]
    assert len(at.error) == 1, [e.value for e in at.error]
    text = at.error[0].value
    assert text == expected and is_japanese(text) and not english_left(text, allowed), text
    return text


@pytest.mark.parametrize("data, exc", [
    (SAMPLE.read_bytes()[:30000], AudioError(N_("The file is truncated: its header promises more audio than the file holds."))),
    (b"this is not a sound file " * 40, AudioError(N_("This is not an audio file that can be read (use WAV, FLAC, OGG, MP3 or AIFF)."))),
    (_too_long(), AudioError(N_("The recording is {s:.1f} s long; the limit is {max:g} s. Cut it shorter and try again."), s=31.0, max=30.0)),
    (wav_bytes(np.zeros(16000, np.float32)), None),
])
def test_bad_uploads_in_japanese(tiny_models, data, exc):
    at = upload(voice_page_ja(), "bad.wav", data)
    if exc is None:  # silence: the level is computed, the sentence is the Japanese one
        text = at.error[0].value
        assert text.startswith("録音が無音です") and "マイクを確かめて" in text
        one_japanese_error(at, text)
    else:
        one_japanese_error(at, exc.text(JA))
    at.radio(key="w_voice_source").set_value("sample").run()
    assert not at.exception and not at.error


def test_unknown_words_and_a_too_long_transcript_in_japanese(tiny_models):
    at = voice_page_ja()
    at.text_input[0].set_value("she sells zorblax").run()
    expected = AlignError(N_("This word is not in the pronouncing dictionary (CMUdict): {words}. Check the "
                             "spelling or use another word."), words="zorblax").text(JA)
    one_japanese_error(at, expected, {"CMUdict", "zorblax"})
    at.text_input[0].set_value("she sells sea shells " * 20).run()
    text = at.error[0].value
    assert text.startswith("書き起こしには音素が") and "この録音には書き起こしが長すぎます" in text
    one_japanese_error(at, text)


def test_too_few_frames_for_the_pair_map_in_japanese(tiny_models):
    from core.voice.compare import MIN_FRAMES

    at = voice_page_ja()  # the default sample, aligned by pocketsphinx: the comparison is shown
    box = next(s for s in at.selectbox if s.key.startswith("w_vcmp_a_"))
    counts = dict(re.findall(r"/(\w+)/ (\d+)", next(c.value for c in at.caption if "/sil/" in c.value)))
    rare = next(p for p in box.options if 0 < int(counts[p]) < MIN_FRAMES)
    at.selectbox(key=box.key).set_value(rare).run()
    assert not at.exception and not at.error
    want = CompareError(N_("/{p}/ has {n} frames in this recording; the pair map needs at least {min} of each "
                           "phoneme (say words with more of it, or a longer recording)."),
                        p=rare, n=int(counts[rare]), min=MIN_FRAMES).text(JA)
    shown = [i.value for i in at.info]
    assert want in shown and is_japanese(want) and not english_left(want), shown


def test_a_damaged_model_in_japanese(tiny_models_dir, tmp_path, monkeypatch):
    root = tmp_path / "models"
    shutil.copytree(tiny_models_dir, root)
    (root / "speech_en_mfbank" / "model.safetensors").write_bytes(b"not weights")
    monkeypatch.setenv("DNNLENS_MODELS", str(root))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["lang"] = "ja"
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    texts = [e.value for e in at.error]
    assert len(texts) == 1 and texts[0].startswith("モデル speech_en_mfbank は使えません："), texts
    assert "は壊れているか、safetensors ファイルではありません" in texts[0]
    at.query_params["lang"] = "en"
    at.sidebar.radio(key="w_lang").set_value("en").run()
    assert [e.value for e in at.error][0].startswith("The model speech_en_mfbank cannot be used: ")
    assert "is damaged or not a safetensors file" in at.error[0].value


def test_an_empty_japanese_transcript_in_japanese(ja_models):  # noqa: F811 (the fixture)
    """With the Japanese model, a transcript with nothing to pronounce (only punctuation) is the
    Japanese sentence of core.align's error (pyopenjtalk reads no word): not called empty, since
    something was typed."""
    at = voice_page_ja()
    at.sidebar.selectbox(key="w_settings_model").set_value(JA_MODEL).run()
    assert not at.exception and not at.error
    at.text_input[0].set_value("！？。").run()
    message = N_("The transcript has no words that can be read (only symbols or emoji): type the words that were "
                 "said (in Japanese).")
    one_japanese_error(at, AlignError(message).text(JA))
    with pytest.raises(AlignError, match=r"^The transcript has no words that can be read \(only symbols or emoji\): "
                                         r"type the words that were said \(in Japanese\)\.$"):
        pronounce("！？。", "ja")

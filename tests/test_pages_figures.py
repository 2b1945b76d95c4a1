"""Pages print no typed numbers (issue 26): each page is rendered with the tiny shipped-like model
and with a second model whose every stated figure differs (MFCC, 13 values a frame, 5 frames of
context: 11 frames, 143 inputs), and the figures the pages state follow the model."""

from __future__ import annotations

import pytest

from tests.test_pages import no_errors, run_page
from tests.test_pages_voice import voice_page


def _stated(at) -> str:
    return " ".join([m.value for m in at.markdown] + [c.value for c in at.caption])


@pytest.fixture(params=["tiny", "other"])
def models(request, tiny_models_dir, other_models_dir, monkeypatch):
    root = tiny_models_dir if request.param == "tiny" else other_models_dir
    monkeypatch.setenv("DNNLENS_MODELS", str(root))
    from core.models import list_models

    return next(m for m in list_models(root) if m.kind == "speech" and m.name in (
        "speech_en_mfbank", "speech_en_mfcc_c5"))


def test_home_states_the_models_framing(models):
    f = models.features
    at = run_page("screens/home.py")
    no_errors(at)
    text = _stated(at)
    ms = round(f.context * f.winstep * 1000, 3)
    assert f"It sees {f.n_context_frames} frames: {ms:g} ms before and after the frame" in text, text[:400]
    kind = "MFBANK" if f.kind == "mfbank" else "MFCC"
    assert f"({kind}; {f.input_dim:,} numbers)" in text
    assert f"Which of the {f.input_dim:,} inputs" in text
    other = {"speech_en_mfbank": "It sees 11 frames", "speech_en_mfcc_c5": "It sees 35 frames"}[models.name]
    assert other not in text


def test_your_voice_states_the_models_window_and_warps(models):
    from core.vtln import MIN_WEIGHT, WARPS, WEIGHT_SHARPNESS

    f = models.features
    at = voice_page(vtln=True)
    no_errors(at)
    text = _stated(at)
    assert f"The {f.window_seconds * 1000:g} ms the network sees for this frame (its {f.n_context_frames}-frame" in text
    assert f"e^({WEIGHT_SHARPNESS:g} × its mean top posterior); warps with under {100 * MIN_WEIGHT:g} %" in text
    vtln_help = at.toggle(key="w_voice_vtln").help
    assert f"from {min(WARPS):.2f} to {max(WARPS):.2f}" in vtln_help


def test_home_suggests_phonemes_the_model_has():
    import app_state as S
    from core.phones import ENGLISH, JAPANESE

    assert S.map_examples(list(ENGLISH.phones)) == "/iy/, /aa/ or /m/"
    ja = S.map_examples(list(JAPANESE.phones))
    assert "/iy/" not in ja and ja.count("/") == 6
    assert all(p in JAPANESE.phones for p in ja.replace(" or ", ", ").replace("/", "").split(", "))


def test_a_quoted_card_names_its_model_when_the_page_shows_another(tiny_models):
    import app_state as S

    S.live_finding("s_sh")  # computed on the tiny speech_en_mfbank: Home may quote it
    assert S.quoted_finding("s_sh", "speech_en_mfbank").startswith(" This model (the Findings page):")
    other = S.quoted_finding("s_sh", "speech_ja_mfbank")
    assert other.startswith(" The model speech_en_mfbank (the Findings page):")


def test_the_sidebar_says_not_measured_rather_than_a_question_mark(tiny_models):
    import app_state as S

    info = S.speech_models()["speech_en_mfbank"]  # the tiny model has no real-speech figures
    text = S.accuracy_caption(info)
    assert "real speech not measured" in text and "?" not in text


def test_home_describes_the_models_voices(models):
    from core.data.synth import summarize_voices

    at = run_page("screens/home.py")
    no_errors(at)
    text = _stated(at)
    v = summarize_voices(models.data["voices"])
    n = sum(len(x) for x in v.by_program.values())
    assert f"{n} voices take turns, one sentence each" in text
    lo, hi = v.warp
    assert f"(k = {lo:.2f}-{hi:.2f})" in text
    import app_state as S

    assert f"in {S.validation_voices(models.name)} voices." in text
    assert "Seventeen" not in text and "seventeen" not in text


def test_a_model_of_recorded_speakers_is_not_called_synthetic(tiny_models):
    import dataclasses

    import app_state as S

    info = S.speech_models()["speech_en_mfbank"]
    recorded = dataclasses.replace(info, data={**info.data, "voices": ["spk01", "spk02", "spk03"],
                                               "corpus": "data/my_corpus", "train_utterances": 900})
    home = S.english_voices_text(recorded, 3)
    assert "recordings, not synthetic speech" in home and "3 speakers" in home and "synthesised by" not in home
    intro = S.voice_page_intro(recorded, False, [])
    assert "**synthetic voices**" not in intro and "data/my_corpus" in intro
    synthetic = S.voice_page_intro(info, False, [])
    assert "**synthetic voices**" in synthetic and S.training_voices_short(info) in synthetic

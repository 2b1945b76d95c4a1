"""Japanese readings and alignment (the network aligner; pocketsphinx has no Japanese model)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from core.audio import SAMPLE_RATE, load_audio
from core.cli import main
from core.data import CorpusFrames
from core.features import FeatureConfig, extract
from core.models import ASSETS_DIR, load_model, save_model
from core.phones import JAPANESE, frame_labels, frame_states, read_lab
from core.voice.align import AlignError, align, align_network, boundary_errors, pronounce
from core.voice.align.readings_ja import g2p, readings

SAMPLES = ASSETS_DIR / "samples"
TEXTS = {
    "ja_sushi_shio": "すしとしおをさしあげます。",
    "ja_shika_sakana": "しかとさかながすきです。",
    "ja_budou_dango": "ぶどうとだんごをたべた。",
    "ja_basu_densha": "バスとでんしゃでかえります。",
}


def test_readings_are_words_whose_phones_make_the_whole_text():
    words = readings("しんぶんを読みます。バスとでんしゃ")
    assert [w for w, _ in words] == ["しんぶん", "を", "読み", "ます", "バス", "と", "でんしゃ"]
    assert words[0][1] == ("sh", "i", "N", "b", "u", "N") and words[4][1] == ("b", "a", "s", "u")
    whole = [p for p in g2p("しんぶんを読みます。バスとでんしゃ") if p != "sil"]
    assert [p for _, ps in words for p in ps] == whole
    assert pronounce("しんぶん", "ja")[0].phones == ("sh", "i", "N", "b", "u", "N")
    with pytest.raises(AlignError, match="empty"):
        pronounce("  ", "ja")
    for text in ("。、！", "😀😀"):  # something typed, nothing readable: not called empty
        with pytest.raises(AlignError, match="no words that can be read"):
            pronounce(text, "ja")


def test_latin_words_are_found_in_a_japanese_transcript():
    from core.voice.align.readings_ja import latin_words

    assert latin_words("hello wrld xyzzy") == ["hello", "wrld", "xyzzy"]
    assert latin_words("ＡＢＣです、ABCです") == ["ＡＢＣ", "ABC"]
    assert latin_words("しんぶんを読みます。") == []


def _one_hot_posteriors(segs, n_frames):
    """Posteriors that put 0.9 on the phone of each frame's reference segment."""
    lab = frame_labels(segs, n_frames, phone_set=JAPANESE)
    post = np.full((n_frames, len(JAPANESE)), 0.1 / (len(JAPANESE) - 1), dtype=np.float32)
    post[np.arange(n_frames), lab] = 0.9
    return post


@pytest.mark.parametrize("uid", list(TEXTS))
def test_viterbi_recovers_the_synthesiser_timings(uid):
    ref = read_lab(SAMPLES / f"{uid}.lab", phone_set=JAPANESE)
    duration = ref[-1].end
    n_frames = int((duration - 0.025) // 0.01) + 1
    ali = align_network(
        _one_hot_posteriors(ref, n_frames), TEXTS[uid], duration, JAPANESE.phones, phone_set=JAPANESE
    )
    assert [s.phone for s in ali.phones if s.phone != "sil"] == [p for p in g2p(TEXTS[uid]) if p != "sil"]
    errs = boundary_errors(ref, ali.phones)
    # within one frame, except where a phone follows itself (しお を: o o), where the posteriors
    # cannot say where the boundary is
    repeats = sum(a.phone == b.phone for a, b in zip(ref, ref[1:], strict=False))
    assert len(errs) >= len(ref) - 3 and (errs > 0.0101).sum() <= repeats


@pytest.fixture(scope="module")
def tiny_ja_model(tmp_path_factory):
    """A 2 x 64 ReLU network trained on the four Japanese samples (their exact labels)."""
    from core.train import SpeechTrainConfig, train_speech

    cfg = FeatureConfig()
    feats, labels, states, starts, n = [], [], [], [], 0
    for uid in TEXTS:
        x = extract(load_audio(SAMPLES / f"{uid}.wav"), cfg)
        segs = read_lab(SAMPLES / f"{uid}.lab", phone_set=JAPANESE)
        feats.append(x)
        labels.append(frame_labels(segs, len(x), phone_set=JAPANESE))
        states.append(frame_states(segs, len(x)))
        starts.append(n)
        n += len(x)
    frames = CorpusFrames(
        feats=np.concatenate(feats),
        labels=np.concatenate(labels),
        states=np.concatenate(states),
        utt_starts=np.asarray(starts, dtype=np.int64),
        frame_utt=np.repeat(np.arange(4, dtype=np.int32), np.diff(starts + [n])),
        utt_ids=tuple(TEXTS),
        voices=("mei_normal",) * 4,
        cfg=cfg,
        phone_set=JAPANESE,
    )
    out = tmp_path_factory.mktemp("models")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny network: one thread is faster on a busy machine
    npz = frames.save(out / "ja.npz")
    try:
        res = train_speech(
            frames,
            SpeechTrainConfig(width=64, layers=2, activation="relu", epochs=25, batch_size=128, lr=3e-3),
            features=cfg,
            valid=frames,
            validation=str(npz),
        )
    finally:
        torch.set_num_threads(threads)
    return save_model(res.model, out / "speech_ja_tiny", res.meta)


def test_a_japanese_model_aligns_with_the_network_and_refuses_pocketsphinx(tiny_ja_model):
    net, info = load_model(tiny_ja_model)
    assert info.phone_set is JAPANESE and info.metrics["heldout_accuracy"] > 0.8
    x = load_audio(SAMPLES / "ja_basu_densha.wav")
    ali = align(x, TEXTS["ja_basu_densha"], "network", net=net, info=info)
    assert [s.phone for s in ali.phones if s.phone != "sil"] == [
        p for p in g2p(TEXTS["ja_basu_densha"]) if p != "sil"
    ]
    assert [w.phone for w in ali.words] == ["バス", "と", "でんしゃ", "で", "かえり", "ます"]
    assert ali.phones[-1].end == pytest.approx(len(x) / SAMPLE_RATE)
    with pytest.raises(AlignError, match="pocketsphinx has no Japanese acoustic model"):
        align(x, TEXTS["ja_basu_densha"], "pocketsphinx", net=net, info=info)


def test_cli_align_and_recognize_japanese(tiny_ja_model, capsys, tmp_path):
    wav = str(SAMPLES / "ja_budou_dango.wav")
    assert (
        main(
            [
                "align",
                wav,
                "--text",
                TEXTS["ja_budou_dango"],
                "--model",
                str(tiny_ja_model),
                "--json",
                "--lab",
                str(tmp_path / "a.lab"),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [s["phone"] for s in out if s["phone"] != "sil"] == [
        p for p in g2p(TEXTS["ja_budou_dango"]) if p != "sil"
    ]
    assert [s.phone for s in read_lab(tmp_path / "a.lab", phone_set=JAPANESE)] == [s["phone"] for s in out]
    assert main(["recognize", wav, "--model", str(tiny_ja_model), "--json"]) == 0
    decoded = json.loads(capsys.readouterr().out)
    assert all(d["phone"] in JAPANESE for d in decoded) and decoded[-1]["end"] == pytest.approx(
        out[-1]["end"]
    )
    assert (
        main(
            [
                "align",
                wav,
                "--text",
                TEXTS["ja_budou_dango"],
                "--model",
                str(tiny_ja_model),
                "--aligner",
                "pocketsphinx",
            ]
        )
        == 2
    )
    assert "no Japanese acoustic model" in capsys.readouterr().err

"""Tests of core/align.py on the shipped Festival samples (exact phone labels) and brute force."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from core.audio import SAMPLE_RATE, load_audio
from core.models import load_model
from core.phones import PHONES, Segment, read_lab, read_textgrid
from core.voice import align as A

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"
ALL_TEXTS = A.sample_texts(SAMPLES)
TEXTS = {f: t for f, t in ALL_TEXTS.items() if not f.startswith("ja_")}  # the English samples


@pytest.fixture(scope="module")
def shipped():
    return load_model("speech_en_mfbank")


@pytest.fixture(scope="module")
def recordings(shipped):
    net, info = shipped
    out = []
    for name, text in sorted(TEXTS.items()):
        x = load_audio(SAMPLES / name)
        out.append((x, text, read_lab(SAMPLES / name.replace(".wav", ".lab")), A.phone_posteriors(net, info, x)))
    return out


def test_sample_texts_are_read():
    assert len(TEXTS) == 5 and len(ALL_TEXTS) == 9
    assert TEXTS["she_sells.wav"] == "She sells sea shells on the sea shore."
    assert ALL_TEXTS["ja_sushi_shio.wav"] == "すしとしおをさしあげます。"


@pytest.mark.parametrize("aligner", A.ALIGNERS)
def test_alignment_of_synthesised_speech_meets_the_targets(recordings, aligner):
    errors = []
    for x, text, ref, post in recordings:
        ali = A.align(x, text, aligner, posteriors=post)
        assert ali.phones[0].start == 0 and ali.phones[-1].end == pytest.approx(len(x) / SAMPLE_RATE)
        assert all(a.end == pytest.approx(b.start) for a, b in zip(ali.phones, ali.phones[1:], strict=False))
        assert set(s.phone for s in ali.phones) <= set(PHONES)
        e = A.boundary_errors(ref, ali.phones)
        assert len(e) >= 0.8 * (len(ref) - 1)  # most boundaries can be scored
        errors.append(e)
    e = np.concatenate(errors)
    assert np.median(e) <= 0.020
    assert np.mean(e <= 0.030) >= 0.80


def test_pocketsphinx_reads_stress_back(recordings):
    x, text, _, _ = next(r for r in recordings if "sea shore" in r[1])
    ali = A.align_pocketsphinx(x, text)
    phones = [s.phone for s in ali.phones]
    assert "dh" in phones and phones[phones.index("dh") + 1] == "ax"  # "the" = DH AH0
    assert [w.phone for w in ali.words][:3] == ["she", "sells", "sea"]


def test_unknown_words_are_named_in_one_message():
    with pytest.raises(A.AlignError, match=r"not in the pronouncing dictionary \(CMUdict\): zorblax, qwzx\b"):
        A.pronounce("She sells zorblax and qwzx, zorblax.")
    with pytest.raises(A.AlignError, match="spell numbers out"):
        A.pronounce("room 101")


def test_words_and_pronunciations():
    assert A.words_of("Sea-shore, don't!") == ["sea", "shore", "don't"]
    words = A.pronounce("the shells")
    assert words[0].phones == ("dh", "ax") and words[1].phones == ("sh", "eh", "l", "z")


@pytest.mark.parametrize(("text", "message"), [("", "transcript is empty"), ("   ", "transcript is empty"),
                                             ("?!,", "no words that can be read"),
                                             ("😀 🎉", "no words that can be read")])
@pytest.mark.parametrize("aligner", A.ALIGNERS)
def test_empty_transcript(recordings, text, message, aligner):
    x, _, _, post = recordings[0]
    with pytest.raises(A.AlignError, match=message):
        A.align(x, text, aligner, posteriors=post)


@pytest.mark.parametrize("text", ["すしとしお", "the 寿司", "ｽｼ", "漢字"])
def test_japanese_transcript_with_an_english_model_says_so(text):
    with pytest.raises(A.AlignError, match=r"^The transcript is in Japanese, but this model is English: choose "
                                           r"the Japanese model \(speech_ja_mfbank\)"):
        A.pronounce(text)
    assert A.pronounce("sushi and salt")  # Latin letters alone are English


@pytest.mark.parametrize("aligner", A.ALIGNERS)
def test_transcript_far_too_long(recordings, aligner):
    x, text, _, post = recordings[0]
    with pytest.raises(A.AlignError, match=r"too long for this recording.*|recording lasts"):
        A.align(x, " ".join([text] * 12), aligner, posteriors=post)


def _brute_force(logp: np.ndarray, units, m: int) -> float:
    """Best score over every segmentation of T frames into the units (optional ones skippable)."""
    T = len(logp)
    best = -np.inf
    opt = [i for i, u in enumerate(units) if u.optional]
    for drop in itertools.chain.from_iterable(itertools.combinations(opt, k) for k in range(len(opt) + 1)):
        seq = [u for i, u in enumerate(units) if i not in drop]
        n = len(seq)
        for cuts in itertools.combinations(range(1, T), n - 1):
            bounds = (0, *cuts, T)
            if any(b - a < m for a, b in zip(bounds, bounds[1:], strict=False)):
                continue
            s = sum(logp[a:b, u.phone].sum() for u, a, b in zip(seq, bounds, bounds[1:], strict=False))
            best = max(best, s)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_viterbi_equals_brute_force(seed):
    rng = np.random.default_rng(seed)
    T, m = 11, 2
    logp = np.log(rng.dirichlet(np.ones(4), size=T))
    units = [A._Unit(0, True, -1), A._Unit(1, False, 0), A._Unit(0, True, -1), A._Unit(2, False, 1),
             A._Unit(3, False, 1), A._Unit(0, True, -1)]
    path = A.viterbi_units(logp, units, m)
    assert np.all(np.diff(path) >= 0)
    runs = [len(list(g)) for _, g in itertools.groupby(path)]
    assert min(runs) >= m
    assert all(units[i].optional for i in set(range(len(units))) - set(path.tolist()))
    score = sum(logp[t, units[u].phone] for t, u in enumerate(path))
    assert score == pytest.approx(_brute_force(logp, units, m))


def test_decode_smooths_short_runs():
    names = ("sil", "a", "b")
    labels = [0] * 5 + [1] * 4 + [2] + [1] * 4 + [0] * 2 + [2] * 5
    post = np.full((len(labels), 3), 0.05)
    post[np.arange(len(labels)), labels] = 0.9
    post[14:16, 2] = 0.3  # the 2-frame silence goes to the b on its right
    out = A.decode(post, len(labels) * 0.01 + 0.015, names, min_frames=3)
    assert [d.segment.phone for d in out] == ["sil", "a", "b"]
    assert out[1].segment.start == pytest.approx(0.0575) and out[2].segment.start == pytest.approx(0.1475)
    assert out[1].mean_posterior == pytest.approx(post[5:14, 1].mean())
    assert all(d.segment.duration >= 0.025 for d in out)


def test_agreement_perfect_and_none():
    segs = [Segment(0, 0.1075, "sil"), Segment(0.1075, 0.2, "s")]
    post = np.zeros((19, len(PHONES)), np.float32)
    post[:10, 0] = 1
    post[10:, PHONES.index("s")] = 1
    assert A.agreement(post, segs) == (1.0, 1.0)
    share, mean_p = A.agreement(post[::-1], segs)
    assert share < 0.2 and mean_p < 0.2


def test_boundary_errors_match_by_phone():
    ref = [Segment(0, 0.2, "sil"), Segment(0.2, 0.3, "s"), Segment(0.3, 0.5, "iy"), Segment(0.5, 0.7, "sil")]
    hyp = [Segment(0, 0.21, "sil"), Segment(0.21, 0.33, "s"), Segment(0.33, 0.7, "iy")]
    assert np.allclose(np.sort(A.boundary_errors(ref, hyp)), [0.01, 0.03])


def test_label_files_round_trip(tmp_path):
    segs = [Segment(0.0, 0.2, "sil"), Segment(0.2, 0.35, "sh"), Segment(0.35, 0.6, "iy")]
    lab = tmp_path / "x.lab"
    lab.write_bytes(A.label_file_bytes(segs, "lab"))
    tg = tmp_path / "x.TextGrid"
    tg.write_bytes(A.label_file_bytes(segs, "textgrid"))
    assert read_lab(lab) == segs
    assert read_textgrid(tg) == segs
    with pytest.raises(A.AlignError, match="Unknown label format"):
        A.label_file_bytes(segs, "csv")


def test_a_pocketsphinx_alignment_does_not_depend_on_earlier_ones():
    """pocketsphinx keeps state between utterances; a recording's alignment must not depend on
    what was aligned before it in the same server (another user's recording)."""
    texts = A.sample_texts(SAMPLES)
    x = load_audio(SAMPLES / "she_sells.wav")
    first = A.align_pocketsphinx(x, texts["she_sells.wav"]).phones
    for other in ("bad_dog.wav", "big_deal.wav"):
        A.align_pocketsphinx(load_audio(SAMPLES / other), texts[other])
    assert A.align_pocketsphinx(x, texts["she_sells.wav"]).phones == first


def _raw_alignment(decoder, signal, text):
    pcm = (np.clip(signal, -1.0, 1.0) * 32767).astype("<i2").tobytes()
    decoder.set_align_text(" ".join(A.words_of(text)))
    for second in (False, True):
        if second:
            decoder.set_alignment()
        decoder.start_utt()
        decoder.process_raw(pcm, full_utt=True)
        decoder.end_utt()
    return [(p.name, p.start, p.duration) for w in decoder.get_alignment() for p in w]


@pytest.mark.parametrize("name", ["she_sells.wav", "bad_dog.wav"])
def test_the_small_decoder_aligns_as_pocketsphinx_with_its_full_dictionary(name):
    """core.align builds each decoder with only the transcript's words and no language model (fast);
    the boundaries must be those of a decoder with pocketsphinx's own dictionary and model."""
    from pocketsphinx import Decoder

    text = A.sample_texts(SAMPLES)[name]
    x = load_audio(SAMPLES / name)
    full = _raw_alignment(Decoder(samprate=16000, bestpath=False, loglevel="ERROR"), x, text)
    small = _raw_alignment(A._decoder(A.pronounce(text)), x, text)
    assert len(full) > 10 and small == full

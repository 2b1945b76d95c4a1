"""core.voice_compare: a student's aligned frames as a sample set, checked against brute force."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.models import load_model
from core.phones import PHONES, Segment
from core.voice.compare import MIN_FRAMES, CompareError, student_frames, student_pair_table
from tests.tolerance import assert_gradients_close


@pytest.fixture(scope="module")
def tiny(tiny_models_dir):
    net, info = load_model(tiny_models_dir / "speech_en_mfbank")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, info.features.input_dim)).astype(np.float32)
    # frames 0-23 /s/, 24-43 /sh/, 44-59 silence (frame t's centre at 10 t + 12.5 ms)
    segs = [Segment(0.0, 0.25, "s"), Segment(0.25, 0.45, "sh"), Segment(0.45, 0.6125, "sil")]
    return net, info, x, segs


def test_frames_take_the_phoneme_at_their_centre(tiny):
    _, _, x, segs = tiny
    sf = student_frames(x, segs)
    assert sf.counts() == {"s": 24, "sh": 20, "sil": 16}
    assert sf.count("s") == 24 and sf.count("b") == 0
    np.testing.assert_array_equal(sf.values("sh", 7), x[24:44, 7])


def test_pair_table_equals_per_frame_autograd(tiny):
    net, info, x, segs = tiny
    sf = student_frames(x, segs)
    table = student_pair_table(net, info, sf, "s", "sh", stat="std", output="posterior")
    xs = torch.tensor(x[:44], dtype=torch.float64, requires_grad=True)
    net64 = net.double()
    try:
        post = torch.softmax(net64(xs), dim=1)
        for col, phone in (("importance_a", "s"), ("importance_b", "sh")):
            (k,) = info.outputs_of(phone)
            g = torch.autograd.grad(post[:, k].sum(), xs, retain_graph=True)[0].numpy()
            assert_gradients_close(table[col].to_numpy(), g.std(axis=0), net)  # float32 vs float64
    finally:
        net.float()
    assert np.allclose(table["score"], table["importance_a"] * table["importance_b"] * table["p_e"])


def test_identical_frames_of_both_phonemes_do_not_differ(tiny):
    net, info, x, _ = tiny
    same = np.concatenate([x[:20], x[:20]])
    segs = [Segment(0.0, 0.2075, "b"), Segment(0.2075, 0.4125, "d")]  # 20 frames each
    table = student_pair_table(net, info, student_frames(same, segs), "b", "d")
    np.testing.assert_allclose(table["p_e"], 0.0, atol=1e-12)
    np.testing.assert_allclose(table["eps"], 1.0, atol=1e-12)


def test_too_few_frames_is_one_clear_message(tiny):
    net, info, x, _ = tiny
    segs = [Segment(0.0, 0.05, "s"), Segment(0.05, 0.6125, "sh")]
    with pytest.raises(CompareError, match=f"/s/ has 4 frames .* at least {MIN_FRAMES}"):
        student_pair_table(net, info, student_frames(x, segs), "s", "sh")
    assert "zz" not in PHONES
    with pytest.raises(CompareError, match="no output for /zz/"):
        student_pair_table(net, info, student_frames(x, segs), "zz", "sh")

"""core.importance against brute-force per-sample Jacobians (torch.autograd.functional.jacobian, float64)."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import core.commands.importance
import core.importance.cache
from core import importance as imp
from core.features import FeatureConfig
from core.importance import (
    GradStatsCache,
    ImportanceError,
    attribution_stats,
    attributions,
    gradient_stats,
    importance_table,
    layer_gradient_stats,
    resolve_target,
    unit_importance,
)
from core.models import DigitCNN, SpeechDNN
from tests.tolerance import assert_gradients_close

OUTPUTS = ("posterior", "logit", "log_posterior")
TARGETS = [0, [1, 3], 4]
N_LABELS = 4


def speech_model(activation: str, dtype=torch.float64) -> SpeechDNN:
    torch.manual_seed(1)
    return SpeechDNN(12, 5, width=6, n_hidden=3, activation=activation).to(dtype)


def digit_model() -> DigitCNN:
    torch.manual_seed(2)
    return DigitCNN(c1=2, c2=3, hidden=8).double()


@pytest.fixture(scope="module")
def frames() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((23, 12)).astype(np.float32)
    labels = np.array([0, 1, 2, 3] * 5 + [0, 0, 2])
    return x, labels


def y_target(logits: torch.Tensor, target: list[int], output: str) -> torch.Tensor:
    """The oracle's y_t for one frame's logits (n_out,)."""
    if output == "logit":
        return logits[target].sum()
    p = torch.softmax(logits, -1)[target].sum()
    return p if output == "posterior" else torch.log(p)


def speech_rest(model: SpeechDNN, layer: int, h: torch.Tensor) -> torch.Tensor:
    """Logits from the activation of ``layer`` (0 = input) of one frame."""
    for lin in model.linears[layer:-1]:
        h = model.act(lin(h))
    return model.linears[-1](h)


def digit_rest(model: DigitCNN, layer: int, a: torch.Tensor) -> torch.Tensor:
    """Logits from layer ``layer`` of forward_layers (one sample, no batch axis)."""
    a = a.unsqueeze(0)
    if layer == 0:
        return model(a)[0]
    if layer == 1:
        a = torch.relu(model.conv2(F.max_pool2d(a, 2)))
    if layer <= 2:
        a = torch.relu(model.fc1(F.max_pool2d(a, 2).flatten(1)))
    return model.fc2(a)[0]


def brute(model, x: np.ndarray, labels: np.ndarray, targets, output: str, layer: int, rest) -> dict:
    """Per-label sums from one jacobian per frame: n (L,), sum_g / sum_g2 / sum_abs (L, T, D)."""
    tg = [[t] if isinstance(t, int) else list(t) for t in targets]
    gs = []
    for xi in torch.as_tensor(x, dtype=torch.float64):
        h = model.forward_layers(xi.unsqueeze(0))[layer][0].detach()
        f = lambda hh: torch.stack([y_target(rest(model, layer, hh), t, output) for t in tg])  # noqa: E731
        gs.append(torch.autograd.functional.jacobian(f, h).reshape(len(tg), -1).numpy())
    g = np.stack(gs)
    one = np.eye(N_LABELS)[labels]  # (n, L)
    return {"n": one.sum(0), "sum_g": np.einsum("nl,ntd->ltd", one, g),
            "sum_g2": np.einsum("nl,ntd->ltd", one, g * g), "sum_abs": np.einsum("nl,ntd->ltd", one, abs(g)),
            "g": g}


def close(a, b, rtol: float = 1e-5) -> None:
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-3 * max(np.abs(b).max(), 1e-30))


@pytest.mark.parametrize("engine", ["chain", "autograd"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_speech_sums_and_stats_equal_brute_force(frames, activation, output, engine):
    model = speech_model(activation)
    x, labels = frames
    stats = layer_gradient_stats(model, x, labels, TARGETS, layers=None, output=output, n_labels=N_LABELS,
                                 engine=engine)
    assert sorted(stats) == [0, 1, 2, 3]
    for layer, s in stats.items():
        ref = brute(model, x, labels, TARGETS, output, layer, speech_rest)
        assert s.sum_g.shape == (N_LABELS, 3, 12 if layer == 0 else 6)
        np.testing.assert_array_equal(s.n, ref["n"])
        for key in ("sum_g", "sum_g2", "sum_abs"):
            close(getattr(s, key), ref[key])
        g = ref["g"]
        close(s.stat("std"), g.std(axis=0))  # population std (ddof=0)
        close(s.stat("mean_abs"), np.abs(g).mean(axis=0))
        close(s.stat("rms"), np.sqrt((g * g).mean(axis=0)))
        close(s.stat("mean"), g.mean(axis=0))


@pytest.mark.parametrize("output", OUTPUTS)
def test_digit_cnn_layers_and_filter_importance_equal_brute_force(output):
    model = digit_model()
    x = np.random.default_rng(3).standard_normal((5, 1, 28, 28)).astype(np.float32)
    labels = np.array([0, 1, 1, 3, 2])
    stats = layer_gradient_stats(model, x, labels, [0, [2, 7], 9], layers=None, output=output, n_labels=N_LABELS)
    assert [s.unit_shape for s in stats.values()] == [(1, 28, 28), (2, 28, 28), (3, 14, 14), (8,)]
    imp_ = unit_importance(stats)
    for layer, s in stats.items():
        ref = brute(model, x, labels, [0, [2, 7], 9], output, layer, digit_rest)
        for key in ("sum_g", "sum_g2", "sum_abs"):
            close(getattr(s, key), ref[key])
        sd = ref["g"].std(axis=0)  # (T, D): sigma per (output, unit), then summed
        expect = sd.sum(0).reshape(2, -1).sum(1) if layer == 1 else sd.sum(0).reshape(3, -1).sum(1) \
            if layer == 2 else sd.sum(0)
        close(imp_[layer], expect)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_unit_importance_every_layer_equals_brute_force(frames, activation):
    model = speech_model(activation)
    x, labels = frames
    stats = layer_gradient_stats(model, x, labels, None, layers=None, n_labels=N_LABELS)
    imp_ = unit_importance(stats, "std")
    for layer in range(4):
        g = brute(model, x, labels, list(range(5)), "posterior", layer, speech_rest)["g"]
        close(imp_[layer], g.std(axis=0).sum(axis=0))
        assert not np.allclose(imp_[layer], g.sum(axis=1).std(axis=0))  # not the sigma of the sum


def test_label_union_equals_direct_computation(frames):
    model = speech_model("sigmoid")
    x, labels = frames
    s = gradient_stats(model, x, labels, TARGETS, n_labels=N_LABELS)
    keep = np.flatnonzero(np.isin(labels, [0, 2]))
    direct = gradient_stats(model, x, labels, TARGETS, n_labels=N_LABELS, indices=keep)
    for stat in ("std", "mean_abs", "rms", "mean"):
        close(s.stat(stat, labels=[0, 2]), direct.stat(stat))
        close(direct.stat(stat), gradient_stats(model, x[keep], labels[keep], TARGETS, n_labels=N_LABELS).stat(stat))


@pytest.mark.parametrize("batch_size", [1, 7, None])
@pytest.mark.parametrize("model_fn", [lambda: speech_model("relu"), lambda: speech_model("sigmoid")])
def test_results_do_not_depend_on_batch_size(frames, batch_size, model_fn):
    model = model_fn()
    x, labels = frames
    ref = layer_gradient_stats(model, x, labels, TARGETS, layers=None, n_labels=N_LABELS, batch_size=len(x))
    got = layer_gradient_stats(model, x, labels, TARGETS, layers=None, n_labels=N_LABELS, batch_size=batch_size)
    for layer in ref:
        for key in ("n", "sum_g", "sum_g2", "sum_abs"):
            np.testing.assert_allclose(getattr(got[layer], key), getattr(ref[layer], key), rtol=1e-12)


def test_float32_model_close_to_float64_oracle(frames):
    model = speech_model("sigmoid", torch.float32)
    x, labels = frames
    s = gradient_stats(model, x, labels, TARGETS, n_labels=N_LABELS)
    ref = brute(copy.deepcopy(model).double(), x, labels, TARGETS, "posterior", 0, speech_rest)
    assert_gradients_close(s.stat("std"), ref["g"].std(axis=0), model)  # float32 against float64


def _snapshot(model: torch.nn.Module) -> tuple:
    return ({k: v.clone() for k, v in model.state_dict().items()},
            [(m.training) for m in model.modules()], [p.requires_grad for p in model.parameters()])


@pytest.mark.parametrize("method", ["stats", *imp.METHODS])
@pytest.mark.parametrize("model_fn", [lambda: speech_model("relu"), digit_model])
def test_model_is_left_unchanged(method, model_fn):
    model = model_fn()
    model.train()
    next(iter(model.children())).eval() if isinstance(model, DigitCNN) else model.linears[1].eval()
    params = list(model.parameters())
    params[0].requires_grad_(False)
    before = _snapshot(model)
    n = 4
    shape = (n, 12) if isinstance(model, SpeechDNN) else (n, 1, 28, 28)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    labels = np.arange(n) % 3
    if method == "stats":
        layer_gradient_stats(model, x, labels, [0, 1], layers=None, n_labels=3)
    else:
        attribution_stats(model, x, labels, [0, 1], method=method, n_labels=3, n_samples=2, steps=3)
    after = _snapshot(model)
    assert all(torch.equal(before[0][k], after[0][k]) for k in before[0])
    assert before[1:] == after[1:]
    assert all(p.grad is None for p in model.parameters())


def test_cache_computes_only_missing_targets(frames, monkeypatch):
    model = speech_model("sigmoid")
    x, labels = frames
    asked = []
    real = imp.gradient_stats

    def spy(*args, **kwargs):
        asked.append(args[3])
        return real(*args, **kwargs)

    monkeypatch.setattr(core.importance.cache, "gradient_stats", spy)
    cache = GradStatsCache()
    a = cache.get("m", model, x, labels, [0, [1, 3]], n_labels=N_LABELS)
    b = cache.get("m", model, x, labels, [[1, 3], 4], n_labels=N_LABELS)
    c = cache.get("m", model, x, labels, [4, 0], n_labels=N_LABELS)
    assert asked == [[(0,), (1, 3)], [(4,)]]
    direct = real(model, x, labels, [[1, 3], 4], n_labels=N_LABELS)
    assert b.targets == ((1, 3), (4,)) and c.targets == ((4,), (0,))
    np.testing.assert_allclose(b.stat("std"), direct.stat("std"), rtol=1e-12)
    np.testing.assert_array_equal(c.stat("rms")[1], a.stat("rms")[0])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"output": "softmax"}, "Unknown output"),
        ({"targets": [7]}, "Output indices"),
        ({"targets": [[]]}, "at least one"),
        ({"targets": [1, [1]]}, "only once"),
        ({"n_labels": 2}, "True labels"),
        ({"indices": np.array([], dtype=int)}, "no frames"),
        ({"layers": [9]}, "Layers"),
        ({"engine": "fast"}, "Unknown engine"),
    ],
)
def test_bad_requests_raise(frames, kwargs, match):
    x, labels = frames
    kwargs = {"targets": None, **kwargs}
    with pytest.raises(ImportanceError, match=match):
        layer_gradient_stats(speech_model("relu"), x, labels, kwargs.pop("targets"), **kwargs)


def test_bad_statistic_requests_raise(frames):
    x, labels = frames
    s = gradient_stats(speech_model("relu"), x, labels, [0], n_labels=6)
    with pytest.raises(ImportanceError, match="Unknown statistic"):
        s.stat("var")
    with pytest.raises(ImportanceError, match="No frames"):
        s.stat("std", labels=[5])
    with pytest.raises(ImportanceError, match="not computed"):
        s.select([3])
    with pytest.raises(ImportanceError, match="Unknown method"):
        attributions(speech_model("relu"), x, method="saliency")


@pytest.mark.parametrize("method", imp.METHODS)
@pytest.mark.parametrize("model_fn", [lambda: speech_model("sigmoid"), digit_model])
def test_comparison_methods_shapes(method, model_fn):
    model = model_fn()
    shape = (3, 12) if isinstance(model, SpeechDNN) else (3, 1, 28, 28)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    a = attributions(model, x, [0, [1, 2]], method=method, n_samples=3, steps=4)
    assert a.shape == (3, 2, int(np.prod(shape[1:])))
    s = attribution_stats(model, x, np.array([0, 1, 1]), [0, [1, 2]], method=method, n_samples=3, steps=4)
    assert s.stat("mean_abs").shape == (2, a.shape[2]) and s.method == method


def test_gradient_times_input_equals_brute_force(frames):
    model = speech_model("relu")
    x, labels = frames
    g = brute(model, x, labels, TARGETS, "posterior", 0, speech_rest)["g"]
    close(attributions(model, x, TARGETS, method="grad_x_input"), g * x[:, None, :])
    close(attributions(model, x, TARGETS, method="gradient"), g)
    close(attributions(model, x, TARGETS, method="smoothgrad", noise_std=0.0, n_samples=2), g)
    s = attribution_stats(model, x, labels, TARGETS, method="grad_x_input", n_labels=N_LABELS)
    close(s.stat("mean_abs"), np.abs(g * x[:, None, :]).mean(0))


@pytest.mark.parametrize("output", OUTPUTS)
def test_integrated_gradients_completeness(frames, output):
    model = speech_model("sigmoid")
    x = frames[0][:4]
    base = np.full(12, 0.3)
    a = attributions(model, x, TARGETS, method="integrated_gradients", output=output, steps=300, baseline=base)
    with torch.no_grad():
        def f(v):
            lg = model(torch.tensor(np.array(v), dtype=torch.float64))
            return np.array([[y_target(row, [t] if isinstance(t, int) else t, output).item() for t in TARGETS]
                             for row in lg])
        expect = f(x) - f(np.broadcast_to(base, x.shape))
    # float64 throughout: the tolerance is the 300-step path integral's quadrature error, not rounding
    np.testing.assert_allclose(a.sum(axis=2), expect, rtol=1e-4, atol=1e-6)


def test_random_baseline_is_noise_per_frame_and_input_seeded_by_the_frame(frames):
    model = speech_model("sigmoid")
    x, labels = frames
    a = attribution_stats(model, x, labels, [0, 1], method="random", seed=5, n_labels=N_LABELS)
    b = attribution_stats(model, x, labels, [0, 1], method="random", seed=5, n_labels=N_LABELS, batch_size=7)
    c = attribution_stats(model, x, labels, [0, 1], method="random", seed=6, n_labels=N_LABELS)
    # the same draws whatever the batches (sums in another order: float64 rounding only)
    np.testing.assert_allclose(a.sum_g, b.sum_g, rtol=1e-12, atol=1e-12)
    assert not np.allclose(a.sum_g, c.sum_g)
    # brute force: frame i's draws are default_rng((seed, i)), one per target and input
    draws = np.stack([np.random.default_rng((5, i)).standard_normal((2, x.shape[1])) for i in range(len(x))])
    for lab in range(N_LABELS):
        own = draws[labels == lab]
        np.testing.assert_allclose(a.sum_g[lab], own.sum(0), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(a.sum_g2[lab], (own**2).sum(0), rtol=1e-12, atol=1e-12)
    # independent per frame (not one map scaled per frame): the frames' draws are uncorrelated
    per_frame = attributions(model, x, [0], method="random", seed=5)[:, 0]
    np.testing.assert_allclose(per_frame, draws[:, 0], rtol=1e-6)
    r = np.corrcoef(per_frame)[np.triu_indices(len(x), 1)]
    assert np.abs(r).mean() < 0.5  # about 0.23 for independent draws of 12 inputs; 1 for a scaled map


def test_resolve_target_groups_states():
    names = ["s_S1", "s_S2", "s_S3", "sh_S1", "sh_S2", "sh_S3"]
    assert resolve_target("s", names) == (0, 1, 2)
    assert resolve_target("sh", names) == (3, 4, 5)
    assert resolve_target("sh_S2", names) == (4,)
    with pytest.raises(ImportanceError, match="Unknown phoneme 'z'"):
        resolve_target("z", names)


@pytest.fixture(scope="module")
def tiny_speech():
    cfg = FeatureConfig(nfilt=4, context=1)  # 3 frames x 4 channels = 12 inputs
    names = ("a", "s", "sh", "b", "z")
    x, labels = np.random.default_rng(0).standard_normal((60, 12)).astype(np.float32), np.arange(60) % 5
    return speech_model("sigmoid"), cfg, names, x, labels


def test_importance_table_rows(tiny_speech):
    model, cfg, names, x, labels = tiny_speech
    rows = importance_table(model, cfg, names, x, labels, target="s", top=5)
    assert len(rows) == 5 and set(rows[0]) == {"offset_frames", "offset_ms", "channel", "hz", "importance"}
    assert [r["importance"] for r in rows] == sorted((r["importance"] for r in rows), reverse=True)
    std = gradient_stats(model, x, labels, [1]).stat("std")[0]
    assert rows[0]["importance"] == pytest.approx(std.max())
    i = int(np.argmax(std))
    assert (rows[0]["offset_frames"], rows[0]["channel"]) == (i // 4 - 1, i % 4)
    assert rows[0]["offset_ms"] == 10.0 * rows[0]["offset_frames"] and rows[0]["hz"] > 0
    pair = importance_table(model, cfg, names, x, labels, target="s", pair="sh", stat="mean_abs", top=12)
    score = [r["score"] for r in pair]
    assert score == sorted(score, reverse=True)  # default rank: score = product x p_e
    assert all(r["importance_pair"] == pytest.approx(r["importance"] * r["importance_b"]) for r in pair)
    assert all(r["score"] == pytest.approx(r["importance_pair"] * r["p_e"]) for r in pair)
    assert all(0.0 <= r["p_e"] <= 1.0 for r in pair)
    by_size = importance_table(model, cfg, names, x, labels, target="s", pair="sh", stat="mean_abs", top=12,
                               rank="product")
    prod = [r["importance_pair"] for r in by_size]
    assert prod == sorted(prod, reverse=True) and prod != [r["importance_pair"] for r in pair]


def test_cli_prints_json(tiny_speech, monkeypatch, capsys):
    from core.cli import main

    model, cfg, names, x, labels = tiny_speech

    class Info:
        features, labels = cfg, names
        normalizer = type("N", (), {"apply": staticmethod(lambda v: v)})()

    monkeypatch.setattr(core.commands.importance, "_cli_data", lambda args: (model, Info, x, labels))
    assert main(["importance", "m", "--validation", "--target", "s", "--pair", "sh", "--top", "3", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and {"importance_pair", "p_e", "score"} <= set(rows[0])
    assert all(r["score"] == pytest.approx(r["importance_pair"] * r["p_e"]) for r in rows)
    assert [r["score"] for r in rows] == sorted((r["score"] for r in rows), reverse=True)
    assert main(["importance", "m", "--validation", "--target", "s", "--pair", "sh", "--top", "12", "--json",
                 "--rank", "product"]) == 0
    prod = [r["importance_pair"] for r in json.loads(capsys.readouterr().out)]
    assert prod == sorted(prod, reverse=True)
    assert main(["importance", "m", "--validation", "--target", "s"]) == 0
    assert "offset" in capsys.readouterr().out
    assert main(["importance", "m", "--validation", "--target", "zz"]) == 2
    assert "Unknown phoneme" in capsys.readouterr().err


def test_cli_end_to_end_on_a_saved_model(tmp_path, capsys):
    """The real loaders: core.models.save_model / load_model and a validation npz (core.train format)."""
    from core.cli import main
    from core.features import Normalizer
    from core.models import save_model
    from core.phones import PHONES

    cfg = FeatureConfig(nfilt=4, context=1)
    rng = np.random.default_rng(0)
    feats = (rng.standard_normal((90, 4)) * 2 + 5).astype(np.float32)
    labels = np.arange(90) % len(PHONES)
    np.savez(tmp_path / "val.npz", feats=feats.astype(np.float16), labels=labels.astype(np.int16),
             states=np.zeros(90, np.int8), utt_starts=np.array([0, 50]), utt_ids=np.array(["u1", "u2"]),
             voices=np.array(["kal", "kal"]), phones=np.array(PHONES),
             features=np.asarray(json.dumps(cfg.to_dict(), sort_keys=True)))
    torch.manual_seed(0)
    save_model(SpeechDNN(cfg.input_dim, len(PHONES), width=8, n_hidden=2), tmp_path / "m",
               {"labels": list(PHONES), "targets": "phone", "features": cfg, "normalizer": Normalizer.fit(feats),
                "validation": str(tmp_path / "val.npz")})
    args = ["importance", str(tmp_path / "m"), "--validation", "--target", "s", "--pair", "sh", "--json"]
    assert main([*args, "--top", "4", "--bins", "5"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 4 and all(0 <= r["p_e"] <= 1 for r in rows)
    assert {r["channel"] for r in rows} <= {0, 1, 2, 3} and {r["offset_frames"] for r in rows} <= {-1, 0, 1}


def test_cli_on_the_shipped_model(capsys):
    """Issue 4: the CLI on the shipped default model is well-formed; Hz increases with the channel."""
    from core.cli import main

    args = ["importance", "speech_en_mfbank", "--validation", "--target", "s", "--top", "200", "--json"]
    assert main(args) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 200
    keys = {"offset_frames", "offset_ms", "channel", "hz", "importance"}
    assert all(set(r) == keys for r in rows)
    imps = [r["importance"] for r in rows]
    assert imps == sorted(imps, reverse=True) and imps[-1] > 0
    assert all(-17 <= r["offset_frames"] <= 17 and r["offset_ms"] == 10 * r["offset_frames"] for r in rows)
    hz_of = {r["channel"]: r["hz"] for r in rows}
    channels = sorted(hz_of)
    assert len(channels) > 5
    assert all(hz_of[a] < hz_of[b] for a, b in zip(channels, channels[1:], strict=False))
    assert 0 < hz_of[channels[0]] and hz_of[channels[-1]] < 8000


def test_accumulator_sums_in_float64_where_the_mean_dwarfs_the_spread():
    """Float32 block sums lose ~1e-5 of sum g over 20,000 rows; with mean 3 x the spread the std
    (sqrt of a difference of two such sums) would then be off by ~1e-4. The oracle is numpy's
    two-pass float64 std of the same float32 gradients."""
    from core.importance.stats import _Accumulator

    rng = np.random.default_rng(0)
    g = (3.0 + rng.standard_normal((20_000, 1, 10))).astype(np.float32)
    acc = _Accumulator(1, 1)
    acc.batch(np.zeros(len(g), dtype=np.int64))
    acc(0, torch.from_numpy(g), (10,))
    st = acc.result(((0,),), "logit", "gradient")[0]
    g64 = g[:, 0].astype(np.float64)
    # float64 sums of 20,000 terms (λ√n·u = 6·141·1.1e-16 ≈ 1e-13), amplified ~10x in the std by
    # E[g²] - E[g]² with a mean 3x the spread: 1e-9 is far above that and far below float32's 1e-5
    np.testing.assert_allclose(st.stat("std")[0], g64.std(axis=0), rtol=1e-9, atol=0)
    np.testing.assert_allclose(st.stat("mean")[0], g64.mean(axis=0), rtol=1e-12, atol=0)
    np.testing.assert_allclose(st.stat("rms")[0], np.sqrt((g64**2).mean(axis=0)), rtol=1e-12, atol=0)


def test_cache_computes_a_target_once_for_concurrent_callers(tiny_speech, monkeypatch):
    """Two threads asking for the same new target at once: one computation, the same numbers."""
    import threading

    import core.importance.cache as cache_mod
    from core.importance import GradStatsCache

    model, cfg, names, x, labels = tiny_speech
    calls, started, release = [], threading.Event(), threading.Event()
    real = cache_mod.gradient_stats

    def slow(*args, **kwargs):
        calls.append(args[3])
        started.set()
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache_mod, "gradient_stats", slow)
    cache = GradStatsCache()
    out = [None, None]

    def ask(i):
        out[i] = cache.get("k", model, x, labels, [1], n_labels=5)

    first = threading.Thread(target=ask, args=(0,))
    first.start()
    started.wait(30)
    second = threading.Thread(target=ask, args=(1,))
    second.start()
    release.set()
    first.join(60)
    second.join(60)
    assert len(calls) == 1 and cache.computed == 1
    np.testing.assert_array_equal(out[0].stat("std"), out[1].stat("std"))


def test_a_waiter_follows_the_computing_threads_progress(tiny_speech, monkeypatch):
    """A target being computed by one thread (e.g. the warm-up): a second caller waits, sees the
    first one's progress fractions, and nothing is computed twice; ``has`` tells when it is ready."""
    import threading

    import core.importance.cache as cache_mod
    from core.importance import GradStatsCache

    model, cfg, names, x, labels = tiny_speech
    real = cache_mod.gradient_stats
    halfway, release = threading.Event(), threading.Event()

    def slow(*args, progress=None, **kwargs):
        progress(0.5)
        halfway.set()
        release.wait(30)
        return real(*args, progress=progress, **kwargs)

    monkeypatch.setattr(cache_mod, "gradient_stats", slow)
    cache = GradStatsCache()
    assert not cache.has("k", [2])
    first = threading.Thread(target=lambda: cache.get("k", model, x, labels, [2], n_labels=5))
    first.start()
    halfway.wait(30)
    seen: list[float] = []
    followed = threading.Event()

    def follow(f: float) -> None:
        seen.append(f)
        if f == 0.5:  # the computing thread's fraction, forwarded by the waiter
            followed.set()

    def second():
        seen.append(-1.0)
        cache.get("k", model, x, labels, [2], n_labels=5, progress=follow)

    t2 = threading.Thread(target=second)
    t2.start()
    assert followed.wait(30), "the waiter never saw the computing thread's progress"
    release.set()
    first.join(60)
    t2.join(60)
    assert cache.computed == 1 and cache.has("k", [2])
    assert 0.5 in seen[1:], seen
    np.testing.assert_array_equal(cache.get("k", model, x, labels, [2], n_labels=5).n.sum(), len(labels))

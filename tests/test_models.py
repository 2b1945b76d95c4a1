"""core.models: save/load round trip, refusal of damaged or tampered files, listing, assets path."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest
import torch
from safetensors.torch import save_file

import core.models as models
from core.features import FeatureConfig, Normalizer
from core.models import (
    ASSETS_DIR,
    DigitCNN,
    ModelError,
    ModelInfo,
    SpeechDNN,
    list_models,
    load_model,
    read_model_info,
    save_model,
)

CFG = FeatureConfig(kind="mfcc", context=2)  # 5 frames x 13 = 65 inputs: small and fast
LABELS = ("sil", "aa", "s")


def _speech(tmp_path, name="sp", **kw):
    torch.manual_seed(0)
    net = SpeechDNN(CFG.input_dim, len(LABELS), width=8, n_hidden=3, **kw)
    meta = {
        "labels": LABELS,
        "features": CFG,
        "normalizer": Normalizer(tuple(np.linspace(-1, 1, 13)), tuple(np.linspace(0.5, 2, 13))),
        "metrics": {"heldout_accuracy": 0.5},
        "data": {"corpus": "x"},
        "validation": "validation/none.npz",
    }
    return net, save_model(net, tmp_path / name, meta)


def _digits(tmp_path, name="dg"):
    torch.manual_seed(0)
    net = DigitCNN(c1=2, c2=3, hidden=5)
    meta = {"labels": [str(i) for i in range(10)], "normalizer": Normalizer((0.13,), (0.31,))}
    return net, save_model(net, tmp_path / name, meta)


def test_speech_round_trip_is_exact(tmp_path):
    net, path = _speech(tmp_path, activation="relu")
    loaded, info = load_model(path)
    x = torch.randn(7, CFG.input_dim)
    assert torch.equal(net(x), loaded(x))
    assert isinstance(loaded, SpeechDNN) and loaded.arch() == net.arch()
    assert info.name == "sp" and info.kind == "speech" and info.targets == "phone"
    assert info.features == CFG and info.labels == LABELS and info.path == path
    assert info.normalizer.mean == pytest.approx(tuple(np.linspace(-1, 1, 13)))
    assert info.metrics == {"heldout_accuracy": 0.5} and info.data == {"corpus": "x"}
    assert info.validation_path == ASSETS_DIR / "validation/none.npz"
    assert isinstance(hash(info), int)


def test_digits_round_trip_is_exact(tmp_path):
    net, path = _digits(tmp_path)
    loaded, info = load_model(path)
    x = torch.randn(4, 1, 28, 28)
    assert torch.equal(net(x), loaded(x))
    assert info.kind == "digits" and info.features is None and info.targets == "digit"
    pix = np.full((2, 784), 255.0)
    assert info.preprocess(pix).shape == (2, 1, 28, 28)
    assert info.preprocess(pix)[0, 0, 0, 0] == pytest.approx((1 - 0.13) / 0.31)


def test_loaded_model_is_frozen_and_in_eval_mode(tmp_path):
    _, path = _speech(tmp_path)
    model, _ = load_model(path)
    assert not model.training
    assert not any(p.requires_grad for p in model.parameters())
    x = torch.randn(2, CFG.input_dim, requires_grad=True)
    model(x)[:, 0].sum().backward()  # input gradients still work
    assert x.grad is not None and all(p.grad is None for p in model.parameters())


def test_saving_twice_is_byte_identical(tmp_path):
    net, a = _speech(tmp_path, "a")
    meta = json.loads((a / "model.json").read_text())
    b = save_model(net, tmp_path / "b", {
        "labels": meta["labels"], "features": meta["features"], "normalizer": meta["normalizer"],
        "metrics": meta["metrics"], "data": meta["data"], "validation": meta["validation"],
    })
    for f in ("model.json", "model.safetensors"):
        assert (a / f).read_bytes() == (b / f).read_bytes()


def test_loading_never_unpickles(tmp_path, monkeypatch):
    _, path = _speech(tmp_path)

    def forbidden(*a, **k):
        raise AssertionError("torch.load must not be used")

    monkeypatch.setattr(torch, "load", forbidden)
    load_model(path)


def test_state_labels_checked(tmp_path):
    net = SpeechDNN(CFG.input_dim, 6, width=4, n_hidden=1)
    meta = {"labels": ["a_S1", "a_S2", "a_S3", "b_S1", "b_S2", "b_S3"], "targets": "state",
            "features": CFG, "normalizer": Normalizer((0.0,) * 13, (1.0,) * 13)}
    _, info = load_model(save_model(net, tmp_path / "st", meta))
    assert info.phones == ("a", "b")
    with pytest.raises(ModelError, match="state labels"):
        save_model(net, tmp_path / "bad", {**meta, "labels": ["a", "b", "c", "d", "e", "f"]})


def test_outputs_and_label_index_of_a_state_model(tmp_path):
    net = SpeechDNN(CFG.input_dim, 6, width=4, n_hidden=1)
    meta = {"labels": ["a_S1", "a_S2", "a_S3", "b_S1", "b_S2", "b_S3"], "targets": "state",
            "features": CFG, "normalizer": Normalizer((0.0,) * 13, (1.0,) * 13)}
    _, info = load_model(save_model(net, tmp_path / "st", meta))
    assert info.outputs_of("a") == (0, 1, 2) and info.outputs_of("b") == (3, 4, 5)
    assert info.outputs_of("b_S2") == (4,)
    assert info.label_index("a") == 0 and info.label_index("b") == 1 and info.label_index("b_S3") == 1
    with pytest.raises(ModelError, match="Unknown phoneme 'c'; the model knows a, b"):
        info.outputs_of("c")
    with pytest.raises(ModelError, match="Unknown phoneme 'c'"):
        info.label_index("c")


def test_outputs_and_label_index_of_phone_and_digit_models(tmp_path):
    _, info = load_model(_speech(tmp_path)[1])
    for i, phone in enumerate(info.labels):
        assert info.outputs_of(phone) == (i,) and info.label_index(phone) == i
    with pytest.raises(ModelError, match="Unknown phoneme 'nosuch'"):
        info.outputs_of("nosuch")
    _, dinfo = load_model(_digits(tmp_path)[1])
    assert dinfo.outputs_of("7") == (7,) and dinfo.label_index("7") == 7


def _edit_json(path, fn):
    doc = json.loads((path / "model.json").read_text())
    fn(doc)
    (path / "model.json").write_text(json.dumps(doc))


def _rewrite_weights(path, fn):
    from safetensors.torch import load_file

    tensors = dict(load_file(path / "model.safetensors"))
    fn(tensors)
    save_file(tensors, path / "model.safetensors")


TAMPER = {
    "bad json": (lambda p: (p / "model.json").write_text('{"format": "dnnlens-model", '), "not valid JSON"),
    "no json": (lambda p: (p / "model.json").unlink(), "has no model.json"),
    "not ours": (lambda p: (p / "model.json").write_text("[1, 2]"), "not a dnnlens model"),
    "wrong width": (lambda p: _edit_json(p, lambda d: d["arch"].update(width=9)), "has shape"),
    "width not int": (lambda p: _edit_json(p, lambda d: d["arch"].update(width="8")), "whole number"),
    "unknown type": (lambda p: _edit_json(p, lambda d: d["arch"].update(type="GPT")), "Unknown model type"),
    "extra arch field": (lambda p: _edit_json(p, lambda d: d["arch"].update(depth=3)), "does not fit"),
    "label count": (lambda p: _edit_json(p, lambda d: d["labels"].append("x")), "4 labels but the network has 3"),
    "features mismatch": (lambda p: _edit_json(p, lambda d: d["features"].update(kind="mfbank")), "features give"),
    "bad features": (lambda p: _edit_json(p, lambda d: d["features"].update(kind="plp")), "bad feature"),
    "normalizer length": (lambda p: _edit_json(p, lambda d: d["normalizer"]["mean"].pop()), "normalizer"),
    "zero std": (lambda p: _edit_json(p, lambda d: d["normalizer"]["std"].__setitem__(0, 0)), "not positive"),
    "kind": (lambda p: _edit_json(p, lambda d: d.update(kind="digits")), "says kind"),
    "targets": (lambda p: _edit_json(p, lambda d: d.update(targets="word")), "targets 'word'"),
    "version": (lambda p: _edit_json(p, lambda d: d.update(format_version=99)), "format version 99"),
    "no weights": (lambda p: (p / "model.safetensors").unlink(), "has no model.safetensors"),
    "truncated": (
        lambda p: (p / "model.safetensors").write_bytes((p / "model.safetensors").read_bytes()[:-50]),
        "damaged or not a safetensors",
    ),
    "garbage": (lambda p: (p / "model.safetensors").write_bytes(struct.pack("<Q", 10**12)), "damaged"),
    "renamed tensor": (
        lambda p: _rewrite_weights(p, lambda t: t.__setitem__("linears.9.weight", t.pop("linears.0.weight"))),
        "lacks tensor 'linears.0.weight'",
    ),
    "extra tensor": (
        lambda p: _rewrite_weights(p, lambda t: t.__setitem__("extra", torch.zeros(1))), "unexpected tensor 'extra'"
    ),
    "wrong shape": (
        lambda p: _rewrite_weights(p, lambda t: t.__setitem__("linears.1.bias", torch.zeros(9))),
        r"'linears.1.bias' has shape \(9,\)",
    ),
    "wrong dtype": (
        lambda p: _rewrite_weights(p, lambda t: t.__setitem__("linears.1.bias", t["linears.1.bias"].double())),
        "float64, expected float32",
    ),
    "nan": (
        lambda p: _rewrite_weights(p, lambda t: t["linears.1.bias"].__setitem__(0, float("nan"))), "NaN"
    ),
    "changed value": (
        lambda p: _rewrite_weights(p, lambda t: t["linears.1.bias"].add_(1e-3)), "does not match the checksum"
    ),
}


@pytest.mark.parametrize("case", list(TAMPER))
def test_tampered_model_gives_model_error(tmp_path, case):
    _, path = _speech(tmp_path)
    damage, message = TAMPER[case]
    damage(path)
    with pytest.raises(ModelError, match=message) as exc:
        load_model(path)
    assert "\n" not in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_missing_directory(tmp_path):
    with pytest.raises(ModelError, match="No model directory"):
        load_model(tmp_path / "nothing")


def test_save_refuses_inconsistent_metadata(tmp_path):
    net = SpeechDNN(CFG.input_dim, 3, width=4, n_hidden=1)
    with pytest.raises(ModelError, match="labels"):
        save_model(net, tmp_path / "x", {"labels": ["a", "b"], "features": CFG, "normalizer": None})
    with pytest.raises(ModelError, match="normalisation"):
        save_model(net, tmp_path / "x", {"labels": ["a", "b", "c"], "features": CFG})
    assert not (tmp_path / "x").exists()
    with pytest.raises(ModelError, match="Cannot save"):
        save_model(torch.nn.Linear(2, 2), tmp_path / "y", {"labels": ["a", "b"]})


def test_list_models(tmp_path):
    _speech(tmp_path, "b_speech")
    _digits(tmp_path, "a_digits")
    (tmp_path / "not_a_model").mkdir()
    infos = list_models(tmp_path)
    assert [i.name for i in infos] == ["a_digits", "b_speech"]
    assert all(isinstance(i, ModelInfo) for i in infos)
    _, broken = _speech(tmp_path, "c_broken")
    (broken / "model.json").write_text("{")
    with pytest.warns(UserWarning, match="not valid JSON"):
        assert len(list_models(tmp_path)) == 2
    with pytest.raises(ModelError):
        list_models(tmp_path, strict=True)
    assert list_models(tmp_path / "nowhere") == []
    assert read_model_info(tmp_path / "a_digits").kind == "digits"


def test_assets_dir_does_not_depend_on_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ASSETS_DIR.is_absolute()
    assert ASSETS_DIR == __import__("pathlib").Path(models.__file__).resolve().parents[2] / "assets"
    assert models.resolve_model_path("digits_cnn") == models.MODELS_DIR / "digits_cnn"


def test_shipped_models_list_and_load():
    names = {i.name for i in list_models(strict=True)}
    assert {"digits_cnn", "speech_en_mfbank", "speech_en_mfcc"} <= names
    model, info = load_model("speech_en_mfbank")
    assert info.arch == {"type": "SpeechDNN", "input_dim": 1400, "n_classes": 41, "width": 512,
                         "n_hidden": 7, "activation": "sigmoid"}
    assert info.validation_path is not None and info.validation_path.is_file()
    assert info.features == FeatureConfig(kind="mfbank", utt_norm="cmn")


def test_sum_states_adds_each_phones_three_states_for_numpy_and_torch():
    import torch

    from core.models import sum_states

    rng = np.random.default_rng(0)
    post = rng.random((5, 12)).astype(np.float32)  # 4 phones x 3 states
    want = np.stack([post[:, 3 * p:3 * p + 3].sum(axis=1) for p in range(4)], axis=1)  # brute force
    np.testing.assert_allclose(sum_states(post, "state"), want, rtol=1e-6)  # float32 sums of 3 terms
    np.testing.assert_allclose(sum_states(torch.from_numpy(post), "state").numpy(), want, rtol=1e-6)
    assert sum_states(post, "phone") is post

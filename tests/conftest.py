"""Shared fixtures: a tiny real speech model trained on real validation frames, for page tests."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from core.models import VALIDATION_DIR, save_model

# The dashboard's background warm-up (every phoneme's statistics of the default model) is off in
# tests, so that cache counts and timings belong to the test; tests/test_warmup.py switches it on.
os.environ.setdefault("DNNLENS_WARMUP", "0")


@pytest.fixture(autouse=True)
def _own_disk_store(tmp_path, monkeypatch):
    """Every test has a store on disk of its own (core.diskstore), empty at its start, so that no
    value computed by another test or by a server on this machine stands in for a computation."""
    monkeypatch.setenv("DNNLENS_CACHE", str(tmp_path / "dnnlens-cache"))


def _subset_npz(src: Path, dst: Path, n_utts: int) -> Path:
    """The first n_utts utterances of a shipped validation npz, same format."""
    with np.load(src, allow_pickle=False) as z:
        a = {k: z[k] for k in z.files}
    starts = a["utt_starts"]
    end = int(starts[n_utts]) if n_utts < len(starts) else len(a["labels"])
    out = dict(a)
    for k in ("feats", "labels", "states"):
        out[k] = a[k][:end]
    for k in ("utt_starts", "utt_ids", "voices"):
        out[k] = a[k][:n_utts]
    np.savez_compressed(dst, **out)
    return dst


def _context5_validation(kind: str, root: Path, n_utts: int = 12):
    """The first ``n_utts`` utterances of the shipped ``kind`` validation set (``mfbank`` / ``mfcc``),
    spliced again with 5 frames of context on each side, saved as ``root/val_<kind>_c5.npz`` and
    read back (the frames and their file, as a model's own validation set)."""
    import dataclasses

    from core.train import load_validation

    frames = load_validation(_subset_npz(VALIDATION_DIR / f"en_{kind}.npz", root / f"val_{kind}.npz", n_utts))
    frames = dataclasses.replace(frames, cfg=dataclasses.replace(frames.cfg, context=5))
    frames.save(root / f"val_{kind}_c5.npz")
    return load_validation(root / f"val_{kind}_c5.npz"), root / f"val_{kind}_c5.npz"


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory) -> Path:
    """A models folder with `speech_en_mfbank`: a 2 x 32 ReLU DNN trained for 2 epochs on 12
    utterances of the shipped MFBANK validation set, whose own validation set is those frames;
    `speech_en_states`, the same with 3-state targets (1 epoch); and `digits_cnn`, a 4/6-filter
    digit CNN trained for one epoch."""
    from core.train import SpeechTrainConfig, load_validation, train_speech

    root = tmp_path_factory.mktemp("models")
    npz = _subset_npz(VALIDATION_DIR / "en_mfbank.npz", root / "val_mfbank.npz", 12)
    frames = load_validation(npz)
    cfg = SpeechTrainConfig(width=32, layers=2, activation="relu", epochs=2, batch_size=128, lr=3e-3)
    result = train_speech(frames, cfg, features=frames.cfg, valid=frames, validation=str(npz))
    save_model(result.model, root / "speech_en_mfbank", result.meta)
    # the same with 3 states per phoneme (123 outputs)
    state_cfg = SpeechTrainConfig(width=32, layers=2, activation="relu", epochs=1, batch_size=128, lr=3e-3,
                                  targets="state")
    result = train_speech(frames, state_cfg, features=frames.cfg, valid=frames, validation=str(npz))
    save_model(result.model, root / "speech_en_states", result.meta)
    assert json.loads((root / "speech_en_mfbank" / "model.json").read_text())["validation"] == str(npz)
    # a digit CNN with 4 and 6 filters, one epoch on the 4,000 training digits
    from core.train import DigitTrainConfig, train_digits

    result = train_digits(DigitTrainConfig(c1=4, c2=6, hidden=16, epochs=1, batch_size=128, lr=3e-3))
    save_model(result.model, root / "digits_cnn", result.meta)
    return root


@pytest.fixture(scope="session")
def other_models_dir(tmp_path_factory) -> Path:
    """A models folder whose only speech model differs from the shipped ones in every figure a page
    states: `speech_en_mfcc_c5`, a 2 x 32 ReLU DNN on MFCC (13 values a frame) with 5 frames of
    context on each side (11 frames, 143 inputs), trained for one epoch on 12 utterances of the
    shipped MFCC validation set (spliced again with the shorter context); and `digits_cnn_small`, a
    digit CNN with 3 and 5 filters and 8 hidden units, one epoch."""
    from core.train import SpeechTrainConfig, train_speech

    root = tmp_path_factory.mktemp("other_models")
    frames, npz = _context5_validation("mfcc", root)
    assert frames.cfg.context == 5 and frames.cfg.kind == "mfcc"
    cfg = SpeechTrainConfig(features="mfcc", width=32, layers=2, activation="relu", epochs=1, batch_size=128,
                            lr=3e-3)
    result = train_speech(frames, cfg, features=frames.cfg, valid=frames, validation=str(npz))
    save_model(result.model, root / "speech_en_mfcc_c5", result.meta)
    # a digit CNN with other filter counts (3 and 5) and a narrower fully connected layer (8)
    from core.train import DigitTrainConfig, train_digits

    digits = train_digits(DigitTrainConfig(c1=3, c2=5, hidden=8, epochs=1, batch_size=128, lr=3e-3))
    save_model(digits.model, root / "digits_cnn_small", digits.meta)
    return root


@pytest.fixture()
def tiny_models(tiny_models_dir, monkeypatch) -> Path:
    """Point the dashboard at the tiny models for one test."""
    monkeypatch.setenv("DNNLENS_MODELS", str(tiny_models_dir))
    return tiny_models_dir

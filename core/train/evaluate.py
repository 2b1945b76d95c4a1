"""Classification quality of a trained model (speech frames or digit images)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from core.models import STATE_SUFFIXES, ModelInfo
from core.models.info import phone_of_output
from core.torch_utils import eval_mode
from core.train.digits import DigitSet, digits_validation
from core.train.loop import FramesLike, TrainError, _logits
from core.train.speech import (
    _speech_decisions,
    frame_targets,
    speech_logits,
    utterance_frames,
    voice_utterances,
)
from core.train.validation import load_validation


@dataclass(frozen=True)
class EvalResult:
    """Frame (or image) classification quality.

    labels: class names (model output order); accuracy: share of correct argmax decisions;
    per_class: accuracy per label (None for a class without examples); support: examples per
    true class; confusion: counts, rows = true class, columns = decision; phone_accuracy: for
    state targets the accuracy of the phone whose three summed state posteriors are largest
    (equal to ``accuracy`` for phone targets, None for digits).
    """

    labels: tuple[str, ...]
    accuracy: float
    per_class: tuple[float | None, ...]
    support: tuple[int, ...]
    confusion: tuple[tuple[int, ...], ...]
    n: int
    phone_accuracy: float | None = None

    def confusion_array(self) -> np.ndarray:
        """(K, K) int64, rows = true class."""
        return np.asarray(self.confusion, dtype=np.int64)

    def to_dict(self) -> dict:
        """JSON-ready: ``accuracy``, ``per_class`` (label -> accuracy, classes with examples only),
        ``support``, ``confusion`` (list of lists, rows = true), ``labels``, ``n``, ``phone_accuracy``."""
        present = [i for i, s in enumerate(self.support) if s]
        return {
            "accuracy": self.accuracy,
            "phone_accuracy": self.phone_accuracy,
            "n": self.n,
            "labels": list(self.labels),
            "per_class": {self.labels[i]: self.per_class[i] for i in present},
            "support": {self.labels[i]: self.support[i] for i in present},
            "confusion": [list(r) for r in self.confusion],
        }


def phone_confusion(ev: EvalResult) -> tuple[tuple[str, ...], np.ndarray]:
    """Phoneme-level confusion: (phoneme names, (P, P) int64 counts, rows = true phoneme).

    For a 3-state model (labels ``s_S1, s_S2, s_S3, ...``) the 3 x 3 blocks of a phoneme pair are
    summed (a frame of /s/ decided as any state of /sh/ counts once as s -> sh; state confusions
    within a phoneme count as correct); other models are returned as they are."""
    names: list[str] = []
    group = []
    for lab in ev.labels:
        phone = lab[: -len(STATE_SUFFIXES[0])] if lab.endswith(STATE_SUFFIXES) else lab
        if phone not in names:
            names.append(phone)
        group.append(names.index(phone))
    conf = ev.confusion_array()
    k = len(names)
    g = np.asarray(group, dtype=np.int64)
    out = np.zeros((k, k), dtype=np.int64)
    np.add.at(out, (g[:, None], g[None, :]), conf)
    return tuple(names), out


def most_confused(names: Sequence[str], confusion: np.ndarray, k: int = 6,
                  leave_out: Sequence[str] = ("sil",)) -> list[tuple[str, str]]:
    """The k most confused pairs: confusion *rates* (counts / frames of the true class) of both
    directions summed, pairs involving ``leave_out`` skipped, ties in label order; each pair
    (a, b) with a before b in ``names``. Pairs never confused are not returned."""
    conf = np.asarray(confusion, dtype=np.float64)
    rate = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    sym = rate + rate.T
    np.fill_diagonal(sym, 0)
    for name in leave_out:
        if name in names:
            j = list(names).index(name)
            sym[j, :] = sym[:, j] = 0
    iu = np.triu_indices(len(names), 1)
    vals = sym[iu]
    out = []
    for n in np.argsort(-vals, kind="stable"):
        if vals[n] <= 0 or len(out) == k:
            break
        out.append((names[iu[0][n]], names[iu[1][n]]))
    return out


def _eval_result(labels: Sequence[str], y: np.ndarray, pred: np.ndarray, phone_acc: float | None) -> EvalResult:
    k = len(labels)
    conf = np.bincount(y * k + pred, minlength=k * k).reshape(k, k)
    support = conf.sum(axis=1)
    diag = np.diag(conf)
    per_class = tuple(float(d / s) if s else None for d, s in zip(diag, support, strict=True))
    acc = float(diag.sum() / max(len(y), 1))
    return EvalResult(
        labels=tuple(labels),
        accuracy=acc,
        per_class=per_class,
        support=tuple(int(s) for s in support),
        confusion=tuple(tuple(int(v) for v in row) for row in conf),
        n=int(len(y)),
        phone_accuracy=phone_acc,
    )


def evaluate(
    model: nn.Module,
    info: ModelInfo,
    data: FramesLike | DigitSet | None = None,
    *,
    voices: Sequence[str] | None = None,
    batch_size: int = 2048,
) -> EvalResult:
    """Classification quality of ``model`` (described by ``info``) on ``data``.

    Speech: ``data`` is a corpus (CorpusFrames-like, raw features of ``info.features``), default
    the model's validation npz; only the utterances of ``voices`` if given. Digits: a DigitSet,
    default the model's held-out digits. The model is not changed (its train/eval mode is restored).
    """
    if info.kind == "digits":
        if voices:
            raise TrainError("Voices apply to speech models only.")
        ds = digits_validation(info) if data is None else data
        if not isinstance(ds, DigitSet):
            raise TrainError("A digits model is evaluated on digit images, not on a speech corpus.")
        x = info.preprocess(ds.images)
        with eval_mode(model):
            pred = _logits(model, (x[i : i + batch_size] for i in range(0, len(x), batch_size))).argmax(1)
        return _eval_result(info.labels, np.asarray(ds.labels, dtype=np.int64), pred, None)
    frames = load_validation(info) if data is None else data
    if isinstance(frames, DigitSet):
        raise TrainError("A speech model is evaluated on a speech corpus, not on digit images.")
    frames_set = getattr(frames, "phone_set", None)
    if frames_set is not None and frames_set is not info.phone_set:
        raise TrainError(
            f"{info.name} is a model of {info.language}; these frames are labelled in {frames_set.language}."
        )
    idx = utterance_frames(frames, voice_utterances(frames, voices))
    if len(idx) == 0:
        raise TrainError("There are no frames to evaluate on.")
    logits = speech_logits(model, info, frames, idx, batch_size)
    y = frame_targets(frames, info.targets)[idx]
    pred, phone_pred = _speech_decisions(logits, info.targets)
    if phone_pred is None:
        phone_acc = float((pred == y).mean())
    else:
        phone_acc = float((phone_pred == phone_of_output(y, "state")).mean())
    return _eval_result(info.labels, y, pred, phone_acc)

"""Shared names of core.pruning: the error type, the unit kinds and orders, and the frames or
digits every pruning computation uses (``prune_data``).

Which data, written down:

- **Speech.** The model's validation set is split per class (model output order) by a permutation
  from ``default_rng(seed)``: the first frames of each class go to the *evaluation* subset, the
  next ones to the *statistics* subset (Imp, Taylor, input variance, mean activations), so the
  curves are measured on frames that chose nothing. Each subset is stratified the scikit-learn way
  (class proportions kept): class c gets max(``min_per_class``, round(n * share_c)) frames, at most
  half of its frames for evaluation and the rest for statistics. ``eval_frames=None`` evaluates on
  every validation frame not used for statistics (the "full-set" figure).
- **Digits.** Evaluation: the model's held-out digits (all of them, 1,000 for the shipped model).
  Statistics: a stratified min(``stats_frames``, 500) of the training digits (same rule; filter
  importance goes through batched autograd, about 10x the cost per example of a frame). FC retraining:
  all training digits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from core.models import ModelInfo
from core.pruning import _deps
from core.text import UserError

UNITS = ("input", "hidden", "filters")
ORDERS = ("imp_asc", "imp_desc", "random", "l1", "taylor", "variance")
"""Deletion orders. ``variance`` applies to input units only."""

EVAL_FRAMES = 2000
STATS_FRAMES = 2000
STATS_DIGITS = 500
MIN_PER_CLASS = 10


class PruneError(UserError):
    """A pruning request a user can get wrong (unknown order, k out of range, wrong unit kind)."""


@dataclass(frozen=True, eq=False)
class PruneData:
    """Inputs of one model's pruning computations, already normalised (float32, read-only).

    x_eval (n_eval, D) speech / (n_eval, 1, 28, 28) digits, y_eval (n_eval,) int64;
    x_stats, y_stats the statistics subset; raw_stats: x_stats before normalisation (speech, for
    the input variance); x_train, y_train: digits only (FC retraining), else None.
    ``settings``: the rule and sizes, for ``PruneCurve.settings``. ``groups_eval``: (n_eval,) int64
    the cluster of each evaluation example for a bootstrap (speech: its validation utterance, so
    neighbouring frames are resampled together; digits: None, each digit on its own).
    """

    kind: str
    x_eval: np.ndarray
    y_eval: np.ndarray
    x_stats: np.ndarray
    y_stats: np.ndarray
    raw_stats: np.ndarray | None = None
    x_train: np.ndarray | None = None
    y_train: np.ndarray | None = None
    settings: dict = field(default_factory=dict)
    groups_eval: np.ndarray | None = None

    def __post_init__(self) -> None:
        for a in (self.x_eval, self.y_eval, self.x_stats, self.y_stats, self.raw_stats, self.x_train, self.y_train,
                  self.groups_eval):
            if a is not None:
                a.setflags(write=False)


def stratified_split(labels: np.ndarray, n_first: int | None, n_second: int, *, seed: int = 0,
                     min_per_class: int = MIN_PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    """Two disjoint, sorted index sets of ``labels``, each keeping the class proportions (see the
    module doc). ``n_first=None``: the first set is every index not in the second."""
    labels = np.asarray(labels, dtype=np.int64)
    n = len(labels)
    rng = np.random.default_rng(seed)
    first, second = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        share = len(idx) / n
        s = min(max(min_per_class, round(n_second * share)), len(idx) // 2 if n_first is not None else len(idx) - 1)
        s = max(s, 0)
        if n_first is None:
            e = len(idx) - s
        else:
            e = min(max(min_per_class, round(n_first * share)), len(idx) - len(idx) // 2)
            s = min(s, len(idx) - e)
        first.append(idx[:e])
        second.append(idx[e : e + s])
    return np.sort(np.concatenate(first)), np.sort(np.concatenate(second))


@functools.lru_cache(maxsize=4)
def prune_data(info: ModelInfo, eval_frames: int | None = EVAL_FRAMES, stats_frames: int = STATS_FRAMES,
               seed: int = 0) -> PruneData:
    """The evaluation and statistics data of a model (cached per arguments; arrays read-only)."""
    if eval_frames is not None and eval_frames < 1 or stats_frames < 1:
        raise PruneError("The evaluation and statistics subsets need at least one frame each.")
    if info.kind == "digits":
        tr_x, tr_y, ho_x, ho_y = _deps.digit_sets(info)
        _, st = stratified_split(tr_y, 0, min(stats_frames, STATS_DIGITS), seed=seed, min_per_class=1)
        x_train = info.preprocess(tr_x)
        settings = {"eval": f"all {len(ho_y)} held-out digits",
                    "stats": f"{len(st)} training digits, stratified by class, default_rng({seed})",
                    "train": f"all {len(tr_y)} training digits (no shift augmentation)"}
        return PruneData("digits", info.preprocess(ho_x), ho_y, x_train[st], tr_y[st], None, x_train, tr_y, settings)
    view, y, utt = _deps.speech_frames(info)
    ev, st = stratified_split(y, eval_frames, stats_frames, seed=seed)
    raw = np.asarray(view[st], dtype=np.float32)
    x_eval = np.concatenate([info.normalizer.apply(view[ev[i : i + 4096]]) for i in range(0, len(ev), 4096)])
    rule = (f"validation frames split per class by default_rng({seed}); proportions kept, at least "
            f"{MIN_PER_CLASS} per class; evaluation and statistics frames disjoint")
    settings = {"eval": f"{len(ev)} of {len(y)} validation frames" + ("" if eval_frames is not None else
                " (every frame not used for statistics)"), "stats": f"{len(st)} validation frames", "rule": rule}
    return PruneData("speech", x_eval, y[ev], info.normalizer.apply(raw), y[st], raw, None, None, settings,
                     groups_eval=utt[ev])

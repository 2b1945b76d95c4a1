"""Held-out accuracy against the number of deleted units: ``pruning_curve`` -> ``PruneCurve``.

How each curve is computed (the masked network of ``core.pruning.surgery``, evaluated directly;
``prune`` gives the same outputs as a physically smaller model):

- **Input units.** The first layer's pre-activation of the evaluation frames is computed once;
  along one order, the columns deleted since the last point are subtracted
  (z -= x[:, new] @ W1[:, new].T), then the layers above run.
- **Hidden units of one layer.** The activations below the layer are computed once; at each point
  the deleted units take their mean (or 0) and the layers above run.
- **All hidden layers** (``layer=None``, the seed's Fig 9): the same fraction of every hidden layer
  is deleted, each layer in its own order; k is the total.
- **Conv filters.** The conv features are computed once (conv2) or once per point (conv1). With
  ``retrain`` the fully connected layers of the physically pruned network are retrained
  (``RetrainConfig``) from their folded weights after each deletion; the curve without retraining
  is ``retrain=False``.
- Points: ``points`` values of k spread evenly over 0..n (rounded, distinct; ``None`` = every k).
  k = 0 is shared by all orders, and so is k = n. ``random`` is the mean over ``seeds``, with the
  min-max band; per-class recall of random is the mean over seeds.
- ``hits``: per order, per run (a seed of random, else one), the share of the curve's points at which
  each evaluation example is classified right: the sufficient statistic of the mean accuracy over
  the curve (its mean over the examples), so a bootstrap over examples (or their clusters,
  ``groups``) and seeds only re-weights it (``core.findings``' intervals).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.models import DigitCNN, ModelInfo
from core.pruning.common import ORDERS, PruneData, PruneError, prune_data
from core.pruning.scores import (
    deletion_order,
    keep_mask,
    layer_counts,
    n_units,
    unit_importance_by_layer,
    unit_layers,
    unit_scores,
)
from core.pruning.surgery import RetrainConfig, conv_features, layer_means, train_fc


@dataclass(frozen=True)
class PruneCurve:
    """Accuracy of a model as units are deleted, for several orders.

    k: units deleted at each point (starts with 0); fraction = k / n_units; curves: order ->
    accuracy per point ("random" = mean over seeds); random_band: (min, max) over seeds or None;
    per_class: order -> per point -> recall per class (model label order, None without support);
    layer: hidden 1..n_hidden or None (all, same fraction), filters 1 | 2, input 0;
    retrained: filters only. settings: everything needed to reproduce the curve. hits: order ->
    (runs, n_frames) float64, the share of the points at which each evaluation example is right, per
    run (the seeds of random, in order); groups: (n_frames,) int64 cluster of each example (speech:
    its utterance) or None (each example its own).
    """

    model: str
    units: str
    layer: int | None
    k: tuple[int, ...]
    fraction: tuple[float, ...]
    curves: Mapping[str, tuple[float, ...]]
    random_band: tuple[tuple[float, ...], tuple[float, ...]] | None
    per_class: Mapping[str, tuple[tuple[float | None, ...], ...]]
    labels: tuple[str, ...]
    full_accuracy: float
    n_units: int
    n_frames: int
    retrained: bool | None
    settings: Mapping[str, object]
    hits: Mapping[str, np.ndarray] | None = None
    groups: np.ndarray | None = None

    def to_dict(self) -> dict:
        """The CLI's JSON: k, fraction, curves, random_band, full_accuracy, units (= n_units),
        frames, and for filters retrained; plus model, unit_kind, layer, settings."""
        d = {"k": list(self.k), "fraction": list(self.fraction),
             "curves": {o: list(v) for o, v in self.curves.items()},
             "random_band": None if self.random_band is None else [list(self.random_band[0]), list(self.random_band[1])],
             "full_accuracy": self.full_accuracy, "units": self.n_units, "frames": self.n_frames}
        if self.units == "filters":
            d["retrained"] = bool(self.retrained)
        d.update(model=self.model, unit_kind=self.units, layer=self.layer, settings=dict(self.settings))
        return d

    def table(self):
        """Long format pandas DataFrame: k, fraction, order, accuracy, lo, hi (lo/hi: the random
        band for random rows, = accuracy otherwise). For charts and CSV."""
        import pandas as pd

        rows = []
        for order, acc in self.curves.items():
            for i, (k, f, a) in enumerate(zip(self.k, self.fraction, acc, strict=True)):
                lo, hi = (self.random_band[0][i], self.random_band[1][i]) if order == "random" and self.random_band else (a, a)
                rows.append({"k": k, "fraction": f, "order": order, "accuracy": a, "lo": lo, "hi": hi})
        return pd.DataFrame(rows, columns=["k", "fraction", "order", "accuracy", "lo", "hi"])

    def point(self, k: int) -> int:
        """Index of the curve point nearest k (the smaller k on a tie)."""
        return int(np.argmin(np.abs(np.asarray(self.k) - int(k))))

    def damage(self, order: str, k: int) -> list[tuple[str, float]]:
        """(class, recall at k=0 minus recall at the point nearest k) for every class with
        examples, most damaged first (ties by label order)."""
        if order not in self.per_class:
            raise PruneError(f"The curve has no order {order!r}; it has {', '.join(self.per_class)}.")
        base, now = self.per_class[order][0], self.per_class[order][self.point(k)]
        out = [(lab, float(b - n)) for lab, b, n in zip(self.labels, base, now, strict=True)
               if b is not None and n is not None]
        return sorted(out, key=lambda t: -t[1])


def k_points(n: int, points: int | None) -> tuple[int, ...]:
    """Distinct k from 0 to n, ``points`` of them evenly spread (None or > n+1: every k)."""
    if points is not None and points < 2:
        raise PruneError(f"A curve needs at least 2 points, not {points}.")
    if points is None or points >= n + 1:
        return tuple(range(n + 1))
    return tuple(int(v) for v in np.unique(np.round(np.linspace(0, n, points)).astype(int)))


def _recall(pred: np.ndarray, y: np.ndarray, n_classes: int) -> tuple[float, tuple[float | None, ...], np.ndarray]:
    """(accuracy, recall per class, (N,) bool each example right)."""
    hit = pred == y
    support = np.bincount(y, minlength=n_classes)
    right = np.bincount(y[hit], minlength=n_classes)
    rec = tuple(float(r / s) if s else None for r, s in zip(right, support, strict=True))
    return float(hit.mean()), rec, hit


def _act(activation: str):
    return torch.sigmoid if activation == "sigmoid" else torch.relu


class _SpeechEval:
    """Accuracy of masked SpeechDNNs on fixed evaluation frames (see the module doc)."""

    def __init__(self, model, x: np.ndarray, y: np.ndarray, means, fold_mean: bool, n_classes: int):
        self.ws = [lin.weight.detach() for lin in model.linears]
        self.bs = [lin.bias.detach() for lin in model.linears]
        self.act = _act(model.activation)
        self.x, self.y, self.n_classes = torch.from_numpy(np.array(x)), y, n_classes
        self.fill = {layer: torch.from_numpy(np.asarray(m, np.float32)) if fold_mean else torch.zeros(len(m))
                     for layer, m in means.items()}

    def _top(self, h: torch.Tensor, start: int, masks: Mapping[int, np.ndarray]) -> np.ndarray:
        """Run from hidden layer ``start`` (its activations h, already masked) to the output."""
        for layer in range(start + 1, len(self.ws)):
            h = self.act(torch.addmm(self.bs[layer - 1], h, self.ws[layer - 1].T))
            h = self._mask(h, layer, masks)
        return torch.addmm(self.bs[-1], h, self.ws[-1].T).argmax(1).numpy()

    def _mask(self, h: torch.Tensor, layer: int, masks: Mapping[int, np.ndarray]) -> torch.Tensor:
        m = masks.get(layer)
        if m is None or m.all():
            return h
        gone = torch.from_numpy(~m)
        h[:, gone] = self.fill[layer][gone]
        return h

    def score(self, pred: np.ndarray):
        return _recall(pred, self.y, self.n_classes)

    @torch.no_grad()
    def input_curve(self, order: np.ndarray, ks: Sequence[int], todo: set, tick):
        """Scores at the points of ``ks`` that are in ``todo`` (in order); z updated incrementally."""
        z = torch.addmm(self.bs[0], self.x, self.ws[0].T)
        prev, out = 0, []
        for k in ks:
            cols = torch.from_numpy(np.asarray(order[prev:k], np.int64))
            if len(cols):
                z.sub_(self.x[:, cols] @ self.ws[0][:, cols].T)
            prev = k
            if k in todo:
                out.append(self.score(self._top(self.act(z), 1, {})))
                tick(len(out))
        return out

    @torch.no_grad()
    def below(self, layer: int) -> torch.Tensor:
        """Activations of hidden layer ``layer`` of the full network."""
        h = self.x
        for i in range(layer):
            h = self.act(torch.addmm(self.bs[i], h, self.ws[i].T))
        return h

    @torch.no_grad()
    def hidden_curve(self, orders: Mapping[int, np.ndarray], ks: Sequence[int], h_cache: dict, tick):
        out = []
        layers = sorted(orders)
        for k in ks:
            masks = keep_mask(orders, k)
            if len(layers) == 1:
                (layer,) = layers
                if layer not in h_cache:
                    h_cache[layer] = self.below(layer)
                h = self._mask(h_cache[layer].clone(), layer, masks)
                out.append(self.score(self._top(h, layer, masks)))
            else:
                h = self._mask(self.act(torch.addmm(self.bs[0], self.x, self.ws[0].T)), 1, masks)
                out.append(self.score(self._top(h, 1, masks)))
            tick(len(out))
        return out


class _FilterEval:
    """Accuracy of a DigitCNN with deleted conv filters, with or without FC-only retraining."""

    def __init__(self, model: DigitCNN, data: PruneData, means, fold_mean: bool, retrain: RetrainConfig | None):
        self.model, self.data, self.fold_mean, self.retrain = model, data, fold_mean, retrain
        self.mean2 = torch.from_numpy(np.asarray(means[2], np.float32)).reshape(model.c2, -1)
        self.y_eval = np.asarray(data.y_eval)
        self.y_train = torch.from_numpy(np.array(data.y_train))
        self.cache: dict = {}

    def feats(self, keep1: np.ndarray | None):
        key = None if keep1 is None or keep1.all() else keep1.tobytes()
        if key not in self.cache:
            self.cache = {k: v for k, v in self.cache.items() if k is None}  # keep the full conv features
            ev = conv_features(self.model, self.data.x_eval, keep1)
            tr = conv_features(self.model, self.data.x_train, keep1) if self.retrain else None
            self.cache[key] = (ev, tr)
        return self.cache[key]

    @torch.no_grad()
    def accuracy(self, keep1: np.ndarray | None, keep2: np.ndarray):
        ev, tr = self.feats(keep1)
        m = self.model
        k2 = torch.from_numpy(keep2)
        w = m.fc1.weight.detach().reshape(m.hidden, m.c2, -1)
        b = m.fc1.bias.detach().clone()
        if self.fold_mean and bool((~k2).any()):
            b += torch.einsum("hfp,fp->h", w[:, ~k2].double(), self.mean2[~k2].double()).float()
        with warnings.catch_warnings():  # every filter deleted: a zero-width fc1 (bias only)
            warnings.simplefilter("ignore", UserWarning)
            fc1 = nn.Linear(int(k2.sum()) * w.shape[2], m.hidden)
        fc1.weight.copy_(w[:, k2].reshape(m.hidden, -1))
        fc1.bias.copy_(b)
        fc2 = nn.Linear(m.hidden, m.n_classes)
        fc2.weight.copy_(m.fc2.weight)
        fc2.bias.copy_(m.fc2.bias)
        if self.retrain is not None and not bool(k2.all() and (keep1 is None or keep1.all())):  # k = 0: as shipped
            train_fc(fc1, fc2, tr[:, k2].flatten(1), self.y_train, self.retrain)
        pred = fc2(torch.relu(fc1(ev[:, k2].flatten(1)))).argmax(1).numpy()
        return _recall(pred, self.y_eval, m.n_classes)


def pruning_curve(
    model: nn.Module,
    info: ModelInfo,
    units: str,
    *,
    layer: int | None = None,
    orders: Sequence[str] = ("imp_asc", "imp_desc", "random", "l1"),
    points: int | None = 30,
    seeds: Sequence[int] = (0, 1, 2),
    retrain: bool = True,
    retrain_config: RetrainConfig | None = None,
    fold_mean: bool = True,
    data: PruneData | None = None,
    importance: Mapping[int, np.ndarray] | None = None,
    progress: Callable[[float], None] | None = None,
) -> PruneCurve:
    """Accuracy on the evaluation subset (``prune_data``) against units deleted, for each order.

    units "input" | "hidden" | "filters"; layer: hidden 1..n_hidden (None = all hidden layers,
    same fraction each), filters 1 | 2 (None = 2). ``retrain`` (filters only): FC-only retraining
    after each deletion. ``importance``: precomputed ``unit_importance_by_layer``. ``progress``
    gets the fraction done (0..1). The model is only read.
    """
    layers = unit_layers(model, info, units, layer)
    orders = list(dict.fromkeys(orders))
    if not orders:
        raise PruneError("Give at least one order.")
    for o in orders:
        if o not in ORDERS:
            raise PruneError(f"Unknown order {o!r}; use one of {', '.join(ORDERS)}.")
        if o == "variance" and units != "input":
            raise PruneError("The variance order ranks input units only (it needs the inputs' values).")
    seeds = tuple(int(s) for s in seeds)
    if "random" in orders and not seeds:
        raise PruneError("The random order needs at least one seed.")
    data = data or prune_data(info)
    retrain_config = retrain_config or RetrainConfig()
    sizes = {la: n_units(model, la) for la in layers}
    n_total = sum(sizes.values())
    ks = k_points(n_total, points)
    if any(o in ("imp_asc", "imp_desc") for o in orders) and importance is None:
        importance = unit_importance_by_layer(model, info, layers=layers, data=data)
    runs = [(o, s) for o in orders for s in (seeds if o == "random" else (0,))]
    needs_means = fold_mean and units != "input"
    means = layer_means(model, data.x_stats) if needs_means else {}
    is_cnn = isinstance(model, DigitCNN)
    if is_cnn:
        ev = _FilterEval(model, data, means if fold_mean else {2: np.zeros((model.c2, 7, 7))}, fold_mean,
                         retrain_config if retrain else None)
    else:
        ev = _SpeechEval(model, data.x_eval, np.asarray(data.y_eval), means, fold_mean, info.n_classes)
    shared: dict[int, tuple] = {}  # k = 0 and k = n: the same network whatever the order
    h_cache: dict = {}
    results: dict[tuple[str, int], list] = {}
    for r, (o, s) in enumerate(runs):
        scores = unit_scores(model, info, units, o, layer=layer, seed=s, data=data, importance=importance)
        dorder = deletion_order(scores, o, s)
        todo = [k for k in ks if not (k in (0, n_total) and k in shared)]

        def tick(i: int, r=r, todo=todo) -> None:
            if progress is not None:
                progress((r + i / max(len(todo), 1)) / len(runs))

        if is_cnn:
            (la,) = layers
            vals = []
            for i, k in enumerate(todo):
                m = keep_mask(dorder, k)[la]
                vals.append(ev.accuracy(None, m) if la == 2 else ev.accuracy(m, np.ones(model.c2, bool)))
                tick(i + 1)
        elif units == "input":
            vals = ev.input_curve(dorder[0], ks, set(todo), tick)
        else:
            vals = ev.hidden_curve(dorder, todo, h_cache, tick)
        got = dict(zip(todo, vals, strict=True))
        for k in (0, n_total):
            if k in got:
                shared.setdefault(k, got[k])
        results[(o, s)] = [got[k] if k in got else shared[k] for k in ks]
    curves, per_class, band, hits = {}, {}, None, {}
    for o in orders:
        rs = [results[(o, s)] for s in (seeds if o == "random" else (0,))]
        hits[o] = np.stack([np.mean([p[2] for p in run], axis=0) for run in rs])
        acc = np.array([[p[0] for p in run] for run in rs])
        mean = np.where(acc.min(0) == acc.max(0), acc[0], acc.mean(0))  # equal runs: exactly their value
        curves[o] = tuple(float(v) for v in mean)
        pcs = []
        for i in range(len(ks)):
            cols = [run[i][1] for run in rs]
            pcs.append(tuple(None if cols[0][c] is None else float(np.mean([col[c] for col in cols]))
                             for c in range(info.n_classes)))
        per_class[o] = tuple(pcs)
        if o == "random":
            band = (tuple(float(v) for v in acc.min(0)), tuple(float(v) for v in acc.max(0)))
    full = results[runs[0]][0][0]
    settings = {**data.settings, "points": points, "seeds": list(seeds), "fold_mean": fold_mean,
                "importance": "Imp = sum over outputs of std of d posterior / d unit, statistics subset",
                "deleted_inputs": "replaced by 0 (their mean after normalisation)"}
    if is_cnn:
        settings["retrain"] = ({"epochs": retrain_config.epochs, "lr": retrain_config.lr,
                                "batch_size": retrain_config.batch_size, "seed": retrain_config.seed,
                                "what": "fc1 and fc2 only, Adam from the folded weights, all training digits"}
                               if retrain else None)
    return PruneCurve(
        model=info.name, units=units, layer=(0 if units == "input" else layers[0] if len(layers) == 1 else None),
        k=ks, fraction=tuple(round(k / n_total, 6) for k in ks), curves=curves, random_band=band,
        per_class=per_class, labels=tuple(info.labels), full_accuracy=float(full), n_units=n_total,
        n_frames=int(len(data.y_eval)), retrained=(bool(retrain) if units == "filters" else None),
        settings=settings, hits=hits, groups=data.groups_eval,
    )


__all__ = ["PruneCurve", "k_points", "pruning_curve", "layer_counts"]

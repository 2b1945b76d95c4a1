"""Gradient statistics of a network's outputs, Imp(l, i), and the comparison methods (METHOD.md 2, 5).

For a target y_t (the sum of the chosen outputs, e.g. the 3 states of a phoneme) and every unit i
of a layer l (l = 0: the input), g = dy_t / dh_i^(l) is taken at every frame of a sample set, and
only running sums are kept, **per true label of the frame**: n, sum g, sum g^2, sum |g| (float64).
``GradStats.stat`` turns them into std / mean |g| / rms / mean over any union of labels, exactly.

Choices written down here:

- Output kinds: ``"posterior"`` (softmax, default), ``"logit"``, ``"log_posterior"``. For a group of
  outputs S the target is sum_{c in S} y_c; with ``log_posterior`` it is log(sum_{c in S} p_c).
- The standard deviation is the population one (ddof=0): sqrt(sum g^2 / n - (sum g / n)^2).
- Reuse: a computation covers exactly the targets asked for; ``GradStats.merge`` joins the results
  of two computations on the same sample set, and ``GradStatsCache`` does this for a caller-chosen
  key (model, sample set), computing only the targets it has not seen.
- Speed: for ``SpeechDNN`` the Jacobian is an explicit chain of large matrix products (forward once,
  then from the output layer a (batch*T, units) matrix times each weight, scaled by the activation
  derivative), one sweep giving every layer. Any other ``nn.Module`` (``DigitCNN``) goes through
  batched autograd (``is_grads_batched``); for models with ``forward_layers`` any layer can be
  asked for. For the DigitCNN, layer l is ``forward_layers(x)[l]`` (conv maps after the ReLU).
- Memory is bounded by the batch size (chosen from ``max_batch_mb``), never by the frame count.
- The model is never changed: weights are only read; a model in training mode is put in eval
  mode for the autograd path and every module's flag is restored; no ``.grad`` is produced.
- Comparison methods give per-frame attributions a(x) (batch, T, D) that are summarised by the same
  per-label sums, so ``stat("mean_abs")`` of SmoothGrad is comparable with ``stat("std")`` of the
  gradient: SmoothGrad = mean gradient over ``n_samples`` noisy copies (Gaussian, ``noise_std`` in
  normalised units); Integrated Gradients = (x - x0) * mean gradient at ``steps`` midpoints of the
  straight path from x0 (default 0 = the mean input after normalisation); gradient x input;
  random = u * z with a seeded map u ~ U(0, 1) of shape (T, D) and z ~ N(0, 1) per frame, so every
  statistic of it is proportional to u.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import torch
from torch import nn

from core.models import SpeechDNN
from core.overlap import Transform, iter_batches

OutputKind = Literal["posterior", "logit", "log_posterior"]
StatKind = Literal["std", "mean_abs", "rms", "mean"]
Method = Literal["gradient", "smoothgrad", "integrated_gradients", "grad_x_input", "random"]
TargetSpec = int | Sequence[int]
OUTPUT_KINDS = ("posterior", "logit", "log_posterior")
STAT_KINDS = ("std", "mean_abs", "rms", "mean")
METHODS = ("gradient", "smoothgrad", "integrated_gradients", "grad_x_input", "random")
Consume = Callable[[int, torch.Tensor, tuple[int, ...]], None]


class ImportanceError(ValueError):
    """An importance request a user can get wrong (unknown output, empty sample set, bad kind)."""


@dataclass(frozen=True, eq=False)
class GradStats:
    """Running sums of g = d y_t / d h_i^(l) per true label of the frames.

    targets: T tuples of output indices (each summed into one y_t); n: (n_labels,) int64 frames per
    label; sum_g, sum_g2, sum_abs: (n_labels, T, D) float64. unit_shape: the layer's shape per frame
    (D = its product; (filters, H, W) for a conv map). method: "gradient" or a comparison method.
    """

    targets: tuple[tuple[int, ...], ...]
    kind: str
    n: np.ndarray
    sum_g: np.ndarray
    sum_g2: np.ndarray
    sum_abs: np.ndarray
    layer: int = 0
    unit_shape: tuple[int, ...] = ()
    method: str = "gradient"

    def __post_init__(self) -> None:
        for a in (self.n, self.sum_g, self.sum_g2, self.sum_abs):
            a.setflags(write=False)

    @property
    def n_labels(self) -> int:
        return int(self.n.shape[0])

    @property
    def dim(self) -> int:
        return int(self.sum_g.shape[2])

    def target_index(self, target: TargetSpec) -> int:
        """Row of a target (an output index or a list of them) in the (T, D) maps."""
        key = _target_key(target)
        if key not in self.targets:
            raise ImportanceError(f"Target {list(key)} was not computed; have {[list(t) for t in self.targets]}.")
        return self.targets.index(key)

    def stat(self, kind: StatKind = "std", labels: Sequence[int] | None = None) -> np.ndarray:
        """(T, D) float64 statistic over the frames whose true label is in ``labels`` (None = all).

        std (population, ddof=0), mean_abs = mean |g|, rms = sqrt(mean g^2), mean = mean g.
        """
        if kind not in STAT_KINDS:
            raise ImportanceError(f"Unknown statistic {kind!r}; use one of {', '.join(STAT_KINDS)}.")
        sel = slice(None) if labels is None else np.asarray(sorted({int(j) for j in labels}), dtype=np.int64)
        if labels is not None and (sel.size == 0 or sel.min() < 0 or sel.max() >= self.n_labels):
            raise ImportanceError(f"Labels must be a non-empty list of indices 0..{self.n_labels - 1}.")
        n = float(self.n[sel].sum())
        if n == 0:
            raise ImportanceError("No frames in the sample set have the chosen labels.")
        if kind == "mean_abs":
            return self.sum_abs[sel].sum(axis=0) / n
        m2 = self.sum_g2[sel].sum(axis=0) / n
        if kind == "rms":
            return np.sqrt(m2)
        m1 = self.sum_g[sel].sum(axis=0) / n
        return m1 if kind == "mean" else np.sqrt(np.maximum(m2 - m1 * m1, 0.0))

    def select(self, targets: Sequence[TargetSpec]) -> GradStats:
        """The same statistics restricted to (and ordered as) ``targets``."""
        rows = [self.target_index(t) for t in targets]
        return replace(self, targets=tuple(self.targets[r] for r in rows), n=self.n.copy(),
                       sum_g=self.sum_g[:, rows], sum_g2=self.sum_g2[:, rows], sum_abs=self.sum_abs[:, rows])

    def merge(self, other: GradStats) -> GradStats:
        """Union of the targets of two results on the same sample set (this one's order first)."""
        same = (self.kind, self.layer, self.unit_shape, self.method) == (
            other.kind, other.layer, other.unit_shape, other.method)
        if not same or not np.array_equal(self.n, other.n):
            raise ImportanceError("Only statistics of the same sample set, layer and output kind can merge.")
        extra = [i for i, t in enumerate(other.targets) if t not in self.targets]
        cat = lambda a, b: np.concatenate([a, b[:, extra]], axis=1)  # noqa: E731
        return replace(self, targets=self.targets + tuple(other.targets[i] for i in extra), n=self.n.copy(),
                       sum_g=cat(self.sum_g, other.sum_g), sum_g2=cat(self.sum_g2, other.sum_g2),
                       sum_abs=cat(self.sum_abs, other.sum_abs))


def _target_key(target: TargetSpec) -> tuple[int, ...]:
    if isinstance(target, (int, np.integer)):
        return (int(target),)
    return tuple(sorted({int(v) for v in target}))


def normalize_targets(targets: Sequence[TargetSpec] | None, n_outputs: int) -> tuple[tuple[int, ...], ...]:
    """Targets as sorted tuples of output indices; None = every output on its own."""
    if targets is None:
        return tuple((j,) for j in range(n_outputs))
    out = tuple(_target_key(t) for t in targets)
    if not out or any(not t for t in out):
        raise ImportanceError("Give at least one target, each with at least one output.")
    if any(j < 0 or j >= n_outputs for t in out for j in t):
        raise ImportanceError(f"Output indices must lie in 0..{n_outputs - 1}.")
    if len(set(out)) != len(out):
        raise ImportanceError("Each target may be asked for only once.")
    return out


def _masks(targets: tuple[tuple[int, ...], ...], n_out: int, dtype: torch.dtype) -> torch.Tensor:
    mask = torch.zeros(len(targets), n_out, dtype=dtype)
    for t, idx in enumerate(targets):
        mask[t, list(idx)] = 1.0
    return mask


def target_outputs(logits: torch.Tensor, mask: torch.Tensor, kind: str) -> torch.Tensor:
    """y_t of every target: logits (B, n_out), mask (T, n_out) 0/1 -> (B, T)."""
    if kind == "logit":
        return logits @ mask.T
    if kind == "posterior":
        return torch.softmax(logits, -1) @ mask.T
    logmask = torch.where(mask > 0, 0.0, float("-inf")).to(logits.dtype)
    return torch.logsumexp(torch.log_softmax(logits, -1)[:, None, :] + logmask, -1)


def _seed(logits: torch.Tensor, mask: torch.Tensor, kind: str) -> torch.Tensor:
    """dy_t / dz of the output layer: (B, T, n_out)."""
    b, (t, n) = logits.shape[0], mask.shape
    if kind == "logit":
        return mask.expand(b, t, n)
    y = torch.softmax(logits, -1)
    if kind == "posterior":  # d(sum_S y_c)/dz_k = y_k ([k in S] - sum_S y)
        return y[:, None, :] * (mask[None] - (y @ mask.T)[:, :, None])
    logmask = torch.where(mask > 0, 0.0, float("-inf")).to(logits.dtype)
    return torch.softmax(logits[:, None, :] + logmask, -1) - y[:, None, :]


def _buffer(work: dict[int, torch.Tensor], key: int, shape: tuple[int, int], dtype: torch.dtype) -> torch.Tensor:
    """A reusable (rows, cols) tensor: big per-batch products are written into the same memory."""
    n = shape[0] * shape[1]
    buf = work.get(key)
    if buf is None or buf.numel() < n or buf.dtype != dtype:
        buf = work[key] = torch.empty(n, dtype=dtype)
    return buf[:n].view(shape)


def _chain(model: SpeechDNN, x: torch.Tensor, mask: torch.Tensor, kind: str, layers: tuple[int, ...],
           consume: Consume, work: dict[int, torch.Tensor] | None = None) -> None:
    """Explicit Jacobian chain of a SpeechDNN (call under no_grad); consume(l, g (B, T, D_l), shape).

    The g passed to ``consume`` lives in ``work`` buffers that the next batch overwrites."""
    work = {} if work is None else work
    ws = [lin.weight.detach() for lin in model.linears]
    bs = [lin.bias.detach() for lin in model.linears]
    sig = model.activation == "sigmoid"
    hs = [x]
    for w, b in zip(ws[:-1], bs[:-1], strict=True):
        z = torch.addmm(b, hs[-1], w.T)
        hs.append(torch.sigmoid_(z) if sig else torch.relu_(z))
    logits = torch.addmm(bs[-1], hs[-1], ws[-1].T)
    nb, nt = x.shape[0], mask.shape[0]
    g = _seed(logits, mask, kind).reshape(nb * nt, -1)  # dy/dz of the layer above
    for layer in range(len(ws) - 1, min(layers) - 1, -1):
        g = torch.mm(g, ws[layer], out=_buffer(work, layer % 2, (nb * nt, ws[layer].shape[1]), x.dtype))
        g3 = g.view(nb, nt, -1)
        if layer in layers:
            consume(layer, g3, (g3.shape[2],))
        if layer > min(layers):
            h = hs[layer]
            g3.mul_((torch.addcmul(h, h, h, value=-1.0) if sig else h > 0).unsqueeze(1))  # h(1-h) | h>0


def _autograd(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, kind: str, layers: tuple[int, ...],
              consume: Consume) -> None:
    """Batched autograd for any module: one backward per call, vectorised over the T targets."""
    nb, nt = x.shape[0], mask.shape[0]
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        acts = list(model.forward_layers(x)) if hasattr(model, "forward_layers") else [x, model(x)]
        acts[0] = x
        if max(layers) > len(acts) - 2:
            raise ImportanceError(f"This model has layers 0..{len(acts) - 2} below the output.")
        y = target_outputs(acts[-1], mask, kind)
        seeds = torch.eye(nt, dtype=y.dtype)[:, None, :].expand(nt, nb, nt).contiguous()
        grads = torch.autograd.grad(y, [acts[layer] for layer in layers], grad_outputs=seeds,
                                    is_grads_batched=True)
    for layer, g in zip(layers, grads, strict=True):
        consume(layer, g.movedim(0, 1).reshape(nb, nt, -1), tuple(g.shape[2:]))


@contextmanager
def _eval_mode(model: nn.Module):
    """Eval mode for the duration, every module's own flag restored afterwards."""
    flags = [(m, m.training) for m in model.modules()]
    if any(f for _, f in flags):
        model.eval()
    try:
        yield
    finally:
        for m, f in flags:
            m.training = f


def _grads(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, kind: str, layers: tuple[int, ...],
           consume: Consume, engine: str, work: dict[int, torch.Tensor] | None = None) -> None:
    if engine == "chain":
        with torch.no_grad():
            _chain(model, x, mask, kind, layers, consume, work)
    else:
        with _eval_mode(model):
            _autograd(model, x, mask, kind, layers, consume)


def _engine(model: nn.Module, engine: str) -> str:
    if engine not in ("auto", "chain", "autograd"):
        raise ImportanceError(f"Unknown engine {engine!r}; use 'auto', 'chain' or 'autograd'.")
    if engine == "chain" and not isinstance(model, SpeechDNN):
        raise ImportanceError("The explicit chain needs a SpeechDNN.")
    return ("chain" if isinstance(model, SpeechDNN) else "autograd") if engine == "auto" else engine


def _n_outputs(model: nn.Module, x1: np.ndarray) -> int:
    n = getattr(model, "n_classes", None)
    if n is None:
        with torch.no_grad(), _eval_mode(model):
            n = model(torch.as_tensor(x1, dtype=next(model.parameters()).dtype)).shape[1]
    return int(n)


def _auto_batch(model: nn.Module, x1: np.ndarray, nt: int, layers: tuple[int, ...], engine: str,
                max_batch_mb: float, factor: int = 1) -> int:
    """Frames per batch so that the batch's gradients and temporaries stay within ``max_batch_mb``."""
    item = next(model.parameters()).element_size()
    if engine == "chain":
        sizes = model.layer_sizes
        per = sum(sizes) + nt * (2 * max(sizes[min(layers):]) + sizes[-1])
    else:
        with torch.no_grad(), _eval_mode(model):
            x = torch.as_tensor(x1, dtype=next(model.parameters()).dtype)
            acts = model.forward_layers(x) if hasattr(model, "forward_layers") else [x, model(x)]
        per = 3 * (nt + 1) * sum(a[0].numel() for a in acts)
    return int(max(1, min(1 << 16, max_batch_mb * 2**20 // (item * per * factor))))


_PIECE_BYTES = 4 << 20  # rows of g reduced together (the |g| temporary stays in cache)


class _Accumulator:
    """Receives (layer, g (B, T, D), unit shape) from an engine and adds g, g^2, |g| to that layer's
    float64 per-label sums (3, n_labels, T*D). Batches arrive sorted by label (``batch``), so each
    label's frames are one block of rows. The reductions run in numpy, single-threaded: on a busy
    machine many small multi-threaded torch ops would each wait for a free core."""

    def __init__(self, n_labels: int, nt: int):
        self.n_labels, self.nt = n_labels, nt
        self.sums: dict[int, np.ndarray] = {}
        self.shapes: dict[int, tuple[int, ...]] = {}
        self.n = np.zeros(n_labels, dtype=np.int64)

    def batch(self, lab: np.ndarray) -> None:
        """lab: (B,) labels of the batch, sorted."""
        cuts = np.flatnonzero(np.diff(lab)) + 1
        starts, ends = np.append(0, cuts), np.append(cuts, len(lab))
        self.segments = [(int(lab[i]), int(i), int(j)) for i, j in zip(starts, ends, strict=True)]
        self.n += np.bincount(lab, minlength=self.n_labels)

    def __call__(self, layer: int, g: torch.Tensor, shape: tuple[int, ...]) -> None:
        if layer not in self.sums:
            self.sums[layer] = np.zeros((3, self.n_labels, self.nt * g.shape[2]))
            self.shapes[layer] = shape
        acc, flat = self.sums[layer], g.reshape(g.shape[0], -1).numpy()
        step = max(1, _PIECE_BYTES // (flat.shape[1] * flat.itemsize))
        for label, i, j in self.segments:
            for k in range(i, j, step):
                block = flat[k : min(j, k + step)]
                acc[0, label] += block.sum(axis=0)
                acc[1, label] += np.einsum("ij,ij->j", block, block)
                acc[2, label] += np.abs(block).sum(axis=0)

    def result(self, targets: tuple[tuple[int, ...], ...], kind: str, method: str) -> dict[int, GradStats]:
        return {layer: GradStats(targets, kind, self.n.copy(), *(a.reshape(self.n_labels, self.nt, -1) for a in s),
                                 layer=layer, unit_shape=self.shapes[layer], method=method)
                for layer, s in sorted(self.sums.items())}


def _sorted_batches(X, labels: np.ndarray, batch_size: int, indices: np.ndarray,
                    transform: Transform | None):
    """Batches of ``iter_batches`` with their frames sorted by label (the sums do not depend on order)."""
    for xb, lb in iter_batches(X, labels, batch_size=batch_size, indices=indices, transform=transform):
        order = np.argsort(lb, kind="stable")
        yield np.ascontiguousarray(xb[order]), lb[order]


def _setup(model: nn.Module, X, labels: np.ndarray, targets, kind: str, n_labels: int | None,
           indices: np.ndarray | None, transform: Transform | None):
    """Checks shared by every entry point; returns (targets, mask, n_labels, indices, first frame)."""
    if kind not in OUTPUT_KINDS:
        raise ImportanceError(f"Unknown output kind {kind!r}; use one of {', '.join(OUTPUT_KINDS)}.")
    labels = np.asarray(labels)
    if len(labels) != len(X):
        raise ImportanceError(f"There are {len(X)} frames but {len(labels)} labels.")
    idx = np.arange(len(X)) if indices is None else np.asarray(indices, dtype=np.int64)
    if idx.size == 0:
        raise ImportanceError("The sample set has no frames.")
    x1 = X[idx[:1]]
    x1 = np.asarray(transform(x1) if transform is not None else x1, dtype=np.float32)
    n_out = _n_outputs(model, x1)
    tg = normalize_targets(targets, n_out)
    n_labels = n_out if n_labels is None else int(n_labels)
    lab = labels[idx]
    if lab.min() < 0 or lab.max() >= n_labels:
        raise ImportanceError(f"True labels must lie in 0..{n_labels - 1}.")
    return tg, _masks(tg, n_out, next(model.parameters()).dtype), n_labels, idx, x1


def layer_gradient_stats(
    model: nn.Module,
    X,
    labels: np.ndarray,
    targets: Sequence[TargetSpec] | None = None,
    *,
    layers: Sequence[int] | None = (0,),
    kind: OutputKind = "posterior",
    n_labels: int | None = None,
    transform: Transform | None = None,
    indices: np.ndarray | None = None,
    batch_size: int | None = None,
    max_batch_mb: float = 128,
    engine: str = "auto",
    progress: Callable[[float], None] | None = None,
) -> dict[int, GradStats]:
    """GradStats of several layers from one backward sweep per batch.

    X: (N, ...) normalised frames or ``X[idx]``-indexable raw frames with ``transform`` (e.g.
    ``SplicedFrames`` + ``Normalizer.apply``); labels: (N,) int true labels (0..n_labels-1, default
    n_labels = number of outputs). targets: None = every output. layers: indices into
    ``forward_layers`` (0 = input); None = every layer below the output. Returns {layer: GradStats}
    with sums (n_labels, T, D_layer).
    """
    eng = _engine(model, engine)
    tg, mask, n_labels, idx, x1 = _setup(model, X, labels, targets, kind, n_labels, indices, transform)
    if layers is None:
        if eng == "chain":
            layers = range(model.n_hidden + 1)
        elif not hasattr(model, "forward_layers"):
            layers = (0,)
        else:
            with torch.no_grad(), _eval_mode(model):
                xt = torch.as_tensor(x1, dtype=next(model.parameters()).dtype)
                layers = range(len(model.forward_layers(xt)) - 1)
    layers = tuple(sorted({int(layer) for layer in layers}))
    top = model.n_hidden if eng == "chain" else None
    if not layers or layers[0] < 0 or (top is not None and layers[-1] > top):
        raise ImportanceError(f"Layers must be indices 0..{top if top is not None else 'n'} below the output.")
    bs = batch_size or _auto_batch(model, x1, len(tg), layers, eng, max_batch_mb)
    dtype = next(model.parameters()).dtype
    acc, work = _Accumulator(n_labels, len(tg)), {}
    for xb, lb in _sorted_batches(X, labels, bs, idx, transform):
        acc.batch(lb)
        _grads(model, torch.from_numpy(xb).to(dtype), mask, kind, layers, acc, eng, work)
        if progress is not None:
            progress(float(acc.n.sum()) / idx.size)
    return acc.result(tg, kind, "gradient")


def gradient_stats(model: nn.Module, X, labels: np.ndarray, targets: Sequence[TargetSpec] | None = None,
                   **kwargs) -> GradStats:
    """GradStats of the input layer (see ``layer_gradient_stats`` for the arguments)."""
    return layer_gradient_stats(model, X, labels, targets, layers=(0,), **kwargs)[0]


def unit_importance(stats: Mapping[int, GradStats], stat: StatKind = "std",
                    labels: Sequence[int] | None = None, per_filter: bool = True) -> dict[int, np.ndarray]:
    """Imp(l, i) = sum over targets j of stat_x(dy_j / dh_i^(l)): {layer: (D_l,) float64}.

    With every output as a target (``targets=None``) this is METHOD.md's Imp. For a conv map
    (unit_shape (filters, H, W), layer > 0) and ``per_filter`` the sum also runs over positions:
    (filters,).
    """
    out = {}
    for layer, s in stats.items():
        imp = s.stat(stat, labels).sum(axis=0)
        if per_filter and layer > 0 and len(s.unit_shape) == 3:
            imp = imp.reshape(s.unit_shape[0], -1).sum(axis=1)
        out[layer] = imp
    return out


class GradStatsCache:
    """Input-layer GradStats per (key, output kind) that computes only targets it has not seen.

    ``key`` must identify the model and the sample set (frames, transform, indices), e.g.
    ("speech_en_mfbank", "validation"). Thread-safe; keeps the ``max_entries`` most recent keys.
    """

    def __init__(self, max_entries: int = 8):
        self._store: OrderedDict[Hashable, GradStats] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    def get(self, key: Hashable, model: nn.Module, X, labels: np.ndarray,
            targets: Sequence[TargetSpec] | None = None, *, kind: OutputKind = "posterior",
            **kwargs) -> GradStats:
        """GradStats for ``targets`` (None = every output), computing only the missing ones.

        Other keyword arguments go to ``gradient_stats`` (n_labels, transform, indices, ...)."""
        if targets is None:
            if getattr(model, "n_classes", None) is None:
                raise ImportanceError("Give the targets: this model does not say how many outputs it has.")
            targets = range(model.n_classes)
        want = tuple(_target_key(t) for t in targets)
        with self._lock:
            have = self._store.get((key, kind))
        missing = list(dict.fromkeys(t for t in want if have is None or t not in have.targets))
        if missing:
            new = gradient_stats(model, X, labels, missing, kind=kind, **kwargs)
            with self._lock:
                have = self._store.get((key, kind))
                have = new if have is None else have.merge(new)
                self._store[(key, kind)] = have
                self._store.move_to_end((key, kind))
                while len(self._store) > self.max_entries:
                    self._store.popitem(last=False)
        return have.select(want)


def _attr_batch(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, kind: str, method: str,
                engine: str, *, noise_std: float, n_samples: int, steps: int, baseline,
                gen: torch.Generator, u: torch.Tensor | None) -> torch.Tensor:
    """Attributions of one batch: x (B, ...) -> (B, T, D)."""
    nb, nt = x.shape[0], mask.shape[0]
    if method == "random":
        z = torch.randn(nb, generator=gen, dtype=x.dtype)
        return u[None] * z[:, None, None]

    def grad(xs: torch.Tensor) -> torch.Tensor:
        out: list[torch.Tensor] = []
        _grads(model, xs, mask, kind, (0,), lambda _l, g, _s: out.append(g.clone()), engine)
        return out[0]

    flat = x.reshape(nb, 1, -1)
    if method == "gradient":
        return grad(x)
    if method == "grad_x_input":
        return grad(x) * flat
    if method == "smoothgrad":
        noise = torch.randn((n_samples, *x.shape), generator=gen, dtype=x.dtype) * noise_std
        xs = (x[None] + noise).reshape(n_samples * nb, *x.shape[1:])
        return grad(xs).view(n_samples, nb, nt, -1).mean(0)
    x0 = torch.as_tensor(baseline, dtype=x.dtype).expand_as(x)
    alphas = (torch.arange(steps, dtype=x.dtype) + 0.5) / steps
    xs = (x0[None] + alphas.view(-1, *[1] * x.dim()) * (x - x0)[None]).reshape(steps * nb, *x.shape[1:])
    return grad(xs).view(steps, nb, nt, -1).mean(0) * (x - x0).reshape(nb, 1, -1)


def _method_args(method: str, n_samples: int, steps: int) -> int:
    if method not in METHODS:
        raise ImportanceError(f"Unknown method {method!r}; use one of {', '.join(METHODS)}.")
    if n_samples < 1 or steps < 1:
        raise ImportanceError("SmoothGrad samples and Integrated Gradients steps must be at least 1.")
    return n_samples if method == "smoothgrad" else steps if method == "integrated_gradients" else 1


def attributions(model: nn.Module, x: np.ndarray, targets: Sequence[TargetSpec] | None = None, *,
                 method: Method = "gradient", kind: OutputKind = "posterior", noise_std: float = 0.2,
                 n_samples: int = 16, steps: int = 32, baseline: float | np.ndarray = 0.0, seed: int = 0,
                 engine: str = "auto") -> np.ndarray:
    """Per-frame attributions of normalised inputs x (B, ...) -> (B, T, D) float (see module doc)."""
    _method_args(method, n_samples, steps)
    if kind not in OUTPUT_KINDS:
        raise ImportanceError(f"Unknown output kind {kind!r}; use one of {', '.join(OUTPUT_KINDS)}.")
    eng = _engine(model, engine)
    dtype = next(model.parameters()).dtype
    xt = torch.as_tensor(np.asarray(x), dtype=dtype)
    n_out = _n_outputs(model, np.asarray(x)[:1])
    mask = _masks(normalize_targets(targets, n_out), n_out, dtype)
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(mask.shape[0], xt[0].numel(), generator=gen, dtype=dtype)
    return _attr_batch(model, xt, mask, kind, method, eng, noise_std=noise_std, n_samples=n_samples,
                       steps=steps, baseline=baseline, gen=gen, u=u).numpy()


def attribution_stats(
    model: nn.Module,
    X,
    labels: np.ndarray,
    targets: Sequence[TargetSpec] | None = None,
    *,
    method: Method = "smoothgrad",
    kind: OutputKind = "posterior",
    n_labels: int | None = None,
    transform: Transform | None = None,
    indices: np.ndarray | None = None,
    noise_std: float = 0.2,
    n_samples: int = 16,
    steps: int = 32,
    baseline: float | np.ndarray = 0.0,
    seed: int = 0,
    batch_size: int | None = None,
    max_batch_mb: float = 128,
    engine: str = "auto",
    progress: Callable[[float], None] | None = None,
) -> GradStats:
    """Per-label sums of a comparison method's attributions (input layer), same API as gradient_stats.

    ``stat("mean_abs")`` is the usual averaged saliency map; ``stat("mean")`` keeps the sign.
    """
    factor = _method_args(method, n_samples, steps)
    eng = _engine(model, engine)
    tg, mask, n_labels, idx, x1 = _setup(model, X, labels, targets, kind, n_labels, indices, transform)
    bs = batch_size or _auto_batch(model, x1, len(tg), (0,), eng, max_batch_mb, factor)
    dtype = next(model.parameters()).dtype
    gen = torch.Generator().manual_seed(seed)
    u = torch.rand(len(tg), x1[0].size, generator=gen, dtype=dtype)
    acc = _Accumulator(n_labels, len(tg))
    for xb, lb in _sorted_batches(X, labels, bs, idx, transform):
        acc.batch(lb)
        a = _attr_batch(model, torch.from_numpy(xb).to(dtype), mask, kind, method, eng, noise_std=noise_std,
                        n_samples=n_samples, steps=steps, baseline=baseline, gen=gen, u=u)
        acc(0, a, tuple(x1.shape[1:]))
        if progress is not None:
            progress(float(acc.n.sum()) / idx.size)
    return acc.result(tg, kind, method)[0]


# ---------------------------------------------------------------------------------------------
# Command line: `python -m core importance MODEL (--corpus DIR | --validation) --target s ...`


def resolve_target(name: str, label_names: Sequence[str]) -> tuple[int, ...]:
    """Output indices of a phoneme name: the exact label, else every state label of that phoneme.

    State labels are recognised as the phoneme followed by one of ``_ - . : / [`` (e.g. "s_S1").
    """
    names = list(label_names)
    if name in names:
        return (names.index(name),)
    hits = tuple(i for i, lab in enumerate(names) if len(lab) > len(name) and lab.startswith(name)
                 and lab[len(name)] in "_-.:/[")
    if not hits:
        known = dict.fromkeys(re.split(r"[_\-.:/\[]", lab)[0] for lab in names)
        raise ImportanceError(f"Unknown phoneme {name!r}; the model knows {', '.join(known)}.")
    return hits


MAX_BINS = 1000


def check_table_args(top: int, bins: int) -> None:
    """ImportanceError unless 1 <= top and 2 <= bins <= MAX_BINS (checked before any computation)."""
    if top < 1:
        raise ImportanceError(f"--top must be at least 1, not {top}.")
    if not 2 <= bins <= MAX_BINS:
        raise ImportanceError(f"--bins must be between 2 and {MAX_BINS}, not {bins}.")


def importance_table(model: nn.Module, features, label_names: Sequence[str], X, labels: np.ndarray, *,
                     target: str, pair: str | None = None, stat: StatKind = "std",
                     kind: OutputKind = "posterior", top: int = 10, transform: Transform | None = None,
                     bins: int = 30) -> list[dict]:
    """Top cells of a phoneme's importance map (or of a pair's), largest drawn square first.

    features: the model's ``FeatureConfig``; label_names: output names (true labels index them too).
    The statistic is over every frame given. Rows: offset_frames, offset_ms, channel, hz (None for
    MFCC), importance; for a pair also importance_b (of ``pair``), importance_pair (the product, the
    sort key) and p_e. p_e follows the dashboard's rule: ``bins`` equal-width bins per input between
    the percentiles of *all* frames given (``core.overlap.class_histograms``), so it equals
    ``class_histograms(X, labels, bins=bins).overlap(target, pair)``; only the two classes' frames
    are counted. Arguments are checked (``check_table_args``, two different phonemes) before any
    computation.
    """
    from core.features import input_meaning
    from core.overlap import class_histograms, input_range

    check_table_args(top, bins)
    ta = resolve_target(target, label_names)
    tgs = [ta] if pair is None else [ta, resolve_target(pair, label_names)]
    if pair is not None and set(tgs[0]) & set(tgs[1]):
        raise ImportanceError(f"--target {target} and --pair {pair} share outputs; choose two different phonemes.")
    if pair is not None:  # bins from all frames (as the dashboard), counts of the two classes only
        labels = np.asarray(labels)
        two = np.where(np.isin(labels, tgs[0]), 0, np.where(np.isin(labels, tgs[1]), 1, -1))
        both = np.flatnonzero(two >= 0)
        hist = class_histograms(X, two, n_labels=2, bins=bins, transform=transform, indices=both,
                                value_range=input_range(X, transform=transform), names=[target, pair])
        _, p_e = hist.overlap(0, 1)  # before the gradients: a class without frames fails fast
    st = gradient_stats(model, X, labels, tgs, kind=kind, n_labels=len(label_names),
                        transform=transform).stat(stat)
    meaning = input_meaning(features)
    size = st[0] if pair is None else st[0] * st[1]
    rows = []
    for i in np.argsort(-size, kind="stable")[:top]:
        hz = float(meaning["hz"][i])
        row = {"offset_frames": int(meaning["offset_frames"][i]), "offset_ms": float(meaning["offset_ms"][i]),
               "channel": int(meaning["channel"][i]), "hz": None if np.isnan(hz) else round(hz, 1),
               "importance": float(st[0, i])}
        if pair is not None:
            row.update(importance_b=float(st[1, i]), importance_pair=float(size[i]), p_e=float(p_e[i]))
        rows.append(row)
    return rows


def _cli_data(args) -> tuple:
    """Glue to the loaders: (model, info, raw spliced frames, true labels in output index space)."""
    from core.models import load_model
    from core.train import frame_targets, load_validation

    model, info = load_model(args.model)
    if info.kind != "speech":
        raise ImportanceError(f"The model {info.name} is not a speech model.")
    if args.validation:
        frames = load_validation(info)
    else:
        from core.corpus import load_corpus

        frames = load_corpus(args.corpus, info.features)
    return model, info, frames.spliced(), frame_targets(frames, info.targets)


def _cli_importance(args) -> int:
    import json

    check_table_args(args.top, args.bins)  # before loading anything
    if args.pair is not None and args.pair == args.target:
        raise ImportanceError(f"--target and --pair are both {args.target}; choose two different phonemes.")
    model, info, X, labels = _cli_data(args)
    rows = importance_table(model, info.features, info.labels, X, labels, target=args.target, pair=args.pair,
                            stat=args.kind, kind=args.output, top=args.top, transform=info.normalizer.apply,
                            bins=args.bins)
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    head = f"{'offset':>7} {'ms':>6} {'ch':>3} {'Hz':>7} {args.target:>11}"
    print(head + (f" {args.pair:>11} {'product':>11} {'p_e':>5}" if args.pair else ""))
    for r in rows:
        hz = "-" if r["hz"] is None else f"{r['hz']:.0f}"
        line = f"{r['offset_frames']:>7} {r['offset_ms']:>6.0f} {r['channel']:>3} {hz:>7} {r['importance']:>11.4g}"
        if args.pair:
            line += f" {r['importance_b']:>11.4g} {r['importance_pair']:>11.4g} {r['p_e']:>5.2f}"
        print(line)
    return 0


def add_cli(subparsers) -> None:
    """Register `importance`: the top inputs of a phoneme's importance map, or of a pair's."""
    p = subparsers.add_parser("importance", help="top inputs of a phoneme's importance map (or a pair's)")
    p.add_argument("model", help="model directory (as saved by core.models.save_model)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--corpus", metavar="DIR", help="frames of a corpus directory")
    src.add_argument("--validation", action="store_true", help="the model's validation frames")
    p.add_argument("--target", required=True, help="phoneme (all its states for a 3-state model)")
    p.add_argument("--pair", help="second phoneme: square size = product, colour = p_e")
    p.add_argument("--kind", choices=("std", "mean_abs", "rms"), default="std", help="statistic (default std)")
    p.add_argument("--output", choices=OUTPUT_KINDS, default="posterior", help="output differentiated")
    p.add_argument("--top", type=int, default=10, help="cells to print, at least 1 (default 10)")
    p.add_argument("--bins", type=int, default=30,
                   help=f"histogram bins per input for p_e, 2-{MAX_BINS} (default 30); as in the dashboard, "
                        "the bins span the 0.5-99.5th percentiles of all frames of the sample set")
    p.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    p.set_defaults(func=_cli_importance)

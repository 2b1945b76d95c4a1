"""The two gradient engines (explicit Jacobian chain for SpeechDNN, batched autograd for any
module) and the entry points ``layer_gradient_stats`` / ``gradient_stats`` that drive them over a
sample set. The choices are written down in ``core.importance``'s docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from core.data.batching import Transform, iter_batches
from core.importance.stats import (
    OUTPUTS,
    Consume,
    GradStats,
    ImportanceError,
    Output,
    TargetSpec,
    _Accumulator,
    normalize_targets,
)
from core.models import SpeechDNN
from core.torch_utils import eval_mode


def _masks(targets: tuple[tuple[int, ...], ...], n_out: int, dtype: torch.dtype) -> torch.Tensor:
    mask = torch.zeros(len(targets), n_out, dtype=dtype)
    for t, idx in enumerate(targets):
        mask[t, list(idx)] = 1.0
    return mask


def target_outputs(logits: torch.Tensor, mask: torch.Tensor, output: str) -> torch.Tensor:
    """y_t of every target: logits (B, n_out), mask (T, n_out) 0/1 -> (B, T)."""
    if output == "logit":
        return logits @ mask.T
    if output == "posterior":
        return torch.softmax(logits, -1) @ mask.T
    logmask = torch.where(mask > 0, 0.0, float("-inf")).to(logits.dtype)
    return torch.logsumexp(torch.log_softmax(logits, -1)[:, None, :] + logmask, -1)


def _seed(logits: torch.Tensor, mask: torch.Tensor, output: str) -> torch.Tensor:
    """dy_t / dz of the output layer: (B, T, n_out)."""
    b, (t, n) = logits.shape[0], mask.shape
    if output == "logit":
        return mask.expand(b, t, n)
    y = torch.softmax(logits, -1)
    if output == "posterior":  # d(sum_S y_c)/dz_k = y_k ([k in S] - sum_S y)
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


def _chain(model: SpeechDNN, x: torch.Tensor, mask: torch.Tensor, output: str, layers: tuple[int, ...],
           consume: Consume, work: dict[int, torch.Tensor] | None = None) -> None:
    """Explicit Jacobian chain of a SpeechDNN (call under no_grad); consume(l, g (B, T, D_l), shape, 0).

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
    g = _seed(logits, mask, output).reshape(nb * nt, -1)  # dy/dz of the layer above
    for layer in range(len(ws) - 1, min(layers) - 1, -1):
        g = torch.mm(g, ws[layer], out=_buffer(work, layer % 2, (nb * nt, ws[layer].shape[1]), x.dtype))
        g3 = g.view(nb, nt, -1)
        if layer in layers:
            consume(layer, g3, (g3.shape[2],), 0)
        if layer > min(layers):
            h = hs[layer]
            g3.mul_((torch.addcmul(h, h, h, value=-1.0) if sig else h > 0).unsqueeze(1))  # h(1-h) | h>0


def _autograd(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, output: str, layers: tuple[int, ...],
              consume: Consume) -> None:
    """Autograd for any module: one forward, then one backward per target (``retain_graph``), each
    giving that target's gradient at every asked layer: consume(l, g (B, 1, D_l), shape, t).

    The backward of y_t summed over the batch gives every frame its own gradient because frames do
    not interact in eval mode. This loop is several times faster than ``is_grads_batched`` (vmap)
    on convolutions, and its memory does not grow with the number of targets."""
    nb, nt = x.shape[0], mask.shape[0]
    with torch.enable_grad():
        x = x.detach().requires_grad_(True)
        acts = list(model.forward_layers(x)) if hasattr(model, "forward_layers") else [x, model(x)]
        acts[0] = x
        if max(layers) > len(acts) - 2:
            raise ImportanceError(f"This model has layers 0..{len(acts) - 2} below the output.")
        y = target_outputs(acts[-1], mask, output).sum(0)  # (T,)
        wanted = [acts[layer] for layer in layers]
        for t in range(nt):
            grads = torch.autograd.grad(y[t], wanted, retain_graph=t < nt - 1)
            for layer, g in zip(layers, grads, strict=True):
                consume(layer, g.reshape(nb, 1, -1), tuple(g.shape[1:]), t)


def _grads(model: nn.Module, x: torch.Tensor, mask: torch.Tensor, output: str, layers: tuple[int, ...],
           consume: Consume, engine: str, work: dict[int, torch.Tensor] | None = None) -> None:
    if engine == "chain":
        with torch.no_grad():
            _chain(model, x, mask, output, layers, consume, work)
    else:
        with eval_mode(model):
            _autograd(model, x, mask, output, layers, consume)


def _engine(model: nn.Module, engine: str) -> str:
    if engine not in ("auto", "chain", "autograd"):
        raise ImportanceError(f"Unknown engine {engine!r}; use 'auto', 'chain' or 'autograd'.")
    if engine == "chain" and not isinstance(model, SpeechDNN):
        raise ImportanceError("The explicit chain needs a SpeechDNN.")
    return ("chain" if isinstance(model, SpeechDNN) else "autograd") if engine == "auto" else engine


def _n_outputs(model: nn.Module, x1: np.ndarray) -> int:
    n = getattr(model, "n_classes", None)
    if n is None:
        with torch.no_grad(), eval_mode(model):
            n = model(torch.as_tensor(x1, dtype=next(model.parameters()).dtype)).shape[1]
    return int(n)


def _auto_batch(model: nn.Module, x1: np.ndarray, nt: int, layers: tuple[int, ...], engine: str,
                max_batch_mb: float, factor: int = 1, collect: bool = False) -> int:
    """Frames per batch so that the batch's gradients and temporaries stay within ``max_batch_mb``.

    chain: the activations plus, per target, two (rows, units) products and the output seed.
    autograd: 5 floats per activation value of ``forward_layers`` (the saved graph, one target's
    gradients at every layer and the backward's temporaries; measured: peak RSS grows by 0.39 MB
    per DigitCNN digit at batch 1,000, the estimate is 0.39 MB), independent of the number of
    targets; ``collect`` adds the (B, T, D) attributions a comparison method gathers (twice: the
    gradients and the attributions made from them). ``factor``: copies of each frame (SmoothGrad
    samples, Integrated Gradients steps)."""
    item = next(model.parameters()).element_size()
    if engine == "chain":
        sizes = model.layer_sizes
        per = sum(sizes) + nt * (2 * max(sizes[min(layers):]) + sizes[-1])
    else:
        with torch.no_grad(), eval_mode(model):
            x = torch.as_tensor(x1, dtype=next(model.parameters()).dtype)
            acts = model.forward_layers(x) if hasattr(model, "forward_layers") else [x, model(x)]
        per = 5 * sum(a[0].numel() for a in acts) + (2 * nt * x1[0].size if collect else 0)
    return int(max(1, min(1 << 16, max_batch_mb * 2**20 // (item * per * factor))))


def _sorted_batches(X, labels: np.ndarray, batch_size: int, indices: np.ndarray,
                    transform: Transform | None):
    """Batches of ``iter_batches`` with their frames sorted by label (the sums do not depend on order)."""
    for xb, lb in iter_batches(X, labels, batch_size=batch_size, indices=indices, transform=transform):
        order = np.argsort(lb, kind="stable")
        yield np.ascontiguousarray(xb[order]), lb[order]


def _setup(model: nn.Module, X, labels: np.ndarray, targets, output: str, n_labels: int | None,
           indices: np.ndarray | None, transform: Transform | None):
    """Checks shared by every entry point; returns (targets, mask, n_labels, indices, first frame)."""
    if output not in OUTPUTS:
        raise ImportanceError(f"Unknown output {output!r}; use one of {', '.join(OUTPUTS)}.")
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
    output: Output = "posterior",
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
    tg, mask, n_labels, idx, x1 = _setup(model, X, labels, targets, output, n_labels, indices, transform)
    if layers is None:
        if eng == "chain":
            layers = range(model.n_hidden + 1)
        elif not hasattr(model, "forward_layers"):
            layers = (0,)
        else:
            with torch.no_grad(), eval_mode(model):
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
        _grads(model, torch.from_numpy(xb).to(dtype), mask, output, layers, acc, eng, work)
        if progress is not None:
            progress(float(acc.n.sum()) / idx.size)
    return acc.result(tg, output, "gradient")


def gradient_stats(model: nn.Module, X, labels: np.ndarray, targets: Sequence[TargetSpec] | None = None,
                   **kwargs) -> GradStats:
    """GradStats of the input layer (see ``layer_gradient_stats`` for the arguments)."""
    return layer_gradient_stats(model, X, labels, targets, layers=(0,), **kwargs)[0]


"""The adapted network of ``core.voice.adapt``: a model copy behind an input map (``x_k' = A x_k + b``
on every spliced frame) and hidden-unit scales (LHUC), both folded back into the copy's layers
(``fold_input_map``, ``fold_lhuc``); the vocal-tract-length warps the input map starts from
(``warp_matrix``, ``warp_map``) and the choice among them (``_choose_warp``); the parameters each
part of ``AdaptConfig.parts`` updates (``_selected``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from core.features import FeatureConfig, hz_to_mel, mel_centres_hz
from core.models import ModelInfo

WARP_FRAMES = 1500


class _Adapted(nn.Module):
    """The model copy behind a linear map of every input frame: ``x_k' = A x_k + b`` for each of
    the K spliced frames x_k (C normalised channels), A (C, C) starting at the identity; with
    ``with_lhuc``, every hidden unit's output is scaled by ``2 sigmoid(r)`` (LHUC), r starting at 0
    (scale 1)."""

    def __init__(self, net: nn.Module, n_channels: int, n_offsets: int, with_input: bool, with_lhuc: bool = False):
        super().__init__()
        self.net = net
        self.n_offsets, self.n_channels = n_offsets, n_channels
        self.A = nn.Parameter(torch.eye(n_channels), requires_grad=with_input)
        self.b = nn.Parameter(torch.zeros(n_channels), requires_grad=with_input)
        self.with_lhuc = with_lhuc
        hidden = [lin.out_features for lin in net.linears[:-1]] if with_lhuc else []
        self.lhuc = nn.ParameterList(nn.Parameter(torch.zeros(h)) for h in hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.A.requires_grad:
            x = (x.view(len(x), self.n_offsets, self.n_channels) @ self.A.T + self.b).view(len(x), -1)
        if not self.with_lhuc:
            return self.net(x)
        h = x
        for lin, r in zip(self.net.linears[:-1], self.lhuc, strict=True):
            h = self.net.act(lin(h)) * (2.0 * torch.sigmoid(r))
        return self.net.linears[-1](h)


def fold_lhuc(net: nn.Module, scales: Sequence[torch.Tensor]) -> None:
    """Fold hidden-unit scales (LHUC, ``2 sigmoid(r)`` of each hidden layer) into ``net`` in place:
    the layer after hidden layer i reads ``W (s_i * h_i)``, i.e. its weight's columns times s_i."""
    with torch.no_grad():
        for lin, s in zip(net.linears[1:], scales, strict=True):
            lin.weight.mul_(s[None, :])


def fold_input_map(net: nn.Module, A: torch.Tensor, b: torch.Tensor) -> None:
    """Fold ``x_k' = A x_k + b`` (every spliced frame k) into the first layer of ``net`` in place:
    W_k' = W_k A for each (H, C) block W_k of the first weight matrix, bias' = bias + sum_k W_k b."""
    lin = net.linears[0]
    h = lin.weight.shape[0]
    with torch.no_grad():
        w = lin.weight.view(h, -1, A.shape[0])
        lin.bias.add_(w.sum(1) @ b)
        lin.weight.copy_((w @ A).view(h, -1))


def _selected(net: nn.Module, parts: Sequence[str]) -> dict[str, nn.Parameter]:
    params = dict(net.named_parameters())
    chosen: dict[str, nn.Parameter] = {}
    if "output" in parts:
        last = [n for n in params if n.startswith("linears.")][-2:]
        chosen.update({n: params[n] for n in last})
    if "first" in parts:
        chosen.update({n: params[n] for n in [n for n in params if n.startswith("linears.")][:2]})
    if "all" in parts:
        chosen.update(params)
    if "biases" in parts:
        chosen.update({n: p for n, p in params.items() if n.endswith(".bias")})
    return chosen


def warp_matrix(cfg: FeatureConfig, alpha: float) -> np.ndarray:
    """(C, C) float64 frequency warp of MFBANK channels: row c linearly interpolates the log energies
    at ``alpha`` times channel c's centre frequency (on the mel axis, clamped to the first and last
    channel), so a voice whose formants lie ``alpha`` times higher is mapped onto the model's.
    Rows sum to 1; ``alpha = 1`` gives the identity."""
    fc = mel_centres_hz(cfg)
    mel = hz_to_mel(fc)
    want = hz_to_mel(np.clip(alpha * fc, fc[0], fc[-1]))
    src = np.interp(want, mel, np.arange(len(fc), dtype=np.float64))
    lo = np.minimum(np.floor(src).astype(np.int64), len(fc) - 1)
    hi = np.minimum(lo + 1, len(fc) - 1)
    w = np.zeros((len(fc), len(fc)))
    rows = np.arange(len(fc))
    np.add.at(w, (rows, lo), 1.0 - (src - lo))
    np.add.at(w, (rows, hi), src - lo)
    return w


def warp_map(info: ModelInfo, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """(A, b) of ``warp_matrix`` in the model's normalised feature space: for raw features r,
    ``A ((r - mean) / std) + b == (W r - mean) / std``, i.e. A = diag(1/std) W diag(std),
    b = (W mean - mean) / std."""
    w = warp_matrix(info.features, alpha)
    mean = np.asarray(info.normalizer.mean, np.float64)
    std = np.asarray(info.normalizer.std, np.float64)
    return w * std[None, :] / std[:, None], (w @ mean - mean) / std



def _choose_warp(
    wrapped: _Adapted, info: ModelInfo, warps: Sequence[float], x: torch.Tensor, y: torch.Tensor
) -> float:
    """Set the input map to the warp of ``warps`` with the lowest cross-entropy on (x, y) (every k-th
    frame, at most ``WARP_FRAMES`` of them: a forward pass per warp); returns it."""
    step = -(-len(x) // WARP_FRAMES)
    x, y = x[::step], y[::step]
    best, best_loss = 1.0, float("inf")
    with torch.no_grad():
        for alpha in warps:
            a, b = warp_map(info, float(alpha))
            wrapped.A.copy_(torch.from_numpy(a))
            wrapped.b.copy_(torch.from_numpy(b))
            loss = float(
                sum(
                    nn.functional.cross_entropy(wrapped(x[i : i + 4096]), y[i : i + 4096], reduction="sum")
                    for i in range(0, len(x), 4096)
                )
            ) / max(len(x), 1)
            if loss < best_loss:
                best, best_loss = float(alpha), loss
        a, b = warp_map(info, best)
        wrapped.A.copy_(torch.from_numpy(a))
        wrapped.b.copy_(torch.from_numpy(b))
    return best

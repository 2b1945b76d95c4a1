"""Which frames the comparison uses (``TrustData`` for a speech model or the digit CNN) and the
steps that compute it, each usable on its own (the dashboard caches them one by one) or all at
once (``compare``, the command line)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from torch import nn

from core.data.batching import Transform
from core.text import N_
from core.trust.faithfulness import Faithfulness, faithfulness
from core.trust.maps import DEFAULT_CONFIG, MethodMaps, TrustConfig, TrustError, method_maps, spread_indices
from core.trust.report import MethodRow, Verdict, summary
from core.trust.sanity import Sanity, sanity
from core.trust.stability import CellIntervals, cell_intervals, split_half

Progress = Callable[[float], None] | None


@dataclass(frozen=True, eq=False)
class TrustData:
    """The frames of one comparison.

    X: frames (raw with ``transform``, or normalised); clusters: (N,) cluster of every frame
    (utterance index; for digits the image's own index); y: (N,) true class as an output index;
    target: the target's output indices; sample: frames of the maps; sanity: the sample's frames
    in every k-th of its clusters (whole clusters, so the trained model's maps over them are exact
    sums); eval: the target's frames of the deletion / insertion curves; unit: "utterance" | "digit"."""

    X: object = field(repr=False)
    transform: Transform | None = field(repr=False)
    clusters: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    target: tuple[int, ...]
    sample: np.ndarray = field(repr=False)
    sanity: np.ndarray = field(repr=False)
    eval: np.ndarray = field(repr=False)
    unit: str = "utterance"
    description: str = ""
    twin: np.ndarray | None = field(default=None, repr=False)

    @property
    def twin_frames(self) -> np.ndarray:
        """Frames the shuffled-label twin trains on: spread over every class (the map sample may hold
        one phoneme only, whose labels a shuffle would not change)."""
        return self.sample if self.twin is None else self.twin

    def normalised(self, idx: np.ndarray) -> np.ndarray:
        x = self.X[np.asarray(idx)]
        return np.asarray(self.transform(x) if self.transform is not None else x, dtype=np.float32)


def _sanity_frames(sample: np.ndarray, clusters: np.ndarray, n: int) -> np.ndarray:
    ids = np.unique(clusters[sample])
    step = max(1, int(np.ceil(len(sample) / max(n, 1))))
    keep = ids[::step] if len(ids[::step]) >= 2 else ids[:2]
    return sample[np.isin(clusters[sample], keep)]


def _data(
    X,
    transform,
    clusters,
    y,
    target,
    candidates,
    target_frames,
    cfg,
    unit,
    description,
    twin: np.ndarray | None = None,
) -> TrustData:
    sample = spread_indices(candidates, cfg.n_frames)
    if len(np.unique(clusters[sample])) < 2:
        raise TrustError(
            N_("The sample set has fewer than two utterances; the comparison needs more.")
            if unit == "utterance"
            else N_("The sample set has fewer than two digits; the comparison needs more.")
        )
    ev = spread_indices(target_frames, cfg.n_eval_frames)
    if ev.size == 0:
        raise TrustError(N_("The target has no frames in the validation set."))
    return TrustData(
        X,
        transform,
        np.asarray(clusters),
        np.asarray(y),
        tuple(int(t) for t in target),
        sample,
        _sanity_frames(sample, np.asarray(clusters), cfg.n_sanity_frames),
        ev,
        unit,
        description,
        twin,
    )


def speech_data(
    info, frames, target: str, sample_set: str = "all", cfg: TrustConfig = DEFAULT_CONFIG
) -> TrustData:
    """A speech model's validation frames (``core.data.frames.CorpusFrames``): the map sample spread over
    every frame ("all") or the target's frames ("selected"); curves on the target's frames."""
    from core.train import frame_targets

    if sample_set not in ("all", "selected"):
        raise TrustError(f"Unknown sample set {sample_set!r}; use 'all' or 'selected'.")
    outs = info.outputs_of(target)
    own = np.flatnonzero(np.asarray(frames.labels) == info.label_index(target))
    cand = own if sample_set == "selected" else np.arange(len(frames.labels))
    desc = "frames of /{t}/" if sample_set == "selected" else "frames of every phoneme"
    return _data(
        frames.spliced(),
        info.normalizer.apply,
        np.asarray(frames.frame_utt),
        frame_targets(frames, info.targets),
        outs,
        cand,
        own,
        cfg,
        "utterance",
        desc.format(t=target),
        spread_indices(np.arange(len(frames.labels)), cfg.n_frames),
    )


def digits_data(
    x: np.ndarray, labels: np.ndarray, digit: int, cfg: TrustConfig = DEFAULT_CONFIG
) -> TrustData:
    """Held-out digits (normalised (N, 1, 28, 28), labels): maps over all digits, curves on those of
    ``digit``; every image is its own cluster."""
    if not 0 <= int(digit) <= 9:
        raise TrustError("The target digit must be 0 to 9.")
    labels = np.asarray(labels)
    own = np.flatnonzero(labels == int(digit))
    return _data(
        np.asarray(x),
        None,
        np.arange(len(labels)),
        labels,
        (int(digit),),
        np.arange(len(labels)),
        own,
        cfg,
        "digit",
        "held-out digits of every class",
    )


def compute_maps(
    model: nn.Module, data: TrustData, cfg: TrustConfig, output: str = "posterior", progress: Progress = None
) -> MethodMaps:
    """Every method's map over the sample."""
    return method_maps(
        model,
        data.X,
        data.clusters,
        data.target,
        indices=data.sample,
        cfg=cfg,
        output=output,
        transform=data.transform,
        progress=progress,
    )


def fill_values(data: TrustData) -> np.ndarray:
    """(D,) what a removed input takes: its mean over the sample's frames (normalised)."""
    return data.normalised(data.sample).reshape(len(data.sample), -1).mean(axis=0)


def compute_faithfulness(
    model: nn.Module, data: TrustData, maps: MethodMaps, cfg: TrustConfig, progress: Progress = None
) -> Faithfulness:
    """Deletion and insertion curves of every method on the target's frames."""
    return faithfulness(
        model,
        data.normalised(data.eval),
        data.clusters[data.eval],
        data.target,
        maps.maps(),
        maps.methods,
        fill=fill_values(data),
        fractions=cfg.fractions,
        progress=progress,
    )


def compute_sanity(
    model: nn.Module,
    data: TrustData,
    maps: MethodMaps,
    cfg: TrustConfig,
    output: str = "posterior",
    progress: Progress = None,
) -> Sanity:
    """Cascading randomisation and the shuffled-label twin, on the sanity frames."""
    keep = np.isin(maps.clusters, np.unique(data.clusters[data.sanity]))

    def compute(net: nn.Module, prog: Progress) -> MethodMaps:
        return method_maps(
            net,
            data.X,
            data.clusters,
            data.target,
            indices=data.sanity,
            cfg=cfg,
            output=output,
            transform=data.transform,
            methods=maps.methods,
            progress=prog,
        )

    return sanity(
        model,
        maps.subset(keep),
        compute,
        data.normalised(data.twin_frames),
        data.y[data.twin_frames],
        epochs=cfg.shuffled_epochs,
        seed=cfg.seed,
        progress=progress,
    )


def compute_stability(maps: MethodMaps, cfg: TrustConfig) -> tuple[CellIntervals, np.ndarray]:
    """Per-cell bootstrap intervals and the split-half correlation of every method."""
    return cell_intervals(maps, cfg.n_boot, cfg.seed), split_half(maps, cfg.n_splits, cfg.seed)


@dataclass(frozen=True, eq=False)
class TrustReport:
    """Everything the method page and ``compare-methods`` show."""

    maps: MethodMaps
    faith: Faithfulness
    sanity: Sanity
    cells: CellIntervals
    split: np.ndarray
    rows: list[MethodRow]
    verdict: Verdict


def report(
    maps: MethodMaps,
    faith: Faithfulness,
    san: Sanity,
    cells: CellIntervals,
    split: np.ndarray,
    cfg: TrustConfig,
) -> TrustReport:
    rows, v = summary(faith, san, split, n_boot=cfg.n_boot, seed=cfg.seed)
    return TrustReport(maps, faith, san, cells, split, rows, v)


def compare(
    model: nn.Module,
    data: TrustData,
    cfg: TrustConfig = DEFAULT_CONFIG,
    output: str = "posterior",
    progress: Callable[[str, float], None] | None = None,
) -> TrustReport:
    """All steps; ``progress(step, fraction)`` with step in maps, faithfulness, sanity."""

    def p(step: str) -> Progress:
        return None if progress is None else (lambda f: progress(step, f))

    maps = compute_maps(model, data, cfg, output, p("maps"))
    faith = compute_faithfulness(model, data, maps, cfg, p("faithfulness"))
    san = compute_sanity(model, data, maps, cfg, output, p("sanity"))
    cells, split = compute_stability(maps, cfg)
    return report(maps, faith, san, cells, split, cfg)

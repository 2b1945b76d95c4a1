"""The top cells of a phoneme's (or a pair's) importance map, as rows for the command line."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from torch import nn

from core.data.batching import Transform
from core.importance.distributed import gradient_stats_across_ranks
from core.importance.pairs import RANKS as _PAIR_RANKS
from core.importance.pairs import pair_score
from core.importance.stats import GradStats, ImportanceError, Output, Stat
from core.models import ModelError, phone_outputs


def resolve_target(name: str, label_names: Sequence[str]) -> tuple[int, ...]:
    """Output indices of a phoneme name (``core.models.phone_outputs``: the exact label, else every
    state label of that phoneme), ImportanceError for an unknown name."""
    try:
        return phone_outputs(label_names, name)
    except ModelError as exc:
        raise ImportanceError(str(exc)) from None


MAX_BINS = 1000
RANKS = tuple(_PAIR_RANKS)
"""Orders of a pair's cells, ("score", "product"): score = importance_a x importance_b x p_e, product =
importance_a x importance_b (the names of ``core.importance.pairs.RANKS``)."""


def table_targets(label_names: Sequence[str], target: str, pair: str | None = None) -> list[tuple[int, ...]]:
    """The output indices of ``target`` (and of ``pair``): the targets of a table's GradStats."""
    ta = resolve_target(target, label_names)
    tgs = [ta] if pair is None else [ta, resolve_target(pair, label_names)]
    if pair is not None and set(tgs[0]) & set(tgs[1]):
        raise ImportanceError(f"--target {target} and --pair {pair} share outputs; choose two different phonemes.")
    return tgs


def check_table_args(top: int, bins: int) -> None:
    """ImportanceError unless 1 <= top and 2 <= bins <= MAX_BINS (checked before any computation)."""
    if top < 1:
        raise ImportanceError(f"--top must be at least 1, not {top}.")
    if not 2 <= bins <= MAX_BINS:
        raise ImportanceError(f"--bins must be between 2 and {MAX_BINS}, not {bins}.")


def importance_table(model: nn.Module, features, label_names: Sequence[str], X, labels: np.ndarray, *,
                     target: str, pair: str | None = None, stat: Stat = "std",
                     output: Output = "posterior", top: int = 10, transform: Transform | None = None,
                     bins: int = 30, rank: str = "score", stats: GradStats | None = None) -> list[dict]:
    """Top cells of a phoneme's importance map (or of a pair's): a phoneme's largest importance
    first; a pair's in ``rank`` order (``RANKS``): "score" = importance x importance_b x p_e (large
    *and* different, METHOD.md section 4; the default, as the dashboard's pair page) or "product" =
    importance x importance_b (the drawn square's size). Ties keep input order.

    features: the model's ``FeatureConfig``; label_names: output names (true labels index them too).
    The statistic is over every frame given. Rows: offset_frames, offset_ms, channel, hz (None for
    MFCC), importance; for a pair also importance_b (of ``pair``), importance_pair (the product),
    p_e and score (= importance_pair x p_e). p_e follows the dashboard's rule: ``bins`` equal-width bins per input between
    the percentiles of *all* frames given (``core.importance.overlap.class_histograms``), so it equals
    ``class_histograms(X, labels, bins=bins).overlap(target, pair)``; only the two classes' frames
    are counted. Arguments are checked (``check_table_args``, two different phonemes) before any
    computation. The gradient statistics are shared among the ranks of a process group if there is
    one (``gradient_stats_across_ranks``; the same numbers as one process), or passed in as
    ``stats`` (the targets ``table_targets`` gives, e.g. from a sharded corpus; X and labels are then
    only read for a pair's p_e).
    """
    from core.features import input_meaning
    from core.importance.overlap import class_histograms, input_range

    check_table_args(top, bins)
    if rank not in RANKS:
        raise ImportanceError(f"--rank must be one of {', '.join(RANKS)}, not {rank!r}.")
    tgs = table_targets(label_names, target, pair)
    if pair is not None:  # bins from all frames (as the dashboard), counts of the two classes only
        labels = np.asarray(labels)
        two = np.where(np.isin(labels, tgs[0]), 0, np.where(np.isin(labels, tgs[1]), 1, -1))
        both = np.flatnonzero(two >= 0)
        hist = class_histograms(X, two, n_labels=2, bins=bins, transform=transform, indices=both,
                                value_range=input_range(X, transform=transform), names=[target, pair])
        _, p_e = hist.overlap(0, 1)  # before the gradients: a class without frames fails fast
    if stats is None:
        stats = gradient_stats_across_ranks(model, X, labels, tgs, output=output, n_labels=len(label_names),
                                            transform=transform)[0]
    st = stats.select(tgs).stat(stat)
    meaning = input_meaning(features)
    size, score = (st[0], None) if pair is None else pair_score(st[0], st[1], p_e)
    key = size if pair is None or rank == "product" else score
    rows = []
    for i in np.argsort(-key, kind="stable")[:top]:
        hz = float(meaning["hz"][i])
        row = {"offset_frames": int(meaning["offset_frames"][i]), "offset_ms": float(meaning["offset_ms"][i]),
               "channel": int(meaning["channel"][i]), "hz": None if np.isnan(hz) else round(hz, 1),
               "importance": float(st[0, i])}
        if pair is not None:
            row.update(importance_b=float(st[1, i]), importance_pair=float(size[i]), p_e=float(p_e[i]),
                       score=float(score[i]))
        rows.append(row)
    return rows


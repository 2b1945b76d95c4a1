"""Bootstrap resamples of the live cards' figures (pairs, Fig 4) over the validation utterances,
from per-utterance sufficient statistics computed once (``core.findings.uncertainty`` says why and
how the intervals are read).

- ``utterance_stats``: one gradient pass over every validation frame (the cards' sample set) for the
  card's two targets, summed per *utterance* instead of per true label (``gradient_stats`` with the
  utterance as the label): n, sum g, sum g^2 per utterance, target and input (float64).
- ``utterance_histograms``: the histograms of one phoneme's frames per utterance, on the card's bins
  (``ClassHistograms.lo`` / ``hi``, kept fixed: the bins are not re-chosen per resample).
- A resample is a vector of counts w (U,) (how often each utterance is drawn); its statistics are
  exact weighted sums: n = w . n_u, S1 = w . s1_u, S2 = w . s2_u, std = sqrt(max(S2/n - (S1/n)^2, 0))
  (``GradStats.stat``'s formula), histogram counts = w . counts_u, then eps, p_e (``overlap``'s
  formulas) and the score (``pair_score``). With w = 1 for every utterance this is the card's own
  figure; with any w it equals the direct computation on the frames of the drawn utterances, each
  repeated as often as drawn (tests/test_findings.py checks both).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.findings.claims import CENTRAL_FRAMES, MAP_CENTRAL_FRAMES, MAP_TOP, SETTINGS, TOP_CELLS
from core.findings.uncertainty import N_BOOT, SEED, draw_counts

CHUNK = 50
"""Resamples combined at a time (a chunk's histograms: CHUNK x inputs x bins float64)."""


def utterance_stats(net, info, frames, targets: Sequence[str], progress=None):
    """``GradStats`` of ``targets`` (phonemes or states) over every frame of ``frames`` (the model's
    validation set), one 'label' per utterance: sums (U, T, D)."""
    from core.importance import gradient_stats

    return gradient_stats(
        net,
        frames.spliced(),
        np.asarray(frames.frame_utt, np.int64),
        [info.outputs_of(t) for t in targets],
        output=SETTINGS["output"],
        n_labels=len(frames.utt_starts),
        transform=info.normalizer.apply,
        progress=progress,
    )


def utterance_histograms(info, frames, hist, phone: str) -> np.ndarray:
    """(U, D, bins) int64: the histograms of ``phone``'s frames per utterance on ``hist``'s bins."""
    from core.importance.overlap import class_histograms

    idx = np.flatnonzero(np.isin(frames.labels, np.atleast_1d(info.label_index(phone))))
    return class_histograms(
        frames.spliced(),
        np.asarray(frames.frame_utt, np.int64),
        n_labels=len(frames.utt_starts),
        bins=hist.bins,
        value_range=(hist.lo, hist.hi),
        transform=info.normalizer.apply,
        indices=idx,
    ).counts


def weighted_std(w: np.ndarray, stats, t: int) -> np.ndarray:
    """(B, D) std of target row ``t`` of per-utterance ``stats`` in the resamples ``w`` (B, U)."""
    w = np.asarray(w, np.float64)
    n = w @ stats.n.astype(np.float64)
    m1 = (w @ stats.sum_g[:, t]) / n[:, None]
    m2 = (w @ stats.sum_g2[:, t]) / n[:, None]
    return np.sqrt(np.maximum(m2 - m1 * m1, 0.0))


def weighted_p_e(w: np.ndarray, counts_a: np.ndarray, counts_b: np.ndarray) -> np.ndarray:
    """(B, D) p_e of the two classes' per-utterance histograms (U, D, bins) in the resamples w (B, U)."""
    from core.importance.overlap import overlap_probability

    out = []
    for counts in (counts_a, counts_b):
        used = np.flatnonzero(counts[:, 0, :].sum(1))  # utterances with frames of the class
        flat = counts[used].reshape(len(used), -1).astype(np.float32)  # small integers: exact in float32
        c = (np.asarray(w, np.float32)[:, used] @ flat).astype(np.float64).reshape(len(w), *counts.shape[1:])
        out.append(c / c[:, :1, :].sum(2, keepdims=True))
    eps = np.clip(np.minimum(out[0], out[1]).sum(2), 0.0, 1.0)
    return overlap_probability(eps)


def pair_resamples(stats, counts_a: np.ndarray, counts_b: np.ndarray, features, bands, n_boot: int = N_BOOT,
                   seed: int = SEED) -> tuple[dict, dict]:
    """({"in_band": (B,), "central": (B,)}, about): the pair card's figures in ``n_boot`` resamples of
    the utterances. stats: ``utterance_stats`` of (a, b); counts_a / counts_b: ``utterance_histograms``."""
    from core.features import input_meaning
    from core.findings.rules import in_bands
    from core.importance.pairs import pair_score

    m = input_meaning(features)
    hz, off = np.asarray(m["hz"], np.float64), np.asarray(m["offset_frames"])
    w_all = draw_counts(np.random.default_rng(seed), stats.n_labels, n_boot)
    band, central = [], []
    for i in range(0, n_boot, CHUNK):
        w = w_all[i : i + CHUNK]
        _, score = pair_score(weighted_std(w, stats, 0), weighted_std(w, stats, 1), weighted_p_e(w, counts_a, counts_b))
        top = np.argsort(-score, axis=1, kind="stable")[:, :TOP_CELLS]
        band.append(in_bands(hz[top], bands).mean(1))
        central.append((np.abs(off[top]) <= CENTRAL_FRAMES).mean(1))
    about = {"resampled": "utterances", "clusters": int(stats.n_labels), "seeds": 0, "n_boot": int(n_boot)}
    return {"in_band": np.concatenate(band), "central": np.concatenate(central)}, about


def map_resamples(stats, features, n_boot: int = N_BOOT, seed: int = SEED) -> tuple[dict, dict]:
    """({"central_share", "median_hz_s", "median_hz_sh", "profile_ratio": (B,)}, about): Fig 4's figures
    in ``n_boot`` resamples of the utterances (``profile_ratio``: the larger of the two curves' peak
    over median channel share, as ``rules.map_verdict``). stats: ``utterance_stats`` of (s_S2, sh_S2)."""
    from core.features import input_meaning

    m = input_meaning(features)
    hz, near = np.asarray(m["hz"], np.float64), np.abs(np.asarray(m["offset_frames"])) <= MAP_CENTRAL_FRAMES
    w_all = draw_counts(np.random.default_rng(seed), stats.n_labels, n_boot)
    out = {"central_share": [], "median_hz_s": [], "median_hz_sh": [], "profile_ratio": []}
    ch = np.unique(hz, return_inverse=True)[1]
    to_channel = np.zeros((len(hz), ch.max() + 1))
    to_channel[np.arange(len(hz)), ch] = 1.0
    for i in range(0, n_boot, CHUNK):
        w = w_all[i : i + CHUNK]
        imp_s, imp_sh = weighted_std(w, stats, 0), weighted_std(w, stats, 1)
        out["central_share"].append(imp_s[:, near].sum(1) / imp_s.sum(1))
        for name, imp in (("median_hz_s", imp_s), ("median_hz_sh", imp_sh)):
            out[name].append(np.median(hz[np.argsort(-imp, axis=1, kind="stable")[:, :MAP_TOP]], axis=1))
        profiles = [imp @ to_channel for imp in (imp_s, imp_sh)]  # (chunk, channels): shares up to a factor
        out["profile_ratio"].append(np.max([p.max(1) / np.median(p, axis=1) for p in profiles], axis=0))
    about = {"resampled": "utterances", "clusters": int(stats.n_labels), "seeds": 0, "n_boot": int(n_boot)}
    return {k: np.concatenate(v) for k, v in out.items()}, about

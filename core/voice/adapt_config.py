"""Settings, errors and report of adapting a speech model to a voice (``core.voice.adapt``, whose
docstring gives the choices): ``AdaptConfig``, ``AdaptError``, ``AdaptReport`` (figures, and the
sentences the Your voice page and the command line print)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from core.models.inference import WARPS  # noqa: F401 - part of this module's names
from core.phones import Segment
from core.text import N_, Translate, UserError, english

PARTS: tuple[str, ...] = ("input", "output", "lhuc", "biases", "first", "all")
PART_NAMES: dict[str, str] = {
    "input": N_("input map"),
    "output": N_("last layer"),
    "lhuc": N_("hidden-unit scales"),
    "biases": N_("biases"),
    "first": N_("first layer"),
    "all": N_("all weights"),
}
"""How the report names each part (translated by the caller's ``tr``)."""
Labels = np.ndarray | Sequence[Segment]
Recording = tuple[np.ndarray, Labels]


class AdaptError(UserError):
    """An adaptation request a user can get wrong (no recordings, labels that do not fit)."""


@dataclass(frozen=True)
class AdaptConfig:
    """Settings of ``adapt`` (see ``core.voice.adapt``'s docstring)."""

    parts: tuple[str, ...] = ("input", "lhuc")
    lr: float = 1e-3
    l2: float = 1e-3
    kl: float = 0.35
    max_epochs: int = 10
    folds: int = 5
    min_gain: float = 0.01
    check_level: float = 0.0
    batch_size: int = 256
    epochs_unchecked: int = 5
    seed: int = 0
    warps: tuple[float, ...] = WARPS


FEW_RECORDINGS = 2
"""With this many recordings or fewer nothing is adapted (unless ``folds`` is 0): holding one back
leaves one to fit, and a single recording is too little to check on; the report says so."""


def check_lower_bound(held_back: Sequence[tuple[int, int, int]], level: float, seed: int = 0) -> float:
    """A one-sided lower bound, at ``level``, of the check's gain: (sum of right after - right
    before) / sum of frames over the held-back recordings ``held_back`` ((frames, right before,
    right after) each), from 1,000 seeded bootstrap resamples of the recordings (scipy's, paired,
    percentile). NaN for fewer than two recordings."""
    from scipy.stats import bootstrap

    if len(held_back) < 2:
        return float("nan")
    n, before, after = (np.array(c, dtype=np.float64) for c in zip(*held_back, strict=True))
    res = bootstrap((after - before, n), lambda g, m, axis=-1: g.sum(axis) / m.sum(axis), paired=True,
                    vectorized=True, n_resamples=1000, confidence_level=level, alternative="greater",
                    method="percentile", rng=np.random.default_rng(seed))
    return float(res.confidence_interval.low)


@dataclass(frozen=True)
class AdaptReport:
    """What adaptation did: recordings and frames used, accuracies before / after (NaN where there
    were no check recordings), epochs run, the kept epoch (0 = the model unchanged), seconds;
    ``held_back``: per recording of the check, (speech frames, right before, right after at the
    check's best epoch: before a revert, so not the kept epoch 0 then); ``check_low``: the bound of
    ``check_lower_bound`` when ``AdaptConfig.check_level`` asked for it (else NaN)."""

    parts: tuple[str, ...]
    n_parameters: int
    fit_recordings: int
    fit_frames: int
    check_recordings: int
    check_frames: int
    fit_before: float
    fit_after: float
    check_before: float
    check_after: float
    epochs_run: int
    best_epoch: int
    seconds: float
    warp: float = 1.0
    reverted: bool = False
    refit: bool = False
    folds: int = 0
    held_back: tuple[tuple[int, int, int], ...] = ()
    check_low: float = float("nan")

    def to_dict(self) -> dict:
        """JSON-ready: floats rounded to 6 digits, NaN as None, parts as a list."""
        out: dict = {}
        for k, v in dataclasses.asdict(self).items():
            if isinstance(v, float):
                v = round(v, 6) if np.isfinite(v) else None
            out[k] = list(v) if isinstance(v, tuple) else v
        return out

    @property
    def bound_reverted(self) -> bool:
        """The held-back gain reached ``min_gain`` but its lower bound (``check_low``) did not reach 0."""
        n = sum(c[0] for c in self.held_back)
        gain = sum(c[2] - c[1] for c in self.held_back) / n if n else float("nan")
        return self.reverted and not np.isnan(self.check_low) and gain > 0 and not self.check_low >= 0

    @property
    def unchanged(self) -> bool:
        """Nothing was adapted: the copy computes what the model as it was computes."""
        return self.best_epoch == 0 and self.warp == 1.0

    def verdict(self, tr: Translate = english) -> str | None:
        """A plain sentence when adapting kept (almost) nothing, or could not be checked, else None."""
        n = self.fit_recordings
        if self.folds == 0 and self.best_epoch == 0 and n <= FEW_RECORDINGS:
            return tr("With {n} recording(s) nothing can be checked, so the copy is the model as it was: a check "
                      "needs recordings the copy was not fitted on, and on real voices adapting to one or two "
                      "recordings made the speaker's other words worse (docs/MODELS.md). Add recordings: with "
                      "three or more, each is held back in turn to check the others' fit.").format(n=n)
        if self.folds == 0 and self.best_epoch > 0:
            return tr("Nothing was held back to check this copy: it is fitted to these {n} recording(s), and "
                      "nothing shows whether it hears your other words better or worse.").format(n=n)
        if self.best_epoch > 0:
            return None
        if self.bound_reverted:
            return tr("Adapting helped the recordings held back to check it on the whole, but not surely enough: "
                      "some of them got worse, so the copy is the model as it was.")
        if self.warp == 1.0:
            return tr("Adapting did not help the recordings held back to check it, so the copy is the model as it "
                      "was. Add more recordings of this voice, or check that their transcripts match.")
        return tr("Only the frequency warp ×{w:g} was kept: every epoch of training made the recordings held back "
                  "to check it worse.").format(w=self.warp)

    def line(self, tr: Translate = english) -> str:
        """One line of figures (``tr``: the interface language, default English)."""
        check = (
            tr("each recording held back once ({k} folds): speech frames right on recordings not fitted on "
               "{b:.3f} → {a:.3f} ({f} frames)").format(
                k=self.folds, f=self.check_frames, b=self.check_before, a=self.check_after)
            if self.folds
            else tr("no check recordings")
        )
        return tr(
            "adapted {parts} ({n:,} numbers); recordings: {r} ({f} frames), speech frames right on them "
            "{b:.3f} → {a:.3f}; {check}; warp {w:g} (chosen with the labels), {e} epoch(s) kept of {t}, "
            "{s:.1f} s"
        ).format(
            parts=" + ".join(tr(PART_NAMES.get(p, p)) for p in self.parts),
            n=self.n_parameters,
            r=self.fit_recordings,
            f=self.fit_frames,
            b=self.fit_before,
            a=self.fit_after,
            check=check,
            w=self.warp,
            e=self.best_epoch,
            t=self.epochs_run,
            s=self.seconds,
        ) + ("; " + (tr("the model as it was kept: the lower bound of the held-back gain is below 0")
                     if self.bound_reverted else
                     tr("the model as it was kept: no epoch got enough more held-back frames right"))
             if self.reverted and self.folds else "")

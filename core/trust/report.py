"""The summary of the comparison: one row per method (areas with bootstrap intervals, sanity
correlations, split-half stability) and the method the evidence favours, with its margin.
The rule is written down in ``core.trust``'s docstring."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from core.text import N_, Translate, english
from core.trust.faithfulness import CURVES, MEASURES, Faithfulness
from core.trust.maps import METHOD_NAMES, TrustError
from core.trust.sanity import SANITY_THRESHOLD, Sanity
from core.trust.stability import PERCENTILES, cluster_weights

_POST = list(MEASURES).index("posterior")
_REC = list(MEASURES).index("recall")
_DEL, _INS = CURVES.index("deletion"), CURVES.index("insertion")


@dataclass(frozen=True)
class MethodRow:
    """One method's figures (intervals: 95 % bootstrap percentiles over clusters)."""

    method: str
    name: str
    deletion_auc: float
    deletion_ci: tuple[float, float]
    insertion_auc: float
    insertion_ci: tuple[float, float]
    score: float
    score_ci: tuple[float, float]
    deletion_recall_auc: float
    insertion_recall_auc: float
    sanity_cascade: float
    sanity_shuffled: float
    flagged: bool
    split_half: float

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Verdict:
    """The favoured method (best score among the methods not flagged), the runner-up, the margin
    (score difference) with its paired bootstrap interval, and the sentence that says it."""

    best: str
    runner_up: str | None
    margin: float
    margin_ci: tuple[float, float]
    text: str
    pieces: tuple = field(default=(), compare=False)
    """``text`` as catalogue messages and their fields, ``((message, ((field, value), ...)), ...)``:
    fields ``name*`` (a method's name), ``names`` (a tuple of them) and ``sure`` are messages too."""

    def say(self, tr: Translate = english) -> str:
        """``text`` in the interface language (``text`` itself in English)."""
        if not self.pieces:
            return tr(self.text)
        out = []
        for msg, args in self.pieces:
            filled = {
                k: ", ".join(tr(n) for n in v)
                if k == "names"
                else tr(v)
                if k.startswith("name") or k == "sure"
                else v
                for k, v in args
            }
            out.append(tr(msg).format(**filled))
        return " ".join(out)  # sentences

    def to_dict(self) -> dict:
        return {
            "best": self.best,
            "runner_up": self.runner_up,
            "margin": self.margin,
            "margin_ci": list(self.margin_ci),
            "text": self.text,
        }


def _ci(b: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(b, list(PERCENTILES))
    return float(lo), float(hi)


def summary(
    faith: Faithfulness, sanity: Sanity, split: np.ndarray, *, n_boot: int = 200, seed: int = 0
) -> tuple[list[MethodRow], Verdict]:
    """Rows in the methods' order and the verdict. score = insertion AUC - deletion AUC of the
    target's mean posterior (higher = the map's top inputs carry the decision)."""
    if faith.methods != sanity.methods:
        raise TrustError("Faithfulness and sanity must cover the same methods.")
    w = cluster_weights(len(faith.n), n_boot, seed)
    auc, boot = faith.auc(), faith.auc(w)  # (2, M, 2), (B, 2, M, 2)
    score = auc[_POST, :, _INS] - auc[_POST, :, _DEL]
    score_b = boot[:, _POST, :, _INS] - boot[:, _POST, :, _DEL]
    rows = []
    for j, m in enumerate(faith.methods):
        rows.append(
            MethodRow(
                m,
                METHOD_NAMES[m],
                float(auc[_POST, j, _DEL]),
                _ci(boot[:, _POST, j, _DEL]),
                float(auc[_POST, j, _INS]),
                _ci(boot[:, _POST, j, _INS]),
                float(score[j]),
                _ci(score_b[:, j]),
                float(auc[_REC, j, _DEL]),
                float(auc[_REC, j, _INS]),
                float(sanity.rho_all_random[j]),
                float(sanity.rho_shuffled[j]),
                bool(sanity.flagged[j]),
                float(split[j]),
            )
        )
    return rows, verdict(rows, score_b)


def verdict(rows: list[MethodRow], score_boot: np.ndarray) -> Verdict:
    """The best score among methods not flagged by the sanity checks (all methods if every one is
    flagged); margin over the next one, with the 95 % interval of the paired difference."""
    ok = [j for j, r in enumerate(rows) if not r.flagged] or list(range(len(rows)))
    order = sorted(ok, key=lambda j: -rows[j].score)
    best = rows[order[0]]
    flagged = [r.name for r in rows if r.flagged]
    tail = (
        (
            (
                N_(
                    "Flagged by the sanity checks (map rank correlation >= {th} with a randomised or "
                    "shuffled-label network), so not ranked: {names}."
                ),
                (("th", SANITY_THRESHOLD), ("names", tuple(flagged))),
            ),
        )
        if flagged
        else ()
    )
    if len(order) == 1:
        pieces = (
            (
                N_(
                    "The evidence favours {name}: insertion AUC {ins:.3f}, deletion AUC {dele:.3f}; it is the "
                    "only method that passes the sanity checks."
                ),
                (("name", best.name), ("ins", best.insertion_auc), ("dele", best.deletion_auc)),
            ),
            *tail,
        )
        return Verdict(best.method, None, 0.0, (0.0, 0.0), _english(pieces), pieces)
    nxt = rows[order[1]]
    diff = score_boot[:, order[0]] - score_boot[:, order[1]]
    margin, ci = best.score - nxt.score, _ci(diff)
    sure = (
        N_("the interval excludes 0")
        if ci[0] > 0
        else N_("the interval includes 0, so the two are not distinguishable on these frames")
    )
    pieces = (
        (
            N_(
                "The evidence favours {name}: insertion - deletion AUC of the target's mean posterior "
                "{score:.3f} (insertion {ins:.3f}, deletion {dele:.3f}), ahead of {name_next} by {margin:.3f} "
                "(95 % interval {lo:.3f} to {hi:.3f}; {sure})."
            ),
            (
                ("name", best.name),
                ("score", best.score),
                ("ins", best.insertion_auc),
                ("dele", best.deletion_auc),
                ("name_next", nxt.name),
                ("margin", margin),
                ("lo", ci[0]),
                ("hi", ci[1]),
                ("sure", sure),
            ),
        ),
        *tail,
    )
    return Verdict(best.method, nxt.method, float(margin), ci, _english(pieces), pieces)


def _english(pieces) -> str:
    return Verdict("", None, 0.0, (0.0, 0.0), "", pieces).say()

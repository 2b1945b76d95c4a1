"""Computing the cards without Streamlit (the CLI, ``--write`` and the tests), with the same core
calls as ``app_state``: ``gradient_stats`` one target at a time over the model's validation set,
``class_histograms`` with the dashboard's bins, ``pruning_curve`` with the pages' arguments."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from core.findings.claims import CLAIMS, CURVE_ORDERS, SETTINGS, Claim, FindingsError
from core.findings.rules import Finding, curve_finding, map_finding, pair_finding
from core.findings.shipped import model_checksum
from core.models import MODELS_DIR
from core.text import N_


class _Speech:
    """A speech model with its validation set, and its importance / histograms computed as
    app_state does (one target per gradient_stats call, every frame, per-label sums)."""

    def __init__(self, root: Path, name: str):
        from core.models import load_model
        from core.train import load_validation

        self.net, self.info = load_model(root / name)
        self.frames = load_validation(self.info)
        self.view = self.frames.spliced()
        self._hist = None

    def histograms(self):
        from core.importance.overlap import class_histograms

        if self._hist is None:
            self._hist = class_histograms(
                self.view,
                self.frames.labels,
                n_labels=len(self.info.phones),
                bins=SETTINGS["bins"],
                transform=self.info.normalizer.apply,
                names=list(self.info.phones),
            )
        return self._hist

    def importance(self, target: str) -> np.ndarray:
        from core.importance import gradient_stats

        st = gradient_stats(
            self.net,
            self.view,
            self.frames.labels,
            [self.info.outputs_of(target)],
            output=SETTINGS["output"],
            n_labels=len(self.info.phones),
            transform=self.info.normalizer.apply,
        )
        return st.stat(SETTINGS["stat"], None)[0]

    def pair_table(self, a: str, b: str):
        from core.importance.pairs import pair_table

        eps, p_e = self.histograms().overlap(self.info.label_index(a), self.info.label_index(b))
        return pair_table(self.info.features, self.importance(a), self.importance(b), p_e, eps)

    def pair_resamples(self, claim: Claim):
        """The pair card's figures in the bootstrap resamples of the utterances."""
        from core.findings import bootstrap as B

        a, b = claim.pair
        counts = [B.utterance_histograms(self.info, self.frames, self.histograms(), p) for p in (a, b)]
        stats = B.utterance_stats(self.net, self.info, self.frames, (a, b))
        return B.pair_resamples(stats, *counts, self.info.features, claim.bands)

    def map_resamples(self):
        """Fig 4's figures in the bootstrap resamples of the utterances."""
        from core.findings import bootstrap as B

        stats = B.utterance_stats(self.net, self.info, self.frames, ("s_S2", "sh_S2"))
        return B.map_resamples(stats, self.info.features)


@functools.lru_cache(maxsize=2)
def _with_importance(root: Path, name: str):
    """(model, info, Imp of every layer) as the pages compute them, once per model for one run."""
    from core import pruning
    from core.models import load_model

    net, info = load_model(root / name)
    return (
        net,
        info,
        pruning.unit_importance_by_layer(net, info, stat=SETTINGS["stat"], output=SETTINGS["output"]),
    )


def prune_curve(root: Path, claim: Claim, layer: int | None = None):
    """The card's curve with the page's arguments (``app_state.prune_curve``); ``layer``: one hidden
    layer instead of all (Fig 9's per-layer figures)."""
    from core import pruning

    net, info, imp = _with_importance(Path(root), claim.models[0])
    filters = claim.units == "filters"
    return pruning.pruning_curve(
        net,
        info,
        claim.units,
        layer=2 if filters else layer,
        orders=CURVE_ORDERS,
        retrain=True,
        importance=imp,
        points=None if filters else 30,
    )


def hidden_layers(root: Path, claim: Claim) -> range:
    """The hidden layers of the card's speech model (1..n_hidden)."""
    from core.models import read_model_info

    return range(1, int(read_model_info(root / claim.models[0]).arch["n_hidden"]) + 1)


def compute(
    keys: Sequence[str] | None = None,
    root: str | Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Finding]:
    """The findings of ``keys`` (default: every claim) on the models in ``root`` (default
    assets/models), computed now. ``progress`` gets the key of each card before its computation."""
    root = Path(root or MODELS_DIR)
    keys = list(CLAIMS) if keys is None else list(keys)
    unknown = [k for k in keys if k not in CLAIMS]
    if unknown:
        raise FindingsError(f"Unknown card {unknown[0]!r}; the cards are {', '.join(CLAIMS)}.")
    for k in keys:
        for name in CLAIMS[k].models:
            if model_checksum(root, name) is None:
                raise FindingsError(
                    N_("The card {card} needs the model {model}, which is not in {root}; run `make assets`."),
                    card=k,
                    model=name,
                    root=root,
                )
    speech: dict[str, _Speech] = {}
    out = {}
    for k in keys:
        c = CLAIMS[k]
        if progress:
            progress(k)
        if c.pair:
            sp = speech.setdefault(c.models[0], _Speech(root, c.models[0]))
            out[k] = pair_finding(c, sp.pair_table(*c.pair), sp.pair_resamples(c))
        elif c.units:
            per_layer = (
                {la: prune_curve(root, c, la) for la in hidden_layers(root, c)}
                if c.units == "hidden"
                else None
            )
            out[k] = curve_finding(c, prune_curve(root, c), per_layer)
        else:
            sp = speech.setdefault(c.models[0], _Speech(root, c.models[0]))
            out[k] = map_finding(c, sp.info.features, sp.importance("s_S2"), sp.importance("sh_S2"),
                                 sp.map_resamples())
    return out

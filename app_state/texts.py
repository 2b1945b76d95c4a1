"""Sentences of the pages that state a figure: every number in them comes from the models'
metadata or from core (issue 26: no page types a figure that a model or the code can change)."""

from __future__ import annotations

from core.features import FeatureConfig
from i18n import tr


def front_text(cfg: FeatureConfig) -> str:
    """One front end as the Home page names it: '40 mel frequency bands (MFBANK; 1,400 numbers)'."""
    if cfg.kind == "mfbank":
        return tr("{c} mel frequency bands (MFBANK; {d:,} numbers)").format(c=cfg.n_channels, d=cfg.input_dim)
    return tr("{c} cepstral coefficients (MFCC; {d:,} numbers)").format(c=cfg.n_channels, d=cfg.input_dim)


def network_input_text(main: FeatureConfig, others: list[FeatureConfig]) -> str:
    """Home's opening sentences: how often the network decides, how many frames it sees, how far
    back and ahead, and how many numbers a frame holds, for ``main`` (the default model's front
    end) and every other front end of the installed models with the same framing."""
    fronts = [main] + [o for o in others if (o.kind, o.n_channels) != (main.kind, main.n_channels)
                       and (o.context, o.winstep) == (main.context, main.winstep)]
    seen, parts = set(), []
    for f in fronts:
        if (f.kind, f.n_channels) not in seen:
            seen.add((f.kind, f.n_channels))
            parts.append(front_text(f))
    return tr(
        "A speech network decides, every {step:g} ms, which phoneme is being spoken. It sees {n} frames: "
        "{ctx:g} ms before and after the frame, each {fronts}. Which of these numbers does its answer depend on?"
    ).format(step=main.winstep * 1000, n=main.n_context_frames, ctx=round(main.context * main.winstep * 1000, 3),
             fronts=tr(" or ").join(parts))

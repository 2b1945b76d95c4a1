"""The choice of aligner: ``align`` runs pocketsphinx or the network aligner on a recording (the
network's posteriors computed by ``core.models.inference`` when not given)."""

from __future__ import annotations

from typing import Literal

import numpy as np

from core.audio import SAMPLE_RATE
from core.models.inference import AlignError, phone_posteriors
from core.phones import ENGLISH, PHONES
from core.text import N_
from core.voice.align.pocketsphinx import align_pocketsphinx
from core.voice.align.segments import MIN_FRAMES, Alignment
from core.voice.align.viterbi import align_network

Aligner = Literal["pocketsphinx", "network"]
ALIGNERS: tuple[str, ...] = ("pocketsphinx", "network")
DEFAULT_ALIGNER: Aligner = "pocketsphinx"


def align(
    signal: np.ndarray,
    text: str,
    aligner: str = DEFAULT_ALIGNER,
    *,
    net=None,
    info=None,
    posteriors: np.ndarray | None = None,
    min_frames: int = MIN_FRAMES,
) -> Alignment:
    """Align ``text`` in a 16 kHz signal with ``aligner`` ("pocketsphinx" or "network").

    The network aligner needs the model (``net``, ``info``) or its ``posteriors`` for this signal.
    """
    duration = len(signal) / SAMPLE_RATE
    phone_set = ENGLISH if info is None else info.phone_set
    if aligner == "pocketsphinx" and phone_set is not ENGLISH:
        raise AlignError(
            N_("pocketsphinx has no {language} acoustic model; use the network aligner for {model}."),
            language=phone_set.language,
            model=info.name,
        )
    if aligner == "pocketsphinx":
        return align_pocketsphinx(signal, text, duration=duration)
    if aligner != "network":
        raise AlignError(f"Unknown aligner {aligner!r}; use one of {', '.join(ALIGNERS)}.")
    names = PHONES if info is None else info.phones
    if posteriors is None:
        if net is None or info is None:
            raise AlignError("The network aligner needs a model.")
        posteriors = phone_posteriors(net, info, signal)
    return align_network(posteriors, text, duration, names, min_frames=min_frames, phone_set=phone_set)

"""Running a speech model on a recording: its features under a VTLN warp, the model's spliced and
normalised inputs, and its phone posteriors. What the aligners (``core.voice.align``), VTLN
(``core.voice.vtln``), adaptation (``core.voice.adapt``) and the pages call to run a model on audio.

- ``warped_features``: the features the model was trained on (``info.features``) of a 16 kHz
  signal, computed with the filterbank of a VTLN warp ``alpha`` (1 = none);
- ``network_inputs``: those features spliced (``info.features.context`` frames either side) and
  normalised (``info.preprocess``), the model's inputs;
- ``phone_posteriors``: the model's posteriors over them, a state model's three outputs per phone
  summed to one phone posterior.

Warp convention (``filterbank_warp``; ``core.voice.vtln`` explains VTLN): a warp ``alpha`` means
that every channel of the filterbank reads the recording's energy at ``alpha`` times its centre
frequency; the features' own warped filterbank does it with the VTLP factor ``1/alpha``.
"""

from __future__ import annotations

import numpy as np

from core.text import UserError


class AlignError(UserError):
    """A transcript or recording that cannot be aligned; the message is one sentence for the user.

    Defined here because running a model on a recording it cannot read (too short for one frame)
    raises it too (``phone_posteriors``); ``core.voice.align`` re-exports it."""


WARPS: tuple[float, ...] = (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1, 1.15, 1.2, 1.25)
"""The VTLN warps a recording is heard under (``core.voice.vtln``'s choice, ``core.voice.adapt``'s
search); defined once here, where a warp is applied."""


def filterbank_warp(alpha: float) -> float:
    """``core.features.extract``'s VTLP factor for a VTLN warp ``alpha`` (its inverse)."""
    return 1.0 / float(alpha)


def phone_posteriors(net, info, signal: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """(n_frames, len(info.phones)) float32 phone posteriors of a speech model for a 16 kHz signal.

    Features as the model was trained (``info.features``), spliced, normalised; a state model's
    three outputs per phone are summed. ``warp``: a VTLN warp (``core.voice.vtln``; 1 = none).
    """
    from core.activations import predict_proba
    from core.features import FeatureError, splice

    try:
        feats = warped_features(info, signal, warp)
    except FeatureError as exc:
        raise AlignError.wrap(exc) from None
    x = info.preprocess(splice(feats, info.features.context))
    return info.phone_probs(predict_proba(net, x)).astype(np.float32, copy=False)


def warped_features(info, signal: np.ndarray, warp: float) -> np.ndarray:
    """(n_frames, C) features of the model (``info.features``) for a 16 kHz signal under the VTLN
    warp ``warp`` (1 = none)."""
    from core.features import extract

    return extract(np.asarray(signal, dtype=np.float32), info.features, warp=filterbank_warp(warp))


def network_inputs(info, signal: np.ndarray, warp: float = 1.0) -> np.ndarray:
    """(n_frames, 35*C) float32 normalised spliced inputs of the model for a 16 kHz signal
    (``warp``: a VTLN warp, ``core.voice.vtln``; 1 = none)."""
    from core.features import splice

    return info.preprocess(splice(warped_features(info, signal, warp), info.features.context))

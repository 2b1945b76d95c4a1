"""What a model is: ``ModelInfo`` (the checked metadata), where models live, and which outputs
belong to a phoneme (``phone_outputs``, the one place that knows how states are named)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np

from core.features import FeatureConfig, Normalizer
from core.models.networks import ModelError
from core.phones import PhoneSet, get_phone_set

ASSETS_DIR: Path = Path(__file__).resolve().parents[2] / "assets"
"""The project's ``assets/`` folder, found from this file's location (never the working directory)."""
MODELS_DIR: Path = ASSETS_DIR / "models"
VALIDATION_DIR: Path = ASSETS_DIR / "validation"

WEIGHTS_FILE = "model.safetensors"
META_FILE = "model.json"
FORMAT = "dnnlens-model"
FORMAT_VERSION = 1

ModelKind = Literal["speech", "digits"]
_KIND_OF_TYPE = {"SpeechDNN": "speech", "DigitCNN": "digits", "PrunedSpeechDNN": "speech"}
_TARGETS = {"speech": ("phone", "state"), "digits": ("digit",)}
STATE_SUFFIXES = ("_S1", "_S2", "_S3")
"""State targets: class ``3*p + s`` is phone ``p``, third ``s`` of its segment, named ``f"{phone}_S{s+1}"``."""


STATES = 3
"""Outputs per phone of a state model: output ``3*p + s`` is phone ``p``'s state ``s`` (0, 1, 2)."""


def state_target(phone, state, targets: str):
    """The output index of (phone index, state 0-2) for ``targets`` ("state": ``3*phone + state``;
    "phone": the phone). numpy arrays, torch tensors or ints; the one place that numbers states."""
    return STATES * phone + state if targets == "state" else phone


def phone_of_output(output, targets: str):
    """The phone index of an output index (the inverse of ``state_target``, dropping the state);
    numpy arrays, torch tensors (non-negative) or ints."""
    return output // STATES if targets == "state" else output


def sum_states(post, targets: str):
    """(N, n_phones) per-phone probabilities from (N, n_outputs) posteriors: a state model's three
    state outputs of each phone summed (``3*p + s``), a phone model's returned as they are. Works on
    numpy arrays and torch tensors alike; the one place that sums a phone's states."""
    return post.reshape(post.shape[0], -1, STATES).sum(2) if targets == "state" else post


def phone_outputs(labels: Sequence[str], phone: str) -> tuple[int, ...]:
    """Output indices of ``phone`` among a model's output ``labels``: the label itself if it is one
    (a phone of a phone model, a digit, or one state such as ``"s_S2"``), else the phone's three
    state outputs ``phone + "_S1" | "_S2" | "_S3"``. The one place that knows how states are named;
    ModelError for a name the labels do not have."""
    names = list(labels)
    if phone in names:
        return (names.index(phone),)
    hits = tuple(names.index(phone + suf) for suf in STATE_SUFFIXES if phone + suf in names)
    if not hits:
        known = dict.fromkeys(lab[: -len(STATE_SUFFIXES[0])] if lab.endswith(STATE_SUFFIXES) else lab for lab in names)
        raise ModelError(f"Unknown phoneme {phone!r}; the model knows {', '.join(known)}.")
    return hits


@dataclass(frozen=True)
class ModelInfo:
    """What ``model.json`` says about a model, checked against its architecture.

    ``name``: the model directory's name. ``kind``: "speech" | "digits". ``arch``: the
    constructor arguments (``model.arch()``). ``features``: the front end (speech) or None.
    ``labels``: class names in output order. ``targets``: "phone" | "state" (speech) or "digit".
    ``normalizer``: speech: per-channel mean/std of raw, unspliced features (C values), applied to
    every time offset; digits: one mean/std for pixels scaled to [0, 1]. ``validation``: path of the
    validation npz as written in the metadata (see ``validation_path``). ``path``: the directory.

    Hashable (the dict fields are left out of the hash), so usable as a cache key.
    """

    name: str
    kind: str
    arch: dict = field(hash=False)
    features: FeatureConfig | None
    labels: tuple[str, ...]
    targets: str
    normalizer: Normalizer | None
    metrics: dict = field(hash=False)
    data: dict = field(hash=False)
    validation: str | None
    path: Path
    description: str = ""
    training: dict = field(default_factory=dict, hash=False)
    software: dict = field(default_factory=dict, hash=False)
    phone_set_name: str = "en"

    @property
    def phone_set(self) -> PhoneSet:
        """The ``core.phones`` phone set of a speech model (``model.json`` ``phone_set``; English
        when absent)."""
        return get_phone_set(self.phone_set_name or "en")

    @property
    def language(self) -> str:
        """The language of a speech model's phone set, e.g. "English", "Japanese"."""
        return self.phone_set.language

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def phones(self) -> tuple[str, ...]:
        """Phone names: the labels for phone targets, the labels without "_S1".."_S3" for states."""
        if self.targets == "state":
            return tuple(lab[: -len(STATE_SUFFIXES[0])] for lab in self.labels[::3])
        return self.labels

    @property
    def phones_in_set(self) -> tuple[str, ...]:
        """The phones the model outputs, each once (also for a 3-state model), in its phone set's order."""
        have = set(self.phones)
        return tuple(p for p in self.phone_set.phones if p in have)

    def phone_probs(self, post):
        """``sum_states`` of posteriors of this model's outputs: one column per phone."""
        return sum_states(post, self.targets)

    def outputs_of(self, phone: str) -> tuple[int, ...]:
        """Output indices of a phoneme: one for phone (or digit) targets, its three states for state
        targets; a state label such as ``"s_S2"`` gives that one output (``phone_outputs``)."""
        return phone_outputs(self.labels, phone)

    def label_index(self, phone: str) -> int:
        """The true-label index of a phoneme's frames (``CorpusFrames.labels``, ``frame_targets`` of
        a phone model): its index in ``phones``, the model's phone set (``phone_set.phones`` for
        every model trained here). A state label gives its phone's index."""
        if phone in self.phones:
            return self.phones.index(phone)
        outs = self.outputs_of(phone)  # a state label, or ModelError
        return phone_of_output(outs[0], self.targets)

    @property
    def validation_path(self) -> Path | None:
        """The validation npz: ``validation`` taken relative to the model directory if such a file
        exists there, else relative to ``ASSETS_DIR`` (absolute paths are used as they are)."""
        if not self.validation:
            return None
        p = Path(self.validation)
        if p.is_absolute():
            return p
        local = self.path / p
        return local if local.exists() else ASSETS_DIR / p

    def preprocess(self, x: np.ndarray) -> np.ndarray:
        """Raw inputs -> what the network takes, float32.

        speech: spliced raw features (n, 35*C) (or unspliced (n, C)) -> normalised, same shape.
        digits: pixels 0..255, (n, 784) or (n, 28, 28) -> (n, 1, 28, 28) ``(x/255 - mean) / std``.
        """
        x = np.asarray(x, dtype=np.float32)
        if self.kind == "digits":
            x = x.reshape(len(x), 1, 28, 28) / np.float32(255.0)
        return x if self.normalizer is None else self.normalizer.apply(x)

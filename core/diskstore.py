"""Values computed once and kept on disk, for every server process on the machine.

What is the same for every session and slow to compute (gradient statistics per phoneme, class
histograms, a model's evaluation, unit importances, deletion curves) is written here after it is
first computed, so that

- a restarted server starts warm (its warm-up reads instead of computing);
- several server processes behind a proxy (``make serve REPLICAS=n``, docs/DEPLOY.md) compute a
  value once between them: a process that finds another computing the same value waits for its
  file (an exclusive ``fcntl.flock`` on a lock file per value) and reads it.

**Keys.** A value's file name is the SHA-256 of its key, which the caller builds from what the
value depends on: ``fingerprint`` of the model's files (weights, metadata, validation frames) and
of the code that computes (every ``core`` source file, and for the dashboard every ``app_state``
one: a changed line anywhere starts a new set of files rather than risk a stale one), plus the
value's own arguments. Nothing a user types reaches
a path: names are hashes, in the one folder.

**Format.** No pickle: a value is one ``.npz`` holding its arrays and a JSON description of the
objects around them (tuples, dicts, numbers, strings and the dataclasses listed in ``TYPES``), read
with ``allow_pickle=False``. A file that does not read back (truncated, another format, a class not
in ``TYPES``) is ignored and computed again.

**Where.** ``$DNNLENS_CACHE`` if set, else ``$XDG_CACHE_HOME/dnnlens`` (``~/.cache/dnnlens``).
Writes are atomic (a temporary file renamed into place). Nothing is ever deleted here: the folder
holds a few hundred MB per model and code version (docs/DEPLOY.md says how to clear it).
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import functools
import hashlib
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

CORE = Path(__file__).resolve().parent
FORMAT = 1


def default_root() -> Path:
    """``$DNNLENS_CACHE``, else ``$XDG_CACHE_HOME/dnnlens`` (``~/.cache/dnnlens``)."""
    if os.environ.get("DNNLENS_CACHE"):
        return Path(os.environ["DNNLENS_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dnnlens"


CODE_FILES = ("*.py", "*.tsv")
"""What ``code_version`` reads: the sources, and the tables they read (the phone sets)."""


@functools.lru_cache(maxsize=8)
def code_version(*folders: Path) -> str:
    """SHA-256 of every Python source file and table (``*.tsv``: the phone sets) under ``core/`` and
    the other ``folders`` (names and contents, in order): the dashboard adds ``app_state/``, where some
    arguments of the stored computations are chosen (e.g. the points of a deletion curve)."""
    h = hashlib.sha256()
    for root in (CORE, *folders):
        for p in sorted(q for pattern in CODE_FILES for q in Path(root).rglob(pattern)):
            h.update(str(p.relative_to(root)).encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:16]


def fingerprint(paths: Iterable[str | Path]) -> str:
    """SHA-256 of these files' contents (a model's weights, metadata and validation frames)."""
    h = hashlib.sha256()
    for p in paths:
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:16]


def _types() -> dict[str, type]:
    from core.importance.overlap import ClassHistograms
    from core.importance.stats import GradStats
    from core.pruning.curves import PruneCurve
    from core.train.evaluate import EvalResult

    return {c.__name__: c for c in (GradStats, ClassHistograms, PruneCurve, EvalResult)}


def _encode(obj, arrays: list[np.ndarray]):
    if isinstance(obj, np.ndarray):
        arrays.append(obj)
        return {"nd": len(arrays) - 1}
    if isinstance(obj, np.generic):
        return obj.item()
    if obj is None or isinstance(obj, bool | int | float | str):
        return obj
    if isinstance(obj, tuple):
        return {"tuple": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, list):
        return {"list": [_encode(v, arrays) for v in obj]}
    if isinstance(obj, dict) or hasattr(obj, "items"):
        return {"dict": [[_encode(k, arrays), _encode(v, arrays)] for k, v in obj.items()]}
    if dataclasses.is_dataclass(obj) and type(obj).__name__ in _types():
        fields = {f.name: _encode(getattr(obj, f.name), arrays) for f in dataclasses.fields(obj) if f.init}
        return {"dataclass": type(obj).__name__, "fields": fields}
    raise TypeError(f"cannot store a {type(obj).__name__} on disk")


def _decode(tree, arrays):
    if not isinstance(tree, dict):
        return tree
    if "nd" in tree:
        return arrays[f"a{tree['nd']}"]
    if "tuple" in tree:
        return tuple(_decode(v, arrays) for v in tree["tuple"])
    if "list" in tree:
        return [_decode(v, arrays) for v in tree["list"]]
    if "dict" in tree:
        return {_decode(k, arrays): _decode(v, arrays) for k, v in tree["dict"]}
    cls = _types()[tree["dataclass"]]  # KeyError for anything else: the file is ignored
    return cls(**{k: _decode(v, arrays) for k, v in tree["fields"].items()})


def dumps(obj) -> bytes:
    """``obj`` as the bytes of one .npz (arrays + a JSON description; no pickle)."""
    arrays: list[np.ndarray] = []
    tree = {"format": FORMAT, "value": _encode(obj, arrays)}
    buf = io.BytesIO()
    np.savez(buf, meta=np.frombuffer(json.dumps(tree).encode(), dtype=np.uint8),
             **{f"a{i}": a for i, a in enumerate(arrays)})
    return buf.getvalue()


def loads(data: bytes):
    """The value ``dumps`` wrote (ValueError if the bytes are not such a file)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            tree = json.loads(bytes(z["meta"]).decode())
            if tree.get("format") != FORMAT:
                raise ValueError("another format")
            arrays = {k: z[k] for k in z.files if k != "meta"}
            return _decode(tree["value"], arrays)
    except (OSError, KeyError, TypeError, json.JSONDecodeError, EOFError, zipfile.BadZipFile) as e:
        raise ValueError(f"not a stored value: {e}") from e


class DiskStore:
    """Values by key in one folder (see the module's docstring): ``root``, or ``default_root()`` as
    the environment says at each use (tests point it at a folder of their own). ``hits`` /
    ``writes`` count reads that found a file and values written, for tests and benchmarks."""

    def __init__(self, root: str | Path | None = None):
        self._root = Path(root) if root is not None else None
        self.hits = self.writes = 0

    @property
    def root(self) -> Path:
        return self._root if self._root is not None else default_root()

    def path(self, key: tuple) -> Path:
        name = hashlib.sha256(repr(key).encode()).hexdigest()
        return self.root / name[:2] / f"{name}.npz"

    def load(self, key: tuple):
        """The stored value of ``key``, or None (absent or unreadable)."""
        try:
            value = loads(self.path(key).read_bytes())
        except (OSError, ValueError):
            return None
        self.hits += 1
        return value

    def save(self, key: tuple, value) -> None:
        """Write ``value`` atomically (a reader never sees half a file). A folder that cannot be
        written (read-only disk, full disk) or a value the format cannot hold (a class outside
        ``TYPES``) is not an error: the value stays in memory only."""
        path = self.path(key)
        try:
            data = dumps(value)
        except TypeError:  # a kind of value the format does not hold: kept in memory only
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
            self.writes += 1
        except OSError:
            with contextlib.suppress(OSError, UnboundLocalError):
                os.unlink(tmp)

    @contextlib.contextmanager
    def claim(self, key: tuple):
        """Hold the exclusive lock of ``key`` (across processes): whoever holds it computes."""
        path = self.path(key).with_suffix(".lock")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a")  # noqa: SIM115 - closed below
        except OSError:
            yield  # no lock possible (read-only folder): compute unshared
            return
        try:
            fcntl.flock(fh, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
            fh.close()

    def get(self, key: tuple, compute: Callable[[], object]):
        """The stored value of ``key``; if absent, ``compute()`` it (once across processes: a
        process that waited for another's lock reads its file) and store it."""
        value = self.load(key)
        if value is not None:
            return value
        with self.claim(key):
            value = self.load(key)
            if value is not None:
                return value
            value = compute()
            self.save(key, value)
            return value

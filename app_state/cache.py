"""The dashboard's compute-once stores, and the progress a computation shows.

- ``_memo(kind)``: the store of one kind of value, a ``core.once.Once`` shared by every session: a
  value is computed once per key even when several sessions ask at once; kinds in ``ON_DISK`` are
  also kept in ``core.diskstore`` for a restarted server or another replica. ``GradStatsCache``
  (``core.importance.cache``) is ``Once`` keyed by target, for gradient statistics, whose missing
  targets are computed together in one pass; ``st.cache_resource`` holds only objects that are not
  computed values (models, validation frames, the stores themselves). ``core.once`` says where
  ``functools.lru_cache`` is used instead.
- ``_progress`` / ``Steps``: a progress bar from the first second of a computation.
"""

from __future__ import annotations

import functools
from pathlib import Path

import streamlit as st

from app_state.background import check_stop
from core.diskstore import DiskStore, code_version, fingerprint
from core.once import Once
from i18n import tr

_Memo = Once  # the old name of the dashboard's stores


ON_DISK = ("histograms", "evaluation", "importance", "curves", "solid_mask", "digit_stats", "digit_means")
"""The kinds of values also kept on disk (``core.diskstore``): slow to compute, the same for every
session, keyed by (models folder, model name, arguments...)."""


@st.cache_resource(show_spinner=False)
def _memo(kind: str, max_entries: int = 64) -> _Memo:
    """The store of one kind of value (its size is fixed by the first call of that kind)."""
    disk = functools.partial(_disk_key, kind) if kind in ON_DISK else None
    return Once({"pruned": 16, "histograms": 8}.get(kind, max_entries), disk=disk_store() if disk else None,
                disk_key=disk)


@st.cache_resource(show_spinner=False)
def disk_store() -> DiskStore:
    """The store on disk shared by every process of the machine ($DNNLENS_CACHE)."""
    return DiskStore()


@st.cache_resource(show_spinner=False)
def model_fingerprint(root: str, name: str) -> str | None:
    """What a model's stored values depend on: its files (weights, metadata, validation frames) and
    the code (``core/`` and ``app_state/``: ``core.diskstore.code_version``); None for a name that
    is no model of the folder."""
    from core.models import list_models as _list

    info = next((m for m in _list(root) if m.name == name), None)
    if info is None:
        return None
    files = sorted(p for p in Path(info.path).iterdir() if p.is_file())
    if info.validation_path is not None and Path(info.validation_path).is_file():
        files.append(Path(info.validation_path))
    return f"{fingerprint(files)}-{code_version(Path(__file__).resolve().parent)}"


def _disk_key(kind: str, key) -> tuple | None:
    """The disk store's key of a (models folder, model name, ...) memo key: the model's fingerprint
    instead of the folder (None: not kept on disk)."""
    if not (isinstance(key, tuple) and len(key) >= 2 and isinstance(key[1], str)):
        return None
    fp = model_fingerprint(key[0], key[1])
    return None if fp is None else (kind, fp, *key[2:])


def _progress(text: str):
    """A progress callback that shows a bar only once work starts; returns (callback, close)."""
    bar = None

    def update(f: float) -> None:
        nonlocal bar
        check_stop()
        if bar is None:
            bar = st.progress(0.0, text=text)
        bar.progress(min(1.0, max(0.0, f)), text=text)

    def close() -> None:
        if bar is not None:
            bar.empty()

    return update, close


class Steps:
    """ "Step i of n: what" above a progress bar, shown from the first second of a computation a
    view needs (``n`` = the computations still missing, so a cached view shows nothing)."""

    def __init__(self, n: int):
        self.n, self.i, self._bar = n, 0, None

    def step(self, text: str):
        """Start the next step; returns its progress callback (fraction 0..1)."""
        self.i += 1
        label = tr("Step {i} of {n}: {what}").format(i=self.i, n=self.n, what=text)
        if self._bar is None:
            self._bar = st.progress(0.0, text=label)

        def update(f: float) -> None:
            check_stop()
            self._bar.progress(min(1.0, max(0.0, float(f))), text=label)

        update(0.0)
        return update

    def close(self) -> None:
        if self._bar is not None:
            self._bar.empty()



"""``Once``: the package's one compute-once store, shared by threads (and, with a disk store, by
processes).

What it is for, and what it is not:

- ``Once`` keeps values that are slow to compute and the same for every caller: a value is computed
  once per key even when several threads ask at the same time (the first claims the key, the others
  wait and read its value, following its progress); at most ``max_entries`` values are kept (least
  recently used dropped); with a disk store (``core.diskstore.DiskStore``) a value is also kept on
  disk, so another process or a restarted server reads it instead of computing it. ``get_many``
  computes the missing keys of a request together (one gradient pass for several targets:
  ``core.importance.GradStatsCache`` is ``Once`` keyed by target).
- The dashboard's stores (``app_state.cache._memo``), its Findings cards' charts and its reading of
  the shipped findings file are ``Once`` objects; ``st.cache_resource`` only holds objects that
  are not computed values (models, validation frames, the stores themselves).
- ``st.cache_data`` keeps a few results of one small request that sessions may modify (a
  recording's posteriors and alignments, keyed by its samples' SHA-256; one digit's saliency): it
  hands each caller a copy, so no session can change another's arrays. They are computed for one
  user's own input, rarely asked for by two sessions at once, and never kept on disk.
- ``functools.lru_cache`` stays where a function of small immutable arguments is memoised in one
  process and nobody waits for it (a phone's label, a warp's filterbank matrix, the code's version
  hash, the sentence lists, a model's pruning subsets ``core.pruning.prune_data``, the findings
  command's per-model importance): cheap, or computed once per run of a command.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence

Progress = Callable[[float], None]


class Once:
    """A thread-safe compute-once store (see the module docstring).

    ``disk`` (a ``DiskStore``) and ``disk_key`` (a function of a key giving the store's key, or None
    for a key not kept on disk): values are also read from and written to disk. ``max_concurrent``:
    at most that many computations run at a time (the others queue), which bounds their memory
    (None: no bound). ``computed`` counts the values computed here (not those read from disk).
    """

    def __init__(self, max_entries: int = 64, *, disk=None, disk_key: Callable[[Hashable], object] | None = None,
                 max_concurrent: int | None = None):
        self._lock = threading.Lock()
        self._values: OrderedDict = OrderedDict()
        self._pending: dict[Hashable, threading.Event] = {}
        self._fraction: dict[Hashable, float] = {}
        self._slots = threading.BoundedSemaphore(max_concurrent) if max_concurrent else None
        self.max_entries = max_entries
        self.max_concurrent = max_concurrent
        self.disk, self.disk_key = disk, disk_key
        self.computed = 0

    def peek(self, key: Hashable):
        """The value of ``key`` if it is stored, else None (nothing is computed)."""
        with self._lock:
            return self._values.get(key)

    def has(self, key: Hashable) -> bool:
        """True when ``key``'s value is stored (a ``get`` returns at once)."""
        with self._lock:
            return key in self._values

    def has_all(self, keys: Iterable[Hashable]) -> bool:
        with self._lock:
            return all(k in self._values for k in keys)

    def clear(self) -> None:
        """Forget every stored value (as a restart does; the disk store is kept)."""
        with self._lock:
            self._values.clear()

    def get(self, key: Hashable, compute: Callable[[], object], progress: Progress | None = None):
        """The value of ``key``, computed by ``compute()`` if no thread has (or is computing) it."""
        return self.get_many([key], lambda keys, share: {key: compute()}, progress)[key]

    def get_many(self, keys: Sequence[Hashable], compute: Callable[[list, Progress], dict],
                 progress: Progress | None = None) -> dict:
        """{key: value} for ``keys``. The keys no thread has computed or is computing are claimed and
        computed together by ``compute(claimed keys, share)`` (a dict with a value for each; its
        ``share(fraction)`` is forwarded to ``progress`` and to every thread waiting for those keys);
        keys another thread is computing are waited for (and claimed again if it failed)."""
        want = list(dict.fromkeys(keys))
        got: dict = {}
        while True:
            with self._lock:
                for k in want:
                    if k not in got and k in self._values:
                        self._values.move_to_end(k)
                        got[k] = self._values[k]
                missing = [k for k in want if k not in got]
                if not missing:
                    return {k: got[k] for k in want}
                mine = [k for k in missing if k not in self._pending]
                others = [(k, self._pending[k]) for k in missing if k in self._pending]
                done = threading.Event()
                for k in mine:
                    self._pending[k] = done
            if mine:
                try:
                    got.update(self._fill(mine, compute, progress))
                finally:
                    with self._lock:
                        for k in mine:
                            self._pending.pop(k, None)
                            self._fraction.pop(k, None)
                    done.set()
            for k, ev in others:  # computed by another thread (or failed there: then claimed again)
                while not ev.wait(0.25):
                    if progress is not None:
                        progress(self._fraction.get(k, 0.0))

    def _fill(self, mine: list, compute, progress: Progress | None) -> dict:
        """Compute (or read from disk) the claimed keys ``mine``, store them and return them."""

        def share(f: float) -> None:
            for k in mine:
                self._fraction[k] = f
            if progress is not None:
                progress(f)

        with self._slots if self._slots is not None else contextlib.nullcontext():
            share(0.0)
            dks = {k: self.disk_key(k) for k in mine} if self.disk is not None and self.disk_key else {}
            on_disk = [dks[k] for k in mine if dks.get(k) is not None]
            with self.disk.claim(tuple(on_disk)) if on_disk else contextlib.nullcontext():
                found = {k: v for k in mine if dks.get(k) is not None and (v := self.disk.load(dks[k])) is not None}
                rest = [k for k in mine if k not in found]
                new = compute(rest, share) if rest else {}
                if set(new) != set(rest):
                    raise KeyError(f"compute gave {sorted(map(repr, new))}, not the keys asked for")
                for k in rest:
                    if dks.get(k) is not None:
                        self.disk.save(dks[k], new[k])
        out = {k: found[k] if k in found else new[k] for k in mine}
        with self._lock:
            self.computed += len(rest)
            for k, v in out.items():
                self._values[k] = v
                self._values.move_to_end(k)
            while len(self._values) > self.max_entries:
                self._values.popitem(last=False)
        return out

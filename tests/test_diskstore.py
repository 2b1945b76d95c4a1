"""The store on disk (core.diskstore): exact round trips without pickle, one computation across
processes, and the dashboard's caches reading it after a restart (tiny real models)."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from core.diskstore import DiskStore, dumps, loads

ROOT = Path(__file__).resolve().parents[1]


def _same(a, b) -> None:
    """Field by field: arrays equal bit for bit (dtype too), the rest equal."""
    assert type(a) is type(b)
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, dict) and any(isinstance(v, np.ndarray) for v in x.values()):  # PruneCurve.hits
            assert x.keys() == y.keys()
            for k in x:
                assert x[k].dtype == y[k].dtype and x[k].shape == y[k].shape
                np.testing.assert_array_equal(x[k], y[k])
        elif isinstance(x, np.ndarray):
            assert x.dtype == y.dtype and x.shape == y.shape
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y or (x != x and y != y), f.name  # NaN == NaN here


@pytest.fixture(scope="module")
def tiny(tiny_models_dir):
    from core.models import load_model
    from core.train import load_validation

    net, info = load_model(tiny_models_dir / "speech_en_mfbank")
    frames = load_validation(info)
    return net, info, frames


def test_every_stored_kind_reads_back_exactly(tiny, tmp_path):
    from core import pruning
    from core.importance import gradient_stats
    from core.importance.overlap import class_histograms
    from core.train import evaluate

    net, info, frames = tiny
    view = frames.spliced()
    values = [
        gradient_stats(net, view, frames.labels, [info.outputs_of("s"), info.outputs_of("sh")],
                       n_labels=len(info.phones), transform=info.normalizer.apply),
        class_histograms(view, frames.labels, n_labels=len(info.phones), bins=10, transform=info.normalizer.apply,
                         names=list(info.phones)),
        evaluate(net, info, frames),
        pruning.pruning_curve(net, info, "hidden", layer=1, orders=("imp_asc", "random"), points=4),
    ]
    store = DiskStore(tmp_path)
    for i, v in enumerate(values):
        store.save(("kind", i), v)
        _same(store.load(("kind", i)), v)
    assert store.writes == len(values) and store.hits == len(values)


def test_what_is_not_a_stored_value_is_ignored(tmp_path):
    import pickle

    store = DiskStore(tmp_path)
    assert store.load(("absent",)) is None
    path = store.path(("bad",))
    path.parent.mkdir(parents=True)
    for data in (b"", b"not an npz", pickle.dumps({"a": 1}), dumps((1, 2))[:40]):
        path.write_bytes(data)
        assert store.load(("bad",)) is None
    # an npz naming a class outside the allowed list: refused, not imported
    evil = dumps((1, 2)).replace(b'"tuple"', b'"dataclass": "Popen", "fields": {}, "x"')
    with pytest.raises(ValueError):
        loads(evil)
    with pytest.raises(TypeError):
        dumps(object())  # only known types are written
    store.save(("other",), object())  # not stored, and no error: the value stays in memory only
    assert store.load(("other",)) is None and store.writes == 0


def test_a_value_is_computed_once_by_processes_asking_at_once(tmp_path):
    """Three processes ask for the same key at the same moment: one computes, the others find the
    lock held and wait, then read its file. The lock's holder does not finish computing until both
    others have found the lock taken (each child tries the lock without blocking first and leaves a
    file when it is refused), so the test fails if the others never had to wait for it."""
    script = textwrap.dedent(f"""
        import fcntl, os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from core.diskstore import DiskStore

        waiting = {str(tmp_path / "waiting")!r}
        real_flock = fcntl.flock

        def flock(fh, op):
            if op == fcntl.LOCK_EX:
                try:
                    return real_flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:  # another process holds it: say so, then wait for it
                    open(os.path.join(waiting, str(os.getpid())), "w").close()
            return real_flock(fh, op)

        fcntl.flock = flock

        def compute():
            with open({str(tmp_path / "computed")!r}, "a") as fh:
                fh.write("x")
            end = time.monotonic() + 60
            while len(os.listdir(waiting)) < 2 and time.monotonic() < end:
                time.sleep(0.01)
            with open({str(tmp_path / "seen")!r}, "w") as fh:  # waiters seen while holding the lock
                fh.write(str(len(os.listdir(waiting))))
            return (1.5, "ok")
        print(DiskStore({str(tmp_path / "store")!r}).get(("shared", 1), compute))
    """)
    (tmp_path / "waiting").mkdir()
    procs = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120)[0].strip() for p in procs]
    assert outs == ["(1.5, 'ok')"] * 3
    assert (tmp_path / "computed").read_text() == "x"
    # both other processes found the lock held before the holder finished computing
    assert (tmp_path / "seen").read_text() == "2"
    waiters = {int(f.name) for f in (tmp_path / "waiting").iterdir()}
    assert len(waiters) == 2 and waiters < {p.pid for p in procs}


def test_statistics_are_read_from_disk_by_a_new_cache(tiny, tmp_path):
    """A second GradStatsCache (another process, or a restarted server) on the same store computes
    nothing for targets the first computed, and gets the same sums; a new target is computed."""
    from core.importance import GradStatsCache

    net, info, frames = tiny
    view, kw = frames.spliced(), {"n_labels": len(info.phones), "transform": info.normalizer.apply}
    store = DiskStore(tmp_path)
    key_of = lambda key: ("gradstats", "tiny", *key)  # noqa: E731
    first = GradStatsCache(disk=store, disk_key=key_of)
    a = first.get(("m", "validation"), net, view, frames.labels, [info.outputs_of("s"), info.outputs_of("f")], **kw)
    assert first.computed == 2 and store.writes == 2
    second = GradStatsCache(disk=store, disk_key=key_of)
    b = second.get(("m", "validation"), net, view, frames.labels, [info.outputs_of("f"), info.outputs_of("s")], **kw)
    assert store.hits == 2 and store.writes == 2
    _same(b, a.select([info.outputs_of("f"), info.outputs_of("s")]))
    c = second.get(("m", "validation"), net, view, frames.labels, [info.outputs_of("s"), info.outputs_of("m")], **kw)
    assert store.writes == 3 and c.targets == (info.outputs_of("s"), info.outputs_of("m"))


def test_a_restarted_dashboard_reads_what_it_computed(tiny_models):
    """The pair page's statistics and histograms, computed once, are read from disk after every
    in-memory cache is dropped (as a restart does): nothing is computed again."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    import app_state as S

    def pair() -> AppTest:
        at = AppTest.from_file(str(ROOT / "screens" / "phoneme_pair.py"), default_timeout=300)
        at.query_params.update({"pair_a": "s", "pair_b": "sh"})
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at

    st.cache_resource.clear()
    first = pair()
    assert S._stats_cache().computed == 2
    files = sorted(p.name for p in S.disk_store().root.rglob("*.npz"))
    assert len(files) >= 4  # two phonemes' statistics, the histograms, the evaluation
    st.cache_resource.clear()  # a new process: memory empty, disk kept
    again = pair()
    assert S._stats_cache().computed == 0
    assert sorted(p.name for p in S.disk_store().root.rglob("*.npz")) == files
    chart = lambda at: at.get("vega_lite_chart")[0].proto.spec  # noqa: E731
    assert chart(first) == chart(again)



def test_the_code_version_reads_the_sources_and_the_tables(tmp_path):
    """The stored results' code version changes with a source file or a table (a phone set's
    ``.tsv``) under the folders it reads, and not with other files there."""
    from core.diskstore import code_version

    (tmp_path / "mod.py").write_text("X = 1\n")
    (tmp_path / "set.tsv").write_text("sil\t-\n")
    seen = []
    for path, text in (("notes.txt", "anything"), ("set.tsv", "sil\t-\na\ta\n"), ("mod.py", "X = 2\n")):
        code_version.cache_clear()
        seen.append(code_version(tmp_path))
        (tmp_path / path).write_text(text)
    code_version.cache_clear()
    seen.append(code_version(tmp_path))
    # notes.txt changed nothing; the table and the source each did
    assert seen[0] == seen[1] and len({seen[1], seen[2], seen[3]}) == 3

"""core.once.Once, the package's one compute-once store: one computation for threads asking at once,
a failed computation claimed again, the missing keys of a request computed together, least recently
used values dropped without losing a request's own values, and values shared through the disk
store with another process's store."""

from __future__ import annotations

import threading

import pytest

from core.diskstore import DiskStore
from core.once import Once


def test_threads_asking_at_once_compute_once_and_the_waiter_follows_the_progress():
    once = Once()
    started, release, calls, seen = threading.Event(), threading.Event(), [], []

    def compute(keys, share):
        calls.append(tuple(keys))
        share(0.5)
        started.set()
        release.wait(30)
        return {k: k * 10 for k in keys}

    out = {}
    first = threading.Thread(target=lambda: out.setdefault("a", once.get_many([1], compute)))
    first.start()
    started.wait(30)
    second = threading.Thread(target=lambda: out.setdefault("b", once.get(1, lambda: -1, progress=seen.append)))
    second.start()
    second.join(0.6)  # it waits (and reports the first thread's fraction every 0.25 s)
    release.set()
    first.join(30)
    second.join(30)
    assert calls == [(1,)] and once.computed == 1
    assert out == {"a": {1: 10}, "b": 10} and 0.5 in seen


def test_a_failed_computation_is_claimed_again_by_a_waiter():
    once = Once()
    started, release = threading.Event(), threading.Event()

    def fails(keys, share):
        started.set()
        release.wait(30)
        raise RuntimeError("boom")

    errors, out = [], []

    def first():
        try:
            once.get_many(["k"], fails)
        except RuntimeError as e:
            errors.append(str(e))

    t1 = threading.Thread(target=first)
    t1.start()
    started.wait(30)
    t2 = threading.Thread(target=lambda: out.append(once.get("k", lambda: "mine")))
    t2.start()
    release.set()
    t1.join(30)
    t2.join(30)
    assert errors == ["boom"] and out == ["mine"] and once.peek("k") == "mine"


def test_only_the_missing_keys_are_computed_together():
    once, asked = Once(), []

    def compute(keys, share):
        asked.append(list(keys))
        return {k: k.upper() for k in keys}

    assert once.get_many(["a", "b"], compute) == {"a": "A", "b": "B"}
    assert once.get_many(["b", "c", "a", "d"], compute) == {"b": "B", "c": "C", "a": "A", "d": "D"}
    assert asked == [["a", "b"], ["c", "d"]] and once.computed == 4
    assert once.has_all(["a", "d"]) and not once.has("e")
    with pytest.raises(KeyError):
        once.get_many(["e"], lambda keys, share: {"f": 1})  # a compute that answers another key
    assert not once.has("e")


def test_a_request_larger_than_the_store_still_gets_every_value():
    once = Once(max_entries=2)
    got = once.get_many(range(5), lambda keys, share: {k: k * k for k in keys})
    assert got == {k: k * k for k in range(5)}
    assert [once.has(k) for k in range(5)] == [False, False, False, True, True]  # the two most recent kept
    once.clear()
    assert not once.has(4)


def test_another_store_on_the_same_disk_reads_instead_of_computing(tmp_path):
    disk = DiskStore(tmp_path)
    key_of = lambda k: None if k == "memory only" else ("test", k)  # noqa: E731
    first = Once(disk=disk, disk_key=key_of)
    first.get_many(["x", "memory only"], lambda keys, share: {k: f"value of {k}" for k in keys})
    second = Once(disk=disk, disk_key=key_of)
    assert second.get("x", lambda: "computed again") == "value of x" and second.computed == 0
    assert second.get("memory only", lambda: "computed again") == "computed again" and second.computed == 1
    assert first.computed == 2 and disk.writes == 1

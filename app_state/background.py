"""Work that runs beside the sessions (the warm-up), and stopping it cleanly when the process ends.

A Python process that exits while a daemon thread is inside a torch computation aborts with
``terminate called without an active exception`` (exit 134): the interpreter tears down while
torch's C++ code still runs in that thread. So every background thread is started here, and at
exit (``atexit``, which also runs after Ctrl-C on ``streamlit run``: Streamlit turns SIGINT and
SIGTERM into a normal shutdown) the stop event is set and the threads are joined. A thread sees the
event through ``check_stop``, which its progress callbacks call after every batch (at most a few
tenths of a second apart, docs/BENCHMARKS.md "Stopping"), and ends by raising ``Stopped``.

Streamlit's own script threads are daemons too: a page that is computing when the server stops
also sees the event through the same progress callbacks (``app_state.cache``) and is joined here.

Chosen over running the warm-up in a child process that is terminated: that stops in the time of
a signal, but the results would have to be copied back to the server's shared cache, and the child
costs another torch import and another copy of the model and validation frames. Joining a thread
that checks the event after each batch stops within one batch (bench/exit.py measures both).
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable

STOP = threading.Event()
"""Set when the process is ending: background work and page computations stop at their next batch."""
JOIN_SECONDS = 10.0
"""The longest wait for all threads together at exit (a batch takes well under a second)."""
_threads: list[threading.Thread] = []
_lock = threading.Lock()


class Stopped(Exception):  # noqa: N818 - a signal, not an error
    """Raised inside a computation when the process is ending (never shown to a user)."""


def check_stop() -> None:
    """Raise ``Stopped`` if the process is ending (called by progress callbacks between batches)."""
    if STOP.is_set():
        raise Stopped


def start(name: str, target: Callable[[], None]) -> threading.Thread:
    """Start ``target`` in a daemon thread that is stopped and joined when the process exits."""
    t = threading.Thread(target=target, name=name, daemon=True)
    with _lock:
        _threads[:] = [x for x in _threads if x.is_alive()]
        _threads.append(t)
    t.start()
    return t


def _script_threads() -> list[threading.Thread]:
    """Streamlit's threads that run page scripts (they may be inside a computation)."""
    return [t for t in threading.enumerate() if t.name == "ScriptRunner.scriptThread" and t.is_alive()]


def shutdown(timeout: float = JOIN_SECONDS) -> list[str]:
    """Set the stop event and join every background and script thread (registered with atexit).

    Returns the names of threads still running after ``timeout`` seconds (empty when all ended)."""
    import time

    STOP.set()
    deadline = time.monotonic() + timeout
    with _lock:
        threads = list(_threads)
    me = threading.current_thread()
    for t in threads + _script_threads():
        if t is not me:
            t.join(max(0.0, deadline - time.monotonic()))
    return [t.name for t in threads + _script_threads() if t.is_alive() and t is not me]


atexit.register(shutdown)

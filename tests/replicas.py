"""Start ``scripts/serve.sh`` (replicas behind nginx) on free ports for a test or a benchmark."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

from tests.browser import free_port

ROOT = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def replicas(n: int, env: dict[str, str] | None = None, timeout_s: float = 180.0) -> Iterator[tuple[str, list[int]]]:
    """``n`` replicas behind nginx on a free port; yields (the proxy's URL, the replicas' pids)."""
    port = free_port()
    with tempfile.TemporaryDirectory() as run:
        log = open(Path(run) / "serve.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(["scripts/serve.sh", str(n), str(port)], cwd=ROOT, stdout=log,
                                stderr=subprocess.STDOUT, env={**os.environ, **(env or {}),
                                                               "DNNLENS_SERVE_DIR": str(Path(run) / "serve")},
                                start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout_s
            while not (Path(run) / "serve" / "ready").exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    raise RuntimeError("serve.sh did not start: " + (Path(run) / "serve.log").read_text()[-2000:])
                time.sleep(0.3)
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=10) as r:
                assert r.status == 200
            pids = [int(p) for p in (Path(run) / "serve" / "replicas.pid").read_text().split()]
            yield url, pids
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            log.close()

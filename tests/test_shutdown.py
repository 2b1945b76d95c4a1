"""A process that started the background warm-up ends cleanly: when its script returns, and when a
`streamlit run` gets Ctrl-C (SIGINT) while the warm-up computes (app_state/background.py).

Both run the shipped default model, whose warm-up takes minutes, so that the process certainly
ends in the middle of a torch computation; without the stop event and the join at exit, both end
with "terminate called without an active exception" and exit status 134.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from app_state.background import JOIN_SECONDS
from tests.ws_client import ctrl_c_during_warmup

ROOT = Path(__file__).resolve().parents[1]
STOP_SECONDS = JOIN_SECONDS
"""The process must end before the join at exit gives up (``app_state.background.JOIN_SECONDS``):
then every thread stopped at its next batch instead of being left running. Not a speed target
(bench/exit.py measures how fast it stops: well under a second on an idle machine); a run of the
suite beside other work once took 5.3 s, so the bound is the join's, not a stopwatch's."""
ABORTS = ("terminate called", "core dumped", "Aborted", "Traceback")

SCRIPT = """
import sys, time
from streamlit.testing.v1 import AppTest
at = AppTest.from_file(sys.argv[1], default_timeout=300)
at.run()
at.switch_page("screens/phoneme_pair.py").run()  # the pair page, as a user opens it
assert not at.exception, [e.message for e in at.exception]
import app_state as S
w = S.warmup()
assert w is not None, "the warm-up did not start"
deadline = time.monotonic() + 240
while (w.done < 1 or not w.current) and w.finished is None and time.monotonic() < deadline:
    time.sleep(0.05)
assert w.finished is None and w.current, ("the warm-up is not computing", w.done, w.current)
print("computing", w.current, flush=True)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DNNLENS_MODELS"}  # the shipped models
    env["DNNLENS_WARMUP"] = "1"
    return env


def test_a_script_that_returns_during_the_warmup_exits_cleanly(tmp_path):
    script = tmp_path / "open_and_return.py"
    script.write_text(SCRIPT)
    proc = subprocess.Popen([sys.executable, str(script), str(ROOT / "dashboard.py")], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()  # printed once a phoneme's gradients are being computed
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=300)
    waited = time.monotonic() - t0
    assert line.startswith("computing"), (line, out, err[-2000:])
    assert proc.returncode == 0, (proc.returncode, err[-2000:])
    assert not any(a in err for a in ABORTS), err[-2000:]
    assert waited < STOP_SECONDS, waited


def test_ctrl_c_on_streamlit_run_during_the_warmup_stops_at_once():
    step, waited, code, text = ctrl_c_during_warmup(_env())
    assert "in the background: step" in step and "(histograms)" not in step, step  # a phoneme was computing
    assert code in (0, 130), (code, text[-2000:])
    assert not any(a in text for a in ABORTS), text[-2000:]
    assert waited < STOP_SECONDS, waited

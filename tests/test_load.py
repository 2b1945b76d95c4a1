"""The load benchmark at a small level (issue 25): bench/load.py drives three sessions at once
through every step on the tiny real models, with no error and no cross-session leak. The figures
for 10 and 30 sessions come from the benchmark itself (docs/BENCHMARKS.md), not from a test."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.load import STEPS, leaks, plan  # noqa: E402


def test_three_sessions_at_once_no_error_no_leak(tiny_models):
    out = subprocess.run([sys.executable, "bench/load.py", "--sessions", "3", "--no-warmup", "--json",
                          "--models", str(tiny_models)], cwd=ROOT, capture_output=True, text=True, timeout=900)
    res = json.loads(out.stdout)
    assert res["errors"] == 0, res["error_texts"]
    assert res["leaks"] == 0, res["leak_texts"]
    assert out.returncode == 0
    assert set(res["steps"]) == set(STEPS) and all(s["n"] == 3 for s in res["steps"].values())
    assert res["server_peak_rss_mb"] > 0 and res["server_cpu_s"] > 0


def test_the_leak_check_sees_another_sessions_choice(tiny_models):
    mine, other = plan(2, str(tiny_models))
    a, b = mine["pair"]
    shown = f"importance(/{a}/) × importance(/{b}/)"
    assert leaks("pair", [shown], f"pair_a={a}&pair_b={b}", shown, {"pair_a": a, "pair_b": b}) == []
    oa, ob = other["pair"]
    assert len(leaks("pair", [f"importance(/{oa}/) × importance(/{ob}/)"], f"pair_a={oa}&pair_b={ob}", shown,
                     {"pair_a": a, "pair_b": b})) == 3  # the caption and both phonemes in the address

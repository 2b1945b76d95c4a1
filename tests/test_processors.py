"""The tests that recompute shipped figures pass on other processors' code paths, not only on this
one's: they run again (``pytest -m shipped``, in a subprocess) under other CPU code paths of the same
machine, chosen by environment variables the libraries honour:

- PyTorch's own kernels: ``ATEN_CPU_CAPABILITY`` (default = no vector extensions, avx2, avx512);
- MKL, which PyTorch's matrix products use: ``MKL_CBWR=COMPATIBLE`` (the code path MKL takes on
  processors it does not tune for, e.g. AMD's) or ``MKL_ENABLE_INSTRUCTIONS``;
- oneDNN: ``ONEDNN_MAX_CPU_ISA``; numpy's OpenBLAS: ``OPENBLAS_CORETYPE`` (an older core's kernels).

A capability the processor lacks is never asked for (PyTorch does not check, it would fault):
"baseline" (no AVX anywhere) runs on every x86-64 machine, "avx2" only where the machine's best is
AVX-512 (elsewhere the main run already is AVX2). docs/TESTING.md says what was found.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((x for x in text.splitlines() if x.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def variants() -> dict[str, dict[str, str]]:
    """The code paths to run the shipped-figure tests under, on this machine."""
    out = {
        "baseline": {
            "ATEN_CPU_CAPABILITY": "default",
            "MKL_CBWR": "COMPATIBLE",
            "ONEDNN_MAX_CPU_ISA": "SSE41",
            "OPENBLAS_CORETYPE": "Nehalem",
        }
    }
    best = torch.backends.cpu.get_cpu_capability()
    if best.startswith("AVX512") and "avx2" in _cpu_flags():
        out["avx2"] = {
            "ATEN_CPU_CAPABILITY": "avx2",
            "MKL_ENABLE_INSTRUCTIONS": "AVX2",
            "ONEDNN_MAX_CPU_ISA": "AVX2",
            "OPENBLAS_CORETYPE": "Haswell",
        }
    return out


def test_the_shipped_figure_tests_exist():
    """The marker selects the tests that recompute shipped figures (so the runs below test something)."""
    out = subprocess.run([sys.executable, "-m", "pytest", "-m", "shipped", "--collect-only", "-q",
                          "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True)
    ids = [x for x in out.stdout.splitlines() if "::" in x]
    assert any("test_cheap_cards_recomputed_equal_the_shipped_ones" in x for x in ids), out.stdout[-2000:]
    assert any("do_not_move_within_the_tolerance" in x for x in ids), out.stdout[-2000:]


@pytest.mark.parametrize("name", sorted(variants()))
def test_shipped_figures_on_another_cpu_code_path(name):
    env = {**os.environ, **variants()[name]}
    code = ("import torch; print(torch.backends.cpu.get_cpu_capability())")
    shown = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == {"default": "DEFAULT", "avx2": "AVX2"}[env["ATEN_CPU_CAPABILITY"]]
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-m", "shipped", "-p", "no:cacheprovider"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout.splitlines()[-1] and "failed" not in run.stdout.splitlines()[-1]

"""How much the Findings' live cards move under other CPU code paths of this machine.

    .venv/bin/python bench/processors.py

For each set of environment variables below (PyTorch's ATEN_CPU_CAPABILITY, MKL's MKL_CBWR /
MKL_ENABLE_INSTRUCTIONS, ONEDNN_MAX_CPU_ISA, numpy's OPENBLAS_CORETYPE), a subprocess recomputes the
cards that are computed live (``F.compute(["s_sh", "b_d", "fig4"])``) and compares every float figure
with the shipped file (assets/findings/findings.json). Prints JSON: {variant: {card.figure: largest
relative difference}} (figures that did not move are left out), and whether anything that is not a
float (verdict, figure text, cells) differed. A capability the processor lacks is skipped.
docs/TESTING.md has the table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.test_processors import _cpu_flags  # noqa: E402

VARIANTS = {
    "none": {},
    "aten_default": {"ATEN_CPU_CAPABILITY": "default"},
    "aten_avx2": {"ATEN_CPU_CAPABILITY": "avx2"},
    "mkl_sse42": {"MKL_ENABLE_INSTRUCTIONS": "SSE4_2"},
    "mkl_compatible": {"MKL_CBWR": "COMPATIBLE"},
    "onednn_sse41": {"ONEDNN_MAX_CPU_ISA": "SSE41"},
    "openblas_nehalem": {"OPENBLAS_CORETYPE": "Nehalem"},
    "baseline": {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41",
                 "OPENBLAS_CORETYPE": "Nehalem"},
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "MKL_ENABLE_INSTRUCTIONS": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2",
             "OPENBLAS_CORETYPE": "Haswell"},
}
NEEDS = {"aten_avx2": "avx2", "avx2": "avx2"}

CHILD = """
import json
import numpy as np
import core.findings as F
now, shipped = F.compute(["s_sh", "b_d", "fig4"]), F.read_shipped()
moved, other = {}, []
for k, f in now.items():
    old = shipped.findings[k]
    if (f.verdict, f.figure) != (old.verdict, old.figure):
        other.append(k + ".text")
    for name, v in f.values.items():
        a, b = np.asarray(old.values[name]), np.asarray(v)
        if b.dtype.kind == "f":
            d = float(np.max(np.abs(a - b) / np.maximum(np.abs(a), 1e-300)))
            if d:
                moved[k + "." + name] = float("%.2g" % d)
        elif not np.array_equal(a, b):
            other.append(k + "." + name)
print(json.dumps({"moved": moved, "other_changes": other}))
"""


def main() -> int:
    flags = _cpu_flags()
    out = {}
    for name, env in VARIANTS.items():
        if NEEDS.get(name, "sse2") not in flags | {"sse2"}:
            out[name] = "skipped: the processor lacks " + NEEDS[name]
            continue
        run = subprocess.run([sys.executable, "-c", CHILD], cwd=ROOT, env={**os.environ, **env},
                             capture_output=True, text=True)
        out[name] = json.loads(run.stdout.splitlines()[-1]) if run.returncode == 0 else run.stderr[-500:]
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())

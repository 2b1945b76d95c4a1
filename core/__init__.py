"""dnnlens core library: features, models, importance statistics. Never imports streamlit.

OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE``, unless already set), read by PyTorch
when it is first imported, which in the dashboard, the CLI and the benchmarks happens through
this package. With the default (active spinning) the two torch threads of one computation spin
while another process or another session's computation holds a core: on the 2-core machine, with
one other busy process, a 2.3 s recording's posteriors took 0.24 s instead of 0.033 s and a
batch of 8,192 frames 0.53 s instead of 0.37 s (docs/BENCHMARKS.md, "Threads").
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

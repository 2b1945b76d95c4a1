"""One rank of tests/test_scale.py's 2-process run: ``torchrun ... tests/scale_worker.py CMDS.json``
joins the process group (``init_from_env``), runs each command line of the JSON list through
``core.cli.main`` in that group (as ``torchrun -m core ...`` would, one after another, without
paying torch's start-up once per command), and leaves the group."""

from __future__ import annotations

import json
import sys

from core.cli import main
from core.train.distributed import init_from_env, shutdown

if __name__ == "__main__":
    ranks = init_from_env()
    assert ranks.world == 2, ranks
    for argv in json.loads(open(sys.argv[1], encoding="utf-8").read()):
        code = main(argv)
        if code != 0:
            sys.exit(code)
    shutdown()

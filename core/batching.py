"""Moved to ``core.data.batching`` (issue 26); this old path is kept for one release."""

import sys

from core.data import batching as _new

sys.modules[__name__] = _new

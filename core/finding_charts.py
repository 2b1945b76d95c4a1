"""Moved to ``core.viz.findings`` (issue 26); this old path is kept for one release."""

import sys

from core.viz import findings as _new

sys.modules[__name__] = _new

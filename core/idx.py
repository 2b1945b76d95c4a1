"""Moved to ``core.data.idx`` (issue 26); this old path is kept for one release."""

import sys

from core.data import idx as _new

sys.modules[__name__] = _new

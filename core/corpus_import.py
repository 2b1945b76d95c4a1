"""Moved to ``core.data.importers`` (issue 26); this old path is kept for one release."""

import sys

from core.data import importers as _new

sys.modules[__name__] = _new

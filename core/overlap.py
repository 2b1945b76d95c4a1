"""Moved to ``core.importance.overlap`` (issue 26); this old path is kept for one release."""

import sys

from core.importance import overlap as _new

sys.modules[__name__] = _new

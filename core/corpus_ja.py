"""Moved to ``core.data.synth.openjtalk`` (issue 26); this old path is kept for one release."""

import sys

from core.data.synth import openjtalk as _new

sys.modules[__name__] = _new

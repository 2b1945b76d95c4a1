"""Moved to ``core.data.synth.espeak`` (issue 26); this old path is kept for one release."""

import sys

from core.data.synth import espeak as _new

sys.modules[__name__] = _new

"""Moved to ``core.data.synth.sentences_ja`` (issue 26); this old path is kept for one release."""

import sys

from core.data.synth import sentences_ja as _new

sys.modules[__name__] = _new

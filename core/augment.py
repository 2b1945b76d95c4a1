"""Moved to ``core.train.augment`` (issue 26); this old path is kept for one release."""

import sys

from core.train import augment as _new

sys.modules[__name__] = _new

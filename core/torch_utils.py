"""Small torch helpers shared by training, evaluation and the importance engines.

Choices written down here:

- ``eval_mode`` is safe for a model shared by every user of the server (DESIGN.md): a model that
  is already in evaluation mode, top module and every submodule, is not touched at all (no flag
  is written, so concurrent readers never see it flip); otherwise every module is put in eval
  mode for the block and each module's own ``training`` flag is restored afterwards (Captum's
  politeness), also when the block raises.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn


@contextmanager
def eval_mode(model: nn.Module) -> Iterator[nn.Module]:
    """Evaluation mode for the block, every module's flag restored afterwards (see module doc)."""
    flags = [(m, m.training) for m in model.modules()]
    if not any(f for _, f in flags):
        yield model
        return
    model.eval()
    try:
        yield model
    finally:
        for m, f in flags:
            m.training = f


__all__ = ["eval_mode"]

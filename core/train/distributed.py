"""Training and statistics across processes with ``torch.distributed`` (``torchrun``).

``torchrun --nproc-per-node 2 -m core train speech ...`` starts two copies of the command; each
finds ``WORLD_SIZE`` / ``RANK`` / ``LOCAL_RANK`` / ``MASTER_ADDR`` / ``MASTER_PORT`` in its
environment (torchrun sets them) and ``init_from_env`` joins the process group. Without
``WORLD_SIZE`` (or with 1) nothing is initialised and every function here is the single-process
identity, so a plain ``python -m core ...`` is unchanged.

Choices written down here:

- **Backend.** gloo: this project runs its models on the CPU (the CPU build of torch), and gloo is
  torch's CPU backend. NCCL reduces CUDA tensors only; using it would mean putting the model and
  every batch on ``cuda:LOCAL_RANK``, which nothing in this project does (no GPU to test it on).
  ``DNNLENS_DIST_BACKEND`` names another backend for experiments.
- **What a rank computes.** Every rank draws the same epoch permutation (same seed), cuts each
  *global* batch of ``batch_size`` positions into ``world`` contiguous parts
  (``numpy.array_split``; sizes differ by at most one) and computes on its own part. The global
  batch size, learning rate and schedule are those of a single process, so the optimiser sees the
  same global batches in the same order; ``core.train.loop.fit`` scales each rank's summed loss by
  ``world / len(global batch)`` so that DDP's gradient average is the single-process mean
  gradient of the global batch exactly (not a mean of unequal parts' means).
- **Loading on several ranks.** ``main_first`` lets rank 0 do a step (e.g. build a corpus's frame
  cache) before the others repeat it (then reading the cache), so two processes never write the
  same file.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    """This process's place: rank 0..world-1 (``local_rank`` on its machine)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    backend: str | None = None

    @property
    def main(self) -> bool:
        """True on the process that prints and writes files (rank 0)."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        """True when there is more than one process to share the work with."""
        return self.world > 1


SINGLE = Ranks()


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


_users = 0  # init_from_env calls not yet matched by shutdown (the group this module created)


def init_from_env() -> Ranks:
    """Join torchrun's process group if ``WORLD_SIZE`` > 1; the single-process ``SINGLE`` otherwise.
    The rendezvous is torch's ``env://`` (``MASTER_ADDR``, ``MASTER_PORT``). Nested calls share the
    group, and it is destroyed by the ``shutdown`` matching the first call (a group cannot be made
    again under the same torchrun), so several commands can run in one process; a group made by the
    caller is used and never destroyed here."""
    global _users
    if dist.is_available() and dist.is_initialized():
        if _users:
            _users += 1
        return current()
    if _env_int("WORLD_SIZE", 1) <= 1:
        return SINGLE
    backend = os.environ.get("DNNLENS_DIST_BACKEND", "gloo")
    dist.init_process_group(backend=backend)
    _users = 1
    return current()


def current() -> Ranks:
    """The process group's ranks if one is initialised, else ``SINGLE``."""
    if not (dist.is_available() and dist.is_initialized()):
        return SINGLE
    return Ranks(dist.get_rank(), dist.get_world_size(), _env_int("LOCAL_RANK", 0),
                 _env_int("LOCAL_WORLD_SIZE", 1), dist.get_backend())


def shutdown() -> None:
    """Match one ``init_from_env``: the last one leaves the process group (no-op without one)."""
    global _users
    if _users == 0:
        return
    _users -= 1
    if _users == 0 and dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def rank_part(positions: np.ndarray, ranks: Ranks) -> np.ndarray:
    """This rank's contiguous part of a global batch (``numpy.array_split``: sizes differ by at most
    one; a part may be empty when the batch has fewer frames than there are ranks)."""
    if not ranks.active:
        return positions
    return np.array_split(positions, ranks.world)[ranks.rank]


def all_reduce_sum(values: np.ndarray) -> np.ndarray:
    """Element-wise sum over ranks of a numpy array, as float64 (identity without a group)."""
    t = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float64)).clone()
    if current().active:
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
    return t.numpy()


def any_rank(flag: bool) -> bool:
    """True if ``flag`` is true on any rank (a clock-based stop must be taken by all ranks at once)."""
    if not current().active:
        return flag
    t = torch.tensor([1 if flag else 0], dtype=torch.int32)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


@contextlib.contextmanager
def main_first(ranks: Ranks | None = None) -> Iterator[None]:
    """Run the block on rank 0 first, then on the other ranks (barriers around it)."""
    ranks = current() if ranks is None else ranks
    if ranks.active and not ranks.main:
        dist.barrier()
    yield
    if ranks.active and ranks.main:
        dist.barrier()


def run_meta(batch_size: int) -> dict:
    """``{"distributed": {...}}`` for a model's metadata when trained across processes (world size,
    backend, the global batch and each rank's share of it); ``{}`` in one process, so a
    single-process model's metadata is that of earlier versions."""
    ranks = current()
    if not ranks.active:
        return {}
    return {"distributed": {"world_size": ranks.world, "backend": ranks.backend, "global_batch": batch_size,
                            "frames_per_rank": -(-batch_size // ranks.world),
                            "rule": "same global batch, lr and schedule as one process; DDP averages the gradients"}}


def threads_per_process(requested: int | None, ranks: Ranks, default: int = 2) -> int:
    """torch threads of this process: ``requested``, else ``default`` for a single process, else the
    machine's cores shared among the processes on it (``os.cpu_count() // LOCAL_WORLD_SIZE``, at least
    one), so that two ranks on two cores do not fight over four threads."""
    if requested:
        return int(requested)
    if not ranks.active:
        return default
    return max(1, (os.cpu_count() or 1) // max(1, ranks.local_world))


__all__ = ["SINGLE", "Ranks", "all_reduce_sum", "any_rank", "current", "init_from_env", "main_first",
           "rank_part", "run_meta", "shutdown", "threads_per_process"]

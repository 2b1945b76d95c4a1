"""Scale-out (docs/SCALE.md): training and gradient statistics across 2 local processes (torchrun,
gloo) equal one process; sharded, memory-mapped corpora keep the peak RSS flat as the corpus grows.

Real data throughout: frames of the shipped English MFBANK validation set (Festival, flite and
eSpeak NG voices), a 12-utterance subset for training as in tests/conftest.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from core.data import CorpusFrames
from core.data.shards import ShardedCorpus, ShardOrder, plan_shards, shard_frames_file
from core.importance import gradient_stats
from core.importance.distributed import batch_size_for, rank_frames, sharded_gradient_stats
from core.models import VALIDATION_DIR, load_model, save_model
from core.train import SpeechTrainConfig, frame_targets, load_validation, train_speech
from core.train.distributed import Ranks, rank_part
from tests.conftest import _subset_npz

ROOT = Path(__file__).resolve().parent.parent
TINY = SpeechTrainConfig(width=32, layers=2, activation="relu", epochs=2, batch_size=128, lr=3e-3)
EPS64 = np.finfo(np.float64).eps


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}


def _torchrun(commands: list[list[str]], cwd: Path) -> subprocess.CompletedProcess:
    """``torchrun --standalone --nproc-per-node 2`` (a free local port, gloo) running each command
    line through ``core.cli.main`` in one process group (tests/scale_worker.py)."""
    (cwd / "commands.json").write_text(json.dumps(commands))
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node=2",
           str(ROOT / "tests" / "scale_worker.py"), str(cwd / "commands.json")]
    out = subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def work(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("scale")


@pytest.fixture(scope="module")
def tiny_npz(work) -> Path:
    return _subset_npz(VALIDATION_DIR / "en_mfbank.npz", work / "tiny.npz", 12)


@pytest.fixture(scope="module")
def single(work, tiny_npz):
    """The tiny recipe trained in this process (one process, no process group), saved."""
    frames = load_validation(tiny_npz)
    res = train_speech(frames, TINY, features=frames.cfg)
    save_model(res.model, work / "single", res.meta)
    return res


@pytest.fixture(scope="module")
def validation():
    """All 50,007 frames of the shipped validation set and its sharded copy's folder."""
    return load_validation(VALIDATION_DIR / "en_mfbank.npz")


@pytest.fixture(scope="module")
def tiny_shards(work, tiny_npz) -> Path:
    """The 12 training utterances in 3 shards."""
    return shard_frames_file(load_validation(tiny_npz), work / "tiny_shards", shard_frames=1000).parent


@pytest.fixture(scope="module")
def tone_corpus(work) -> Path:
    """A 12-utterance corpus folder (wav + lab + manifest; tests/test_train.py's tones and noises)."""
    from tests.test_train import make_corpus

    return make_corpus(work / "tones")


@pytest.fixture(scope="module")
def two_processes(work, tiny_npz, single, validation, tiny_shards, tone_corpus) -> Path:
    """One 2-process run (torchrun, gloo) of: the tiny recipe's training (the single fixture's
    arguments), on the frames and on their 3 shards; importance --target s on all validation
    frames, and on a 5-shard copy of them; shard-corpus of a corpus folder."""
    shard_frames_file(validation, work / "val_shards", shard_frames=10_000)
    tiny_args = ["--width", "32", "--layers", "2", "--activation", "relu", "--epochs", "2", "--batch-size", "128",
                 "--lr", "3e-3"]
    _torchrun([
        ["train", "speech", "--corpus", str(tiny_shards), "--out", str(work / "ddp_shards"), *tiny_args],
        ["shard-corpus", str(tone_corpus), str(work / "tones_shards2"), "--shard-frames", "300"],
        ["train", "speech", "--corpus", str(tiny_npz), "--out", str(work / "ddp"), "--width", "32", "--layers", "2",
         "--activation", "relu", "--epochs", "2", "--batch-size", "128", "--lr", "3e-3"],
        ["importance", str(work / "single"), "--corpus", str(VALIDATION_DIR / "en_mfbank.npz"), "--target", "s",
         "--top", "1", "--save-sums", str(work / "sums2.npz")],
        ["importance", str(work / "single"), "--corpus", str(work / "val_shards"), "--target", "s", "--top", "1",
         "--save-sums", str(work / "sums2_sh.npz")],
    ], work)
    return work


# ---- pure parts -------------------------------------------------------------------------------------


def test_rank_parts_cut_every_global_batch_into_disjoint_contiguous_parts():
    glob = np.arange(100, 229)  # 129 positions: parts of 65 and 64
    parts = [rank_part(glob, Ranks(r, 2)) for r in range(2)]
    assert [len(p) for p in parts] == [65, 64]
    assert np.array_equal(np.concatenate(parts), glob)
    assert rank_part(glob[:1], Ranks(1, 2)).size == 0  # a 1-frame last batch: rank 1 computes nothing
    idx = np.arange(1000)
    blocks = [rank_frames(idx, 128, Ranks(r, 3)) for r in range(3)]  # 8 batches: 3 + 3 + 2 whole batches
    assert [len(b) for b in blocks] == [384, 384, 232]
    assert np.array_equal(np.concatenate(blocks), idx)
    assert all(b[0] % 128 == 0 for b in blocks)  # each block starts a single-process batch


def test_shards_hold_whole_utterances_and_read_back_the_frames(tiny_shards, tiny_npz):
    frames = load_validation(tiny_npz)
    corpus = ShardedCorpus(tiny_shards)
    assert corpus.n_frames == len(frames.labels) and corpus.n_shards == 3
    assert sorted(corpus.utt_ids) == sorted(frames.utt_ids)
    starts = np.append(frames.utt_starts, len(frames.labels))
    for k in range(corpus.n_shards):
        shard = corpus.shard(k)
        assert isinstance(shard.feats, np.memmap)
        view = shard.spliced(frames.cfg.context)
        for j, u in enumerate(shard.utts):  # every utterance whole, spliced within itself
            src = frames.utt_ids.index(corpus.utt_ids[u])
            a, b = shard.utt_starts[j], shard.utt_starts[j] + corpus.utt_frames[u]
            assert np.array_equal(shard.labels[a:b], frames.labels[starts[src] : starts[src + 1]])
            assert np.array_equal(view[np.arange(a, b)],
                                  frames.spliced()[np.arange(starts[src], starts[src + 1])])
    plan = plan_shards(np.array([5, 5, 5, 5, 5]), shard_frames=10, seed=0)
    assert np.bincount(plan.shard).tolist() == [2, 2, 1]


def test_shard_order_is_a_permutation_visiting_one_shard_at_a_time():
    counts = np.array([7, 0, 5, 9])
    order = ShardOrder(counts, np.random.default_rng(3))
    full = np.concatenate([order[i : i + 4] for i in range(0, len(order), 4)])
    assert len(order) == 21 and np.array_equal(np.sort(full), np.arange(21))
    shard_of = np.searchsorted(np.cumsum(counts), full, side="right")
    assert (np.diff(shard_of) != 0).sum() == 2  # three non-empty shards, each visited in one run
    again = ShardOrder(counts, np.random.default_rng(3))
    assert np.array_equal(again[0:21], full)  # lazy slices = the same order


# ---- two processes ----------------------------------------------------------------------------------


def test_torchrun_two_processes_train_like_one(two_processes, single):
    """2-process DDP (torchrun, gloo) against one process: same global batch 128, lr, schedule, seed.

    Tolerances. The issue's: held-out accuracy within 0.5 points (here 2 of the 406 held-out
    frames). And the weights: the two runs take the same steps on the same global batches, and
    differ only by float32 rounding (the batch's gradient summed as two halves, then all-reduced);
    Adam moves a weight by at most about lr = 3e-3 per step, so a run that took any different step
    (another order, no gradient averaging) would be at least that far off somewhere; the two must
    agree within lr / 10 (measured: 3e-6)."""
    work = two_processes
    meta = json.loads((work / "ddp" / "model.json").read_text())
    assert meta["training"]["distributed"]["world_size"] == 2
    assert meta["training"]["distributed"]["global_batch"] == 128
    acc1 = single.meta["metrics"]["heldout_accuracy"]
    acc2 = meta["metrics"]["heldout_accuracy"]
    assert abs(acc2 - acc1) <= 0.005, (acc1, acc2)
    ddp, _ = load_model(work / "ddp")
    for (name, p), q in zip(single.model.named_parameters(), ddp.parameters(), strict=True):
        assert float((p - q).abs().max()) <= TINY.lr / 10, name


def test_torchrun_two_processes_train_on_shards_like_one(two_processes, tiny_shards):
    """The sharded trainer (shard-by-shard order, normaliser and held-out counts all-reduced) in 2
    processes against 1, same tolerances as above (the same arithmetic)."""
    from core.train.sharded import train_speech_sharded

    one = train_speech_sharded(ShardedCorpus(tiny_shards), TINY)
    meta = json.loads((two_processes / "ddp_shards" / "model.json").read_text())
    assert meta["training"]["distributed"]["world_size"] == 2 and meta["data"]["shards"] == 3
    # float64 sums of ~3,400 frames added in another order: relative 1e-12 even after mean^2 cancels
    for key in ("mean", "std"):
        np.testing.assert_allclose(meta["normalizer"][key], getattr(one.meta["normalizer"], key), rtol=1e-9)
    assert abs(meta["metrics"]["heldout_accuracy"] - one.meta["metrics"]["heldout_accuracy"]) <= 0.005
    assert meta["metrics"]["heldout_frames"] == one.meta["metrics"]["heldout_frames"]
    ddp, _ = load_model(two_processes / "ddp_shards")
    for (name, p), q in zip(one.model.named_parameters(), ddp.parameters(), strict=True):
        assert float((p - q).abs().max()) <= TINY.lr / 10, name


def test_shard_corpus_folder_equals_load_corpus_in_one_and_two_processes(two_processes, tone_corpus):
    """shard-corpus of a corpus folder, one utterance at a time: the frames load_corpus gives, per
    utterance; the 2-process run (each rank its shards, rank 0 the index) writes the same files."""
    from core.cli import main
    from core.data import load_corpus
    from core.features import FeatureConfig

    one = two_processes / "tones_shards1"
    assert main(["shard-corpus", str(tone_corpus), str(one), "--shard-frames", "300"]) == 0
    corpus, ref = ShardedCorpus(one), load_corpus(tone_corpus, FeatureConfig())
    assert corpus.n_shards >= 3 and corpus.n_frames == len(ref.labels)
    starts = np.append(ref.utt_starts, len(ref.labels))
    for k in range(corpus.n_shards):
        shard = corpus.shard(k)
        for j, u in enumerate(shard.utts):
            src = ref.utt_ids.index(corpus.utt_ids[u])
            a, b = shard.utt_starts[j], shard.utt_starts[j] + corpus.utt_frames[u]
            assert np.array_equal(shard.feats[a:b], ref.feats[starts[src] : starts[src + 1]])
            assert np.array_equal(shard.states[a:b], ref.states[starts[src] : starts[src + 1]])
    two = two_processes / "tones_shards2"
    names = sorted(p.name for p in one.iterdir())
    assert names == sorted(p.name for p in two.iterdir())
    for name in names:
        assert (one / name).read_bytes() == (two / name).read_bytes(), name


def _sums(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _assert_sums_equal(got: dict, ref, n_frames: int) -> None:
    """The all-reduced sums against one process's: n exactly; every sum to 1e-6 relative, where a
    sum of n float64 terms added in another order may differ by n * eps64 * sum |g| (a signed sum
    of gradients near zero is compared to that bound: relative error means nothing there)."""
    assert np.array_equal(got["n"], ref.n)
    bound = n_frames * EPS64 * ref.sum_abs
    np.testing.assert_array_less(np.abs(got["sum_g"] - ref.sum_g), 1e-6 * np.abs(ref.sum_g) + bound + 1e-300)
    np.testing.assert_allclose(got["sum_g2"], ref.sum_g2, rtol=1e-6, atol=0)
    np.testing.assert_allclose(got["sum_abs"], ref.sum_abs, rtol=1e-6, atol=0)


def test_torchrun_two_processes_gradient_sums_equal_one_process(two_processes, single, validation):
    """importance under torchrun on all 50,007 validation frames (several whole batches per rank)
    and on a sharded copy (5 shards: 3 and 2 per rank), against one process computing the same."""
    work, frames = two_processes, validation
    X, labels = frames.spliced(), frame_targets(frames, "phone")
    model, info = single.model, single.meta
    s = list(info["labels"]).index("s")
    tf = info["normalizer"].apply
    bs = batch_size_for(model, X, labels, [[s]], n_labels=len(info["labels"]), transform=tf)
    assert -(-len(labels) // bs) >= 4  # at least two batches per rank: the split is exercised
    ref = gradient_stats(model, X, labels, [[s]], n_labels=len(info["labels"]), transform=tf)
    _assert_sums_equal(_sums(work / "sums2.npz"), ref, len(labels))

    corpus = ShardedCorpus(work / "val_shards")
    assert corpus.n_shards == 5
    ref_sh = sharded_gradient_stats(model, corpus, lambda sh: np.asarray(sh.labels, np.int64), [[s]],
                                    n_labels=len(info["labels"]), transform=tf)[0]
    _assert_sums_equal(_sums(work / "sums2_sh.npz"), ref_sh, len(labels))
    assert ref_sh.n.sum() == len(labels)


# ---- memory -----------------------------------------------------------------------------------------

_CHILD = """
import sys
import numpy as np, torch
torch.set_num_threads(1)
from core.data import shards
from core.data.shards import ShardedCorpus
from core.importance.distributed import sharded_gradient_stats
from core.train import SpeechTrainConfig
from core.train.sharded import train_speech_sharded
if sys.argv[2] != "2":  # the control: a reader that never drops a shard
    shards.ShardCache.keep = property(lambda self: int(sys.argv[2]), lambda self, value: None)
corpus = ShardedCorpus(sys.argv[1])
res = train_speech_sharded(corpus, SpeechTrainConfig(width=16, layers=1, activation="relu", epochs=1,
                                                     batch_size=4096, lr=1e-3))
sharded_gradient_stats(res.model, corpus, lambda s: np.asarray(s.labels, np.int64), [[0]], n_labels=41,
                       transform=res.meta["normalizer"].apply, batch_size=4096)
print([line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:")][0])
"""


def _peak_rss_mb(shards: Path, keep: int = 2) -> float:
    out = subprocess.run([sys.executable, "-c", _CHILD, str(shards), str(keep)], env=_env(),
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return int(out.stdout.split()[-1]) / 1024  # VmHWM is in KiB


def test_sharded_epoch_and_statistics_peak_rss_does_not_grow_with_the_corpus(work):
    """One training epoch and one statistics pass over a sharded corpus of 1x and 4x the frames.

    Frames: the 50,007 validation frames repeated (4 and 16 copies: 200,028 and 800,112 frames),
    with 2 frames of context (5 x 40 inputs, so the 800,000-frame epoch takes seconds). Shards of
    50,000 frames (8 MB of features). The corpus grows by 600,084 frames x 163 bytes (float32 x 40
    features, int16 label, int8 state) = 97.8 MB (93.3 MiB). What a bounded reader adds per frame is nothing
    (per utterance: an id, a voice, a length; 2,772 more utterances, well under 1 MB), so its peak
    must grow by less than a quarter of the corpus's growth (23 MB; measured 1-7 MB, the allocator's
    noise);
    a reader that keeps every shard mapped grows by the whole corpus growth, which the control run
    (ShardCache keeping every shard) shows is measured: at least half of it.

    The peak is the child's ``VmHWM`` (/proc/self/status: the high-water RSS of its own address
    space), not ``getrusage(...).ru_maxrss``: Linux carries the forked parent's high water (this
    600 MB pytest process) over exec into the child's ru_maxrss, which then hides everything below it."""
    base = load_validation(VALIDATION_DIR / "en_mfbank.npz")
    small = replace(base.cfg, context=2)
    paths = {}
    for copies in (4, 16):
        n, u = len(base.labels), len(base.utt_starts)
        frames = CorpusFrames(
            feats=np.tile(base.feats, (copies, 1)), labels=np.tile(base.labels, copies),
            states=np.tile(base.states, copies),
            utt_starts=np.concatenate([base.utt_starts + c * n for c in range(copies)]),
            frame_utt=np.zeros(0, np.int32), utt_ids=tuple(f"{c}_{i}" for c in range(copies) for i in base.utt_ids),
            voices=base.voices * copies, cfg=small, phone_set=base.phone_set)
        assert len(frames.utt_ids) == copies * u
        paths[copies] = shard_frames_file(frames, work / f"rss_{copies}", shard_frames=50_000).parent
        del frames
    growth_corpus = (ShardedCorpus(paths[16]).n_frames - ShardedCorpus(paths[4]).n_frames) * 163 / 2**20
    assert growth_corpus > 90
    rss_1, rss_4 = _peak_rss_mb(paths[4]), _peak_rss_mb(paths[16])
    assert rss_4 - rss_1 < growth_corpus / 4, (rss_1, rss_4, growth_corpus)
    rss_all = _peak_rss_mb(paths[16], keep=10**6)
    assert rss_all - rss_1 > growth_corpus / 2, (rss_1, rss_all, growth_corpus)

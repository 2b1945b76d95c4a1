"""Adapting a speech model to a new voice from a few labelled recordings (speaker adaptation).

``adapt(model, info, recordings)`` fine-tunes a **copy** of a speech model on recordings with
frame labels and returns ``(new model, new ModelInfo, AdaptReport)``; the model it is given is
never changed (no weight, no ``requires_grad`` flag, no training flag is written).

Choices written down here:

- **What is updated** (``AdaptConfig.parts``), by default ``("input", "lhuc")``:

  - ``"input"``: a linear map of every spliced frame's normalised features, ``x_k' = A x_k + b``
    (A: C x C, b: C; 1,640 numbers for MFBANK), the same for all 35 time offsets: a speaker
    transform of the feature space (like the fMLLR / VTLN transforms of speaker adaptation), able
    to re-level channels and to move energy between neighbouring channels, i.e. to shift formants.
    For MFBANK models it starts from the best of a few vocal-tract-length warps (``warps``,
    0.80-1.25: ``warp_matrix`` reads each channel's log energy at ``alpha`` times its centre
    frequency, by interpolation on the mel axis; the warp with the lowest cross-entropy on the
    fitted recordings (at most 1,500 of their frames) is taken; 1.0 is the identity), for MFCC
    models from the identity. It is folded into the first layer (``fold_input_map``:
    ``W_k' = W_k A``, ``bias' += sum_k W_k b``), so the adapted model has the original
    architecture and normaliser: its input, and what an importance map is computed over, is still
    "the features normalised by the model's training statistics"; the map then shows what the
    adapted network looks at in this voice's features. Only for a full ``SpeechDNN`` (a pruned
    network has lost the inputs it would fold into).
  - ``"lhuc"``: one scale per hidden unit, ``2 sigmoid(r)`` starting at 1 (LHUC, Swietojanski &
    Renals 2014; 3,584 numbers for 7 x 512), folded into the next layer's weight columns
    (``fold_lhuc``).
  - ``"output"`` (the last layer), ``"biases"`` (every layer's bias), ``"first"`` (the first layer),
    ``"all"`` (every weight): for comparison.

  The hidden weight matrices stay frozen: ten words cannot retrain 2.3 M weights without forgetting.
  The default was chosen on two real sources (klettres_en_gb, klettres_en_letters; docs/MODELS.md,
  "Adapting to a real voice") and is reported on another (ktuberling_en).
- **Regularisation.** Every updated tensor is pulled back to its starting value by an L2
  penalty ``l2 * sum((theta - theta_0)^2)`` (L2-SP; for the input map theta_0 is the chosen warp),
  and the target of every frame is ``(1 - kl)`` its label plus ``kl`` the model's own posterior
  (KL-divergence regularised adaptation, Yu et al. 2013): without it, every variant tried made the
  speaker's other words worse.
- **The check: cross-validation.** With three or more recordings, each is held back once
  (``folds`` folds, at most one per recording, a seeded assignment): a copy is fitted on the other
  folds for ``max_epochs`` epochs and counts, after each epoch (epoch 0: the start with its warp),
  the speech frames of the held-back ones it labels right. The number of epochs with the most
  (the fewest of equal counts) is kept if it gets at least ``min_gain`` of the held-back speech
  frames more right than the model as it was; then a copy is fitted that many epochs on every
  recording. Otherwise the model as it was is kept (warp 1, nothing changed) and the report says
  so. Two held-back words are too few to see a loss (the earlier hold-out of 20 % did not stop
  5-11 point losses on a real voice), and every recording checked once is the most a few
  recordings can give; it is still no guarantee: on real voices, copies fitted on ten recordings
  that passed it read the speaker's other words up to 10.7 points worse (docs/MODELS.md, "Does the
  check protect?"). ``check_level`` L > 0 (off by default: it did not cure that) also asks that
  the one-sided bootstrap lower bound at L of the gain over the held-back recordings
  (``check_lower_bound`` of the report's ``held_back``) be at least 0. With one or two recordings
  nothing is adapted (``FEW_RECORDINGS``): they cannot check each other. ``folds`` 0 asks for no
  check: ``epochs_unchecked`` epochs on every recording (the command line's and the benches'
  choice, never the page's).
- **Optimiser.** Adam at ``lr``, mini-batches of ``batch_size`` frames; batch order from
  ``default_rng(seed + 1 + fold)`` (``seed`` for the final fit), so the same call gives the same model.
- **Targets.** Labels are phones of the model's phone set (``info.phone_set``: English
  ``core.phones.PHONES``, or Japanese; indices or segments); a state model's
  target is ``3 * phone + state``, the state being the third of its segment (``frame_states``);
  with frame labels given as an array, a segment is a run of equal labels.
- **Accuracy** in the report is the share of speech (non-silence) frames labelled right (phone
  accuracy of summed state posteriors for a state model; every frame if none is speech) before and
  after: on the recordings held back in the check (each counted when it was held back) and on all
  of them after the final fit.

The settings, errors and report are ``core.voice.adapt_config``; the adapted network (input map,
hidden-unit scales, their folding, the warps) is ``core.voice.adapt_net``; both re-exported here.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.audio import SAMPLE_RATE
from core.features import FeatureError
from core.models import ASSETS_DIR, ModelInfo, SpeechDNN, sum_states
from core.models.inference import network_inputs
from core.models.info import phone_of_output, state_target
from core.phones import PhoneError, Segment, frame_labels, frame_states, run_states
from core.text import N_
from core.torch_utils import eval_mode
from core.train.loop import run_adam
from core.voice.adapt_config import (
    FEW_RECORDINGS,
    PART_NAMES,
    PARTS,
    WARPS,
    AdaptConfig,
    AdaptError,
    AdaptReport,
    Labels,
    Recording,
    check_lower_bound,
)
from core.voice.adapt_net import (
    WARP_FRAMES,
    _Adapted,
    _choose_warp,
    _selected,
    fold_input_map,
    fold_lhuc,
    warp_map,
    warp_matrix,
)

LABEL_TOLERANCE_S = 0.05


# ---------------------------------------------------------------------------------------------
# Data


def _targets(labels: Labels, n_frames: int, seconds: float, info: ModelInfo, name: str) -> np.ndarray:
    """(n_frames,) int64 model targets of the recording ``name`` from segments or phone indices."""
    cfg, ps = info.features, info.phone_set
    if isinstance(labels, np.ndarray):
        lab = np.asarray(labels)
        if lab.ndim != 1 or lab.dtype.kind not in "iu":
            raise AdaptError(f"{name}: frame labels must be a 1-D array of phone indices.")
        if len(lab) != n_frames:
            raise AdaptError(f"{name} has {n_frames} frames but {len(lab)} frame labels.")
        if lab.size and (lab.min() < 0 or lab.max() >= len(ps.phones)):
            raise AdaptError(f"{name}: frame labels must be phone indices 0..{len(ps.phones) - 1}.")
        phones = lab.astype(np.int64)
        states = run_states(phones).astype(np.int64)
    else:
        segs = list(labels)
        if segs and isinstance(segs[-1], Segment) and segs[-1].end > seconds + LABEL_TOLERANCE_S:
            raise AdaptError(
                N_("{name}: its labels end at {end:.2f} s but the audio lasts {s:.2f} s; are they the labels of "
                   "this recording?"),
                name=name,
                end=segs[-1].end,
                s=seconds,
            )
        try:
            phones = frame_labels(segs, n_frames, cfg.winlen, cfg.winstep, phone_set=ps).astype(np.int64)
            states = frame_states(segs, n_frames, cfg.winlen, cfg.winstep).astype(np.int64)
        except PhoneError as exc:
            raise AdaptError(N_("{name}: {reason}"), name=name, reason=exc) from None
    mapped = np.array([info.label_index(p) for p in ps.phones], dtype=np.int64)[phones]
    return state_target(mapped, states, info.targets)


def _prepare(
    info: ModelInfo, recordings: Sequence[Recording], names: Sequence[str] | None
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The network's inputs of all recordings (N, 35*C) float32, as ``core.models.inference.network_inputs``
    makes them for the Your voice page (features, splicing, ``info.preprocess``), and the targets
    of each recording."""
    if info.kind != "speech" or info.features is None or info.normalizer is None:
        raise AdaptError(f"{info.name} is not a speech model; only speech models can be adapted.")
    if not recordings:
        raise AdaptError(N_("Adaptation needs at least one recording with labels."))
    feats, targets = [], []
    if names is not None and len(names) != len(recordings):
        raise AdaptError("Give one name per recording.")
    for k, item in enumerate(recordings):
        name = f"Recording {k + 1}" if names is None else str(names[k])
        try:
            audio, labels = item
        except (TypeError, ValueError):
            raise AdaptError(f"{name} must be a pair (audio, labels).") from None
        audio = np.asarray(audio, dtype=np.float32)
        if audio.ndim != 1 or audio.size < info.features.win_samples:
            raise AdaptError(N_("{name} must be mono audio of at least one frame."), name=name)
        try:
            x = network_inputs(info, audio)
        except FeatureError as exc:
            raise AdaptError(N_("{name}: {reason}"), name=name, reason=exc) from None
        targets.append(_targets(labels, len(x), audio.size / SAMPLE_RATE, info, name))
        feats.append(np.asarray(x, dtype=np.float32))
    return np.concatenate(feats), targets


# ---------------------------------------------------------------------------------------------
# Adapting


def _hits(logits: torch.Tensor, y: torch.Tensor, targets: str) -> np.ndarray:
    """(n,) bool: the frames the logits label right (a state model: its phone, the states summed)."""
    if len(y) == 0:
        return np.zeros(0, bool)
    if targets == "state":
        post = sum_states(torch.softmax(logits, 1), targets)
        return (post.argmax(1) == phone_of_output(y, "state")).numpy()
    return (logits.argmax(1) == y).numpy()


def _right(logits: torch.Tensor, y: torch.Tensor, targets: str) -> int:
    """How many frames the logits label right."""
    return int(_hits(logits, y, targets).sum())


def adapt(
    model: nn.Module,
    info: ModelInfo,
    recordings: Sequence[Recording],
    cfg: AdaptConfig = AdaptConfig(),  # noqa: B008 (frozen: never changed; ruff sees that only in its own module)
    progress: Callable[[int, int], None] | None = None,
    names: Sequence[str] | None = None,
) -> tuple[nn.Module, ModelInfo, AdaptReport]:
    """Fine-tune a copy of a speech model on recordings of one voice (see the module docstring).

    recordings: (audio, labels) pairs; audio (n,) float 16 kHz mono (``core.audio.load_audio``);
    labels either ``core.phones.Segment`` s (phones of the model's phone set, ``info.phone_set``) or
    an (n_frames,) int array of indices into its phones, one per frame of the model's features. progress(epoch, max_epochs) after
    every epoch. names: what to call each recording in error messages (default "Recording k").
    Labels ending more than 0.05 s after their audio are refused (the wrong file). Returns the
    adapted model (eval mode, ``requires_grad`` off; the input map folded into its first layer),
    its ModelInfo (same features and normaliser, ``training["adaptation"]`` recording what was
    done; save with ``save_adapted``) and the report.
    """
    t0 = time.perf_counter()
    bad = [p for p in cfg.parts if p not in PARTS]
    if not cfg.parts or bad:
        raise AdaptError(
            f"Unknown part(s) to adapt {bad or list(cfg.parts)}; choose from {', '.join(PARTS)}."
        )
    if (min(cfg.max_epochs, cfg.batch_size, cfg.epochs_unchecked) < 1 or not cfg.lr > 0 or cfg.l2 < 0
            or not 0 <= cfg.kl < 1 or not 0 <= cfg.check_level < 1):
        raise AdaptError("Epochs and batch size must be at least 1, the learning rate positive, l2 >= 0, "
                         "0 <= kl < 1, 0 <= check_level < 1.")
    if info.kind != "speech":
        raise AdaptError(f"{info.name} is not a speech model; only speech models can be adapted.")
    if ("input" in cfg.parts or "lhuc" in cfg.parts) and not isinstance(model, SpeechDNN):
        raise AdaptError(
            f"The input map and hidden-unit scales can only be folded into a full SpeechDNN; adapt "
            f"{info.name} with the output layer or the biases."
        )
    x_all, targets = _prepare(info, recordings, names)
    n_utts = len(targets)
    y_all = torch.from_numpy(np.concatenate(targets))
    frame_utt = np.repeat(np.arange(n_utts), [len(t) for t in targets])
    x_t = torch.from_numpy(x_all)
    sil = info.label_index(info.phone_set.silence)
    phone_of = phone_of_output(y_all, info.targets)
    speech = (phone_of != sil).numpy()
    with eval_mode(model), torch.no_grad():
        base_logits = torch.cat([model(x_t[i : i + 4096]) for i in range(0, len(x_t), 4096)])
    soft = torch.softmax(base_logits, 1)

    def right(logits: torch.Tensor, idx: np.ndarray) -> int:
        """Frames of ``idx`` whose label the logits (of every frame) give."""
        return _right(logits[idx], y_all[idx], info.targets)

    def scored(idx: np.ndarray) -> np.ndarray:
        """The frames a check counts: the speech frames of ``idx`` (all of them when none is speech)."""
        keep = idx[speech[idx]]
        return keep if len(keep) else idx

    def fresh() -> tuple[nn.Module, _Adapted, list[nn.Parameter]]:
        net = copy.deepcopy(model)  # the caller's model is never written
        net.eval()
        net.requires_grad_(False)
        for p in _selected(net, cfg.parts).values():
            p.requires_grad_(True)
        wrapped = _Adapted(net, info.features.n_channels, 2 * info.features.context + 1, "input" in cfg.parts,
                           "lhuc" in cfg.parts)
        return net, wrapped, [p for p in wrapped.parameters() if p.requires_grad]

    def logits_of(wrapped: _Adapted, x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return (torch.cat([wrapped(x[i : i + 4096]) for i in range(0, len(x), 4096)]) if len(x)
                    else torch.zeros(0, info.n_classes))

    def fit(idx: np.ndarray, epochs: int, seed: int, after_epoch: Callable[[int, _Adapted], None]):
        """A fresh copy fitted ``epochs`` epochs on the frames ``idx`` (the warp chosen on them first);
        ``after_epoch(e, wrapped)`` after the start (e = 0) and after every epoch."""
        net, wrapped, trainable = fresh()
        xs, ys, ss = x_t[idx], y_all[idx], soft[idx]
        warp = 1.0
        if "input" in cfg.parts and info.features.kind == "mfbank" and cfg.warps:
            warp = _choose_warp(wrapped, info, cfg.warps, xs, ys)
        start = {id(p): p.detach().clone() for p in trainable}  # L2-SP pulls back to these (A: the warp)
        gen = np.random.default_rng(seed)
        after_epoch(0, wrapped)

        def batches(epoch: int):
            order = gen.permutation(len(xs))
            return (torch.from_numpy(order[i : i + cfg.batch_size]) for i in range(0, len(order), cfg.batch_size))

        def loss_of(bt: torch.Tensor) -> torch.Tensor:
            lg = wrapped(xs[bt])
            loss = (1.0 - cfg.kl) * nn.functional.cross_entropy(lg, ys[bt])
            if cfg.kl:  # KL-regularised adaptation: part of the target is the model's own posterior
                loss = loss - cfg.kl * (ss[bt] * torch.log_softmax(lg, 1)).sum(1).mean()
            return loss + cfg.l2 * sum(((p - start[id(p)]) ** 2).sum() for p in trainable)

        run_adam(trainable, batches, loss_of, epochs=epochs, lr=cfg.lr, after_epoch=lambda e: after_epoch(e, wrapped))
        for p in trainable:
            p.grad = None
        return net, wrapped, warp, int(sum(p.numel() for p in trainable))

    k = min(cfg.folds, n_utts) if cfg.folds >= 2 and n_utts > FEW_RECORDINGS else 0
    too_few = cfg.folds >= 2 and n_utts <= FEW_RECORDINGS  # nothing to check with: the model is kept
    steps = k * cfg.max_epochs + (cfg.max_epochs if k else cfg.epochs_unchecked if cfg.folds < 2 else 1)
    done = [0]

    def tick() -> None:
        done[0] += 1
        if progress is not None:
            progress(min(done[0], steps), steps)

    # Cross-validation: each recording is held back once (k folds, a seeded assignment); the copy
    # fitted on the other folds counts its speech frames right after every epoch.
    fold = np.random.default_rng(cfg.seed).permutation(n_utts) % k if k else np.zeros(n_utts, int)
    checked = scored(np.arange(len(y_all))) if k else np.zeros(0, int)
    cv_utt = np.zeros((cfg.max_epochs + 1, n_utts), dtype=np.int64)  # held-back frames right, per recording

    def per_recording(hits: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return np.bincount(frame_utt[idx], weights=hits, minlength=n_utts).astype(np.int64)

    for f in range(k):
        held = np.isin(frame_utt, np.flatnonzero(fold == f))
        fit_f, check_f = np.flatnonzero(~held), checked[held[checked]]  # the frames the model as it was is counted on

        def count(e: int, wrapped: _Adapted, check_f: np.ndarray = check_f) -> None:
            cv_utt[e] += per_recording(_hits(logits_of(wrapped, x_t[check_f]), y_all[check_f], info.targets), check_f)
            if e:
                tick()

        fit(fit_f, cfg.max_epochs, cfg.seed + 1 + f, count)
    cv_right = cv_utt.sum(1)
    base_utt = per_recording(_hits(base_logits[checked], y_all[checked], info.targets), checked)
    base_right = int(base_utt.sum()) if k else 0
    held_back, low = (), float("nan")
    if k:
        best_epoch = int(np.argmax(cv_right))  # the first of equal counts: the fewest epochs
        gain = (cv_right[best_epoch] - base_right) / max(len(checked), 1)
        frames_utt = np.bincount(frame_utt[checked], minlength=n_utts)
        held_back = tuple((int(n), int(b), int(a)) for n, b, a in zip(frames_utt, base_utt, cv_utt[best_epoch],
                                                                      strict=True))
        low = check_lower_bound(held_back, cfg.check_level, cfg.seed) if cfg.check_level > 0 else float("nan")
        reverted = bool(gain < cfg.min_gain or (cfg.check_level > 0 and not low >= 0))  # a NaN bound reverts
        if reverted:
            best_epoch = 0
    elif too_few:
        best_epoch, reverted = 0, True
    else:  # folds 0: asked for no check, a fixed number of epochs
        best_epoch, reverted = cfg.epochs_unchecked, False
    every = np.arange(len(y_all))
    if reverted:  # the model as it was: nothing fitted, no warp
        net, wrapped, _ = fresh()
        warp, n_params = 1.0, int(sum(p.numel() for p in wrapped.parameters() if p.requires_grad))
    else:
        net, wrapped, warp, n_params = fit(every, best_epoch, cfg.seed, lambda e, w: tick() if e else None)
    if progress is not None:
        progress(steps, steps)
    after_logits = logits_of(wrapped, x_t)
    sp = scored(every)
    check_before = base_right / len(checked) if k else float("nan")
    check_after = (cv_right[best_epoch] / len(checked) if not reverted else check_before) if k else float("nan")
    fit_before, fit_after = right(base_logits, sp) / len(sp), right(after_logits, sp) / len(sp)
    net.requires_grad_(False)
    net.eval()
    if "input" in cfg.parts:
        fold_input_map(net, wrapped.A.detach(), wrapped.b.detach())
    if "lhuc" in cfg.parts:
        fold_lhuc(net, [2.0 * torch.sigmoid(r.detach()) for r in wrapped.lhuc])
    report = AdaptReport(
        parts=tuple(cfg.parts),
        n_parameters=n_params,
        fit_recordings=n_utts,
        fit_frames=len(y_all),
        check_recordings=n_utts if k else 0,
        check_frames=len(checked),
        fit_before=fit_before,
        fit_after=fit_after,
        check_before=check_before,
        check_after=check_after,
        epochs_run=cfg.max_epochs if k else 0 if too_few else cfg.epochs_unchecked,
        best_epoch=best_epoch,
        seconds=time.perf_counter() - t0,
        warp=warp,
        reverted=reverted,
        refit=bool(k and not reverted),
        folds=k,
        held_back=held_back,
        check_low=low,
    )
    config = {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(cfg).items()}
    adaptation = {
        **{k: v for k, v in report.to_dict().items() if k != "seconds"},
        "from_model": info.name,
        "config": config,
    }
    new_info = dataclasses.replace(
        info,
        name=f"{info.name}_adapted",
        description=f"{info.description} (adapted to a voice: {'+'.join(cfg.parts)})".strip(),
        training={**info.training, "adaptation": adaptation},
        metrics={
            "adaptation_check_accuracy": report.to_dict()["check_after"],
            "original_model_metrics": dict(info.metrics),
        },
    )
    return net, new_info, report


def adapted_logits(model: nn.Module, info: ModelInfo, x_raw_spliced: np.ndarray) -> np.ndarray:
    """(n, n_classes) logits of raw spliced frames through ``info``'s normaliser and the model."""
    with eval_mode(model), torch.no_grad():
        return model(torch.from_numpy(info.preprocess(x_raw_spliced))).numpy()


def save_adapted(model: nn.Module, info: ModelInfo, out_dir: str | Path) -> Path:
    """Save an adapted model (``adapt``'s first two results) with ``core.models.save_model``.

    The validation set stays the original model's; its path is written relative to ``assets/``
    when it lies there, else absolute, so it is found from the new folder too."""
    from core.models import save_model

    val = info.validation_path
    if val is not None:
        try:
            val = val.resolve().relative_to(ASSETS_DIR.resolve())
        except ValueError:
            val = val.resolve()
    meta = {
        "description": info.description,
        "features": info.features,
        "labels": list(info.labels),
        "targets": info.targets,
        "normalizer": info.normalizer,
        "validation": None if val is None else str(val),
        "data": info.data,
        "training": info.training,
        "metrics": info.metrics,
    }
    return save_model(model, out_dir, meta)


__all__ = [
    "FEW_RECORDINGS", "LABEL_TOLERANCE_S", "PARTS", "PART_NAMES", "WARPS", "WARP_FRAMES", "AdaptConfig", "AdaptError",
    "AdaptReport", "Labels", "Recording", "adapt", "adapted_logits", "fold_input_map", "fold_lhuc", "save_adapted",
    "warp_map", "warp_matrix",
]

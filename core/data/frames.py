"""The frames of a corpus: ``CorpusFrames`` (every frame of every utterance with its phone and
state labels) and its one npz format, the corpus cache's and the shipped validation sets'
(``save``, ``load``, ``npz_fingerprint``); ``CorpusError``, the error of every corpus module."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.features import FeatureConfig, SplicedFrames
from core.phones import ENGLISH, PhoneError, PhoneSet, phone_set_of
from core.text import N_, UserError


class CorpusError(UserError):
    """A corpus request a user can cause that cannot be met (unsupported language, no Festival, ...)."""



@dataclass(frozen=True, eq=False)
class CorpusFrames:
    """All frames of a corpus, utterances one after the other.

    feats (N, C) float32 raw (unnormalised) features; labels (N,) int16 indices into
    ``phone_set.phones`` (English unless the corpus names another);
    states (N,) int8 0/1/2 (third of the phone segment); utt_starts (U,) int64 first frame of
    each utterance; frame_utt (N,) int32 utterance of each frame; utt_ids, voices: (U,) tuples.
    """

    feats: np.ndarray
    labels: np.ndarray
    states: np.ndarray
    utt_starts: np.ndarray
    frame_utt: np.ndarray
    utt_ids: tuple[str, ...]
    voices: tuple[str, ...]
    cfg: FeatureConfig
    phone_set: PhoneSet = ENGLISH

    def __len__(self) -> int:
        return len(self.labels)

    def spliced(self) -> SplicedFrames:
        """Lazy (N, (2*context+1) * C) spliced view; splicing never crosses utterances."""
        return SplicedFrames(self.feats, self.utt_starts, self.cfg.context)

    def phone_counts(self) -> np.ndarray:
        """(len(phone_set),) int64 frames per phoneme class."""
        return np.bincount(self.labels, minlength=len(self.phone_set)).astype(np.int64)

    def save(
        self,
        path: str | Path,
        *,
        feats_dtype: type = np.float32,
        compress: bool = True,
        fingerprint: str | None = None,
    ) -> Path:
        """Write the frames npz (the format of the shipped validation sets), atomically.

        Arrays: feats (N, C) float16 or float32 raw features, labels (N,) int16 indices into
        ``phones``, states (N,) int8, utt_starts (U,) int64, utt_ids (U,) str, voices (U,) str,
        phones (41,) str (the phone set the labels index), features (the FeatureConfig as a JSON
        string); the corpus cache adds fingerprint (str). No pickle. ``frame_utt`` is rebuilt from
        utt_starts on load. Validation sets use float16 feats, compressed; the cache float32, plain.
        """
        path = Path(path)
        arrays = {
            "feats": np.asarray(self.feats).astype(feats_dtype), "labels": np.asarray(self.labels, np.int16),
            "states": np.asarray(self.states, np.int8), "utt_starts": np.asarray(self.utt_starts, np.int64),
            "utt_ids": np.asarray(self.utt_ids, dtype=str), "voices": np.asarray(self.voices, dtype=str),
            "phones": np.asarray(self.phone_set.phones, dtype=str),
            "features": np.asarray(json.dumps(self.cfg.to_dict(), sort_keys=True)),
        }
        if fingerprint is not None:
            arrays["fingerprint"] = np.asarray(fingerprint)
        tmp = path.with_name(path.name + ".tmp")
        try:
            with open(tmp, "wb") as f:
                (np.savez_compressed if compress else np.savez)(f, **arrays)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return path

    @classmethod
    def load(cls, path: str | Path) -> CorpusFrames:
        """Read a frames npz written by ``save`` (or a shipped validation set), checking every array:
        keys, dtypes, shapes, utt_starts increasing from 0 (every utterance at least one frame),
        labels and states in range, lengths consistent. CorpusError (one sentence naming the file)."""
        path = Path(path)

        def bad(why: str) -> CorpusError:
            return CorpusError(N_("{path} is not a valid frames file: {why}."), path=path, why=why)

        try:
            with np.load(path, allow_pickle=False) as z:
                a = {k: z[k] for k in z.files}
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise CorpusError(N_("{path} is not a readable frames npz ({detail})."), path=path, detail=_first_line(exc)) from None
        missing = [k for k in _NPZ_KEYS if k not in a]
        if missing:
            raise CorpusError(N_("{path} lacks the array {key!r}."), path=path, key=missing[0])
        for key, kinds, ndim in _NPZ_SPEC:
            if ("str" if a[key].dtype.kind == "U" else a[key].dtype.name) not in kinds:
                raise bad(f"{key} is {a[key].dtype}, not {' or '.join(kinds)}")
            if a[key].ndim != ndim:
                raise bad(f"{key} has {a[key].ndim} dimensions, not {ndim}")
        try:
            cfg = FeatureConfig.from_dict(json.loads(str(a["features"])))
        except (ValueError, TypeError, KeyError) as exc:
            raise bad(f"its feature settings are unusable ({_first_line(exc)})") from None
        feats, starts, labels, states = a["feats"], a["utt_starts"], a["labels"], a["states"]
        n, u = len(feats), len(starts)
        if feats.shape[1] != cfg.n_channels:
            raise bad(f"feats has {feats.shape[1]} channels but its features have {cfg.n_channels}")
        if len(labels) != n or len(states) != n:
            raise bad(f"feats, labels and states have {n}, {len(labels)} and {len(states)} frames")
        if len(a["utt_ids"]) != u or len(a["voices"]) != u:
            raise bad(
                f"utt_starts, utt_ids and voices list {u}, {len(a['utt_ids'])} and {len(a['voices'])} utterances"
            )
        if (n > 0) != (u > 0) or (u and (starts[0] != 0 or np.any(np.diff(starts) <= 0) or starts[-1] >= n)):
            raise bad("utt_starts do not increase from 0 within the frames")
        try:
            phone_set = phone_set_of(a["phones"])
        except PhoneError:
            raise bad("its phone set is not this program's") from None
        if n and (labels.min() < 0 or labels.max() >= len(phone_set)):
            raise bad(f"labels lie outside 0..{len(phone_set) - 1}")
        if n and (states.min() < 0 or states.max() > 2):
            raise bad("states lie outside 0..2")
        return cls(
            feats=feats.astype(np.float32, copy=False),
            labels=labels,
            states=states,
            utt_starts=starts,
            frame_utt=np.repeat(np.arange(u, dtype=np.int32), np.diff(np.append(starts, n))),
            utt_ids=tuple(str(s) for s in a["utt_ids"]), voices=tuple(str(s) for s in a["voices"]), cfg=cfg,
            phone_set=phone_set,
        )


_NPZ_SPEC = (  # key, allowed dtypes, dimensions
    ("feats", ("float16", "float32"), 2),
    ("labels", ("int16",), 1),
    ("states", ("int8",), 1),
    ("utt_starts", ("int64",), 1),
    ("utt_ids", ("str",), 1),
    ("voices", ("str",), 1),
    ("phones", ("str",), 1),
    ("features", ("str",), 0),
)
_NPZ_KEYS = tuple(k for k, _, _ in _NPZ_SPEC)


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def npz_fingerprint(path: str | Path) -> str | None:
    """The ``fingerprint`` a frames npz was saved with (None: none, or the file is unreadable)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return str(z["fingerprint"]) if "fingerprint" in z.files else None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        return None



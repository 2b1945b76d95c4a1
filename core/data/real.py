"""Real English speech from Debian's packages, labelled by pocketsphinx: the real-speech set.

Everything the shipped networks know comes from synthetic voices; the dashboard's users bring real
ones. This module makes a labelled set of real recordings that any machine can rebuild offline, and
measures a model on it.

Sources (``SOURCES``; one per package folder, a speaker group each; a source whose package is
not installed is left out and named in the report):

- ``ktuberling_en`` (``ktuberling-data``): /usr/share/ktuberling/sounds/en/*.ogg, 72 words and short
  phrases; the text is the file name after its theme prefix (``pizzeria_anchovy`` = "anchovy"),
  with the spelling of six names fixed (``SPELLING``).
- ``klettres_en`` (``klettres-data``): /usr/share/klettres/en/syllab/*.ogg, short words; "ch" and
  "th" are the sounds of those letter pairs, not words, and are left out (``NOT_WORDS``).
- ``klettres_en_letters``: /usr/share/klettres/en/alpha/*.ogg, the letter names A-Z (the text is the
  letter; CMUdict reads "a" as EY or AH, pocketsphinx picks).
- ``klettres_en_gb`` : /usr/share/klettres/en_GB/syllab/*.ogg, short words, a British speaker.
  (en_GB/alpha holds letter *sounds*, not words: not used.)
- ``alsa`` (``alsa-utils``): /usr/share/sounds/alsa/*.wav, "Front Center" ... "Side Right" (not
  Noise.wav).

Each recording's runs of exact zeros at either end are cut off first, as the Your voice page does
(``core.audio.trim_digital_silence``: 28 % of the samples of a klettres en_GB file are such zeros).
Labels: ``core.voice.align.align_pocketsphinx`` of the known text (pocketsphinx's English acoustic model is
trained on real speech; median boundary error about 10 ms on CMU ARCTIC, docs/MODELS.md). A file it
cannot align is skipped and listed with the reason. The set is a corpus folder as ``core.data.synth``
writes one (``<id>.wav`` 16 kHz, ``<id>.lab``, ``manifest.csv`` with ``voice`` = the source name,
and ``source`` = the original file), plus ``skipped.csv`` and ``real.json`` (package versions).

Measures (``evaluate_real``), per source and over all, on the frames the alignment does not call
silence (what a listener would judge): *agreement*, the share whose network argmax is the aligned
phone, plain and with the posteriors averaged over the VTLN warps as the Your voice page does
(``core.voice.vtln.vtln_posteriors``); and the *phone error rate* of the decoded sequence
(``core.voice.align.decode``, silences dropped) against the aligned phones (Levenshtein distance over the
reference's length, summed over the recordings; ``core.phone_errors``).
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.text import N_, UserError

SHARE = Path("/usr/share")
SPELLING = {"palmtree": "palm tree", "fallingstar": "falling star", "sphynx": "sphinx",
            "broccolli": "broccoli", "moonwalker": "moon walker", "ufo": "u f o"}
"""ktuberling's file names whose text is spelled otherwise."""
NOT_WORDS = {"ch", "th"}
"""klettres' "syllables" that are the sound of a letter pair, not a word CMUdict could pronounce."""
DEFAULT_DIR = Path(__file__).resolve().parents[2] / "data" / "real_en"
"""Where ``evaluate --real`` finds (or builds) the set when no folder is given (not in git)."""


class RealSpeechError(UserError):
    """A real-speech set that cannot be built or read."""


@dataclass(frozen=True)
class RealSource:
    """One group of recordings: ``name`` (the manifest's voice), the Debian ``package``, the
    ``folder`` below /usr/share and the file ``pattern``; ``text`` turns a file's stem into what was said
    (None: not a word, left out)."""

    name: str
    package: str
    folder: str
    pattern: str
    text: Callable[[str], str | None]


def _ktuberling(stem: str) -> str:
    word = stem.split("_")[-1].lower()
    return SPELLING.get(word, word)


def _klettres(stem: str) -> str | None:
    word = stem.lower()
    return None if word in NOT_WORDS else word


def _alsa(stem: str) -> str | None:
    return None if stem.lower() == "noise" else stem.replace("_", " ").lower()


SOURCES = (
    RealSource("ktuberling_en", "ktuberling-data", "ktuberling/sounds/en", "*.ogg", _ktuberling),
    RealSource("klettres_en", "klettres-data", "klettres/en/syllab", "*.ogg", _klettres),
    RealSource("klettres_en_letters", "klettres-data", "klettres/en/alpha", "*.ogg", str.lower),
    RealSource("klettres_en_gb", "klettres-data", "klettres/en_GB/syllab", "*.ogg", _klettres),
    RealSource("alsa", "alsa-utils", "sounds/alsa", "*.wav", _alsa),
)
SOURCE_NAMES = tuple(s.name for s in SOURCES)


@dataclass(frozen=True)
class Recording:
    source: str
    path: Path
    text: str

    @property
    def uid(self) -> str:
        return f"{self.source}_{self.path.stem.lower()}"


def recordings(names: Sequence[str] | None = None, share: Path = SHARE) -> tuple[list[Recording], list[str]]:
    """(the recordings of the sources ``names`` (default all) found under ``share``, the names of the
    sources whose folder is missing)."""
    unknown = [n for n in (names or ()) if n not in SOURCE_NAMES]
    if unknown:
        raise RealSpeechError(N_("Unknown real-speech source {name}; the sources are {names}."),
                              name=unknown[0], names=", ".join(SOURCE_NAMES))
    out, missing = [], []
    for src in SOURCES:
        if names and src.name not in names:
            continue
        folder = Path(share) / src.folder
        files = sorted(folder.glob(src.pattern)) if folder.is_dir() else []
        if not files:
            missing.append(src.name)
        out += [Recording(src.name, f, t) for f in files if (t := src.text(f.stem))]
    return out, missing


def _package_versions(packages: Sequence[str]) -> dict[str, str]:
    out = {}
    for p in sorted(set(packages)):
        try:
            r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", p], capture_output=True, text=True, timeout=10)
            out[p] = r.stdout.strip() if r.returncode == 0 else "not installed"
        except (OSError, subprocess.SubprocessError):
            out[p] = "unknown"
    return out


@dataclass(frozen=True)
class BuildReport:
    folder: Path
    written: int
    seconds: float
    sources: dict[str, int]
    skipped: tuple[tuple[str, str], ...]
    missing: tuple[str, ...]


def build(out_dir: str | Path, names: Sequence[str] | None = None, *, share: Path = SHARE,
          progress: Callable[[int, int], None] | None = None) -> BuildReport:
    """Write the real-speech set of the sources ``names`` (default all) to ``out_dir`` (module
    docstring). ``out_dir`` must not hold a corpus yet."""
    from core.audio import SAMPLE_RATE, AudioError, load_audio, trim_digital_silence, write_wav
    from core.data.corpus import MANIFEST
    from core.phones import write_lab
    from core.voice.align import AlignError, align_pocketsphinx

    out = Path(out_dir)
    if (out / MANIFEST).exists():
        raise RealSpeechError(N_("{folder} already holds a corpus; choose a new folder."), folder=out)
    recs, missing = recordings(names, share)
    if not recs:
        pkgs = " ".join(sorted({s.package for s in SOURCES if not names or s.name in names}))
        raise RealSpeechError(N_("No real recordings found under {share}: install them with "
                                 "`apt-get install {packages}`."), share=share, packages=pkgs)
    out.mkdir(parents=True, exist_ok=True)
    rows, skipped, total = [], [], 0.0
    for k, r in enumerate(recs):
        try:
            audio = trim_digital_silence(load_audio(r.path))  # as the Your voice page does
            ali = align_pocketsphinx(audio, r.text)
        except (AudioError, AlignError) as exc:
            skipped.append((str(r.path), str(exc).splitlines()[0]))
            continue
        finally:
            if progress is not None:
                progress(k + 1, len(recs))
        write_wav(out / f"{r.uid}.wav", audio)
        write_lab(out / f"{r.uid}.lab", ali.phones)
        seconds = len(audio) / SAMPLE_RATE
        rows.append([r.uid, r.source, r.text, f"{seconds:.4f}", str(r.path)])
        total += seconds
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["id", "voice", "text", "seconds", "source"])
    w.writerows(rows)
    (out / "skipped.csv").write_text("file,reason\n" + "".join(f'"{f}","{why}"\n' for f, why in skipped),
                                     encoding="utf-8")
    counts = {s: sum(1 for row in rows if row[1] == s) for s in dict.fromkeys(r.source for r in recs)}
    meta = {"sources": counts, "missing": missing, "skipped": len(skipped), "seconds": round(total, 2),
            "labels": "pocketsphinx forced alignment of the known text (core.voice.align.align_pocketsphinx)",
            "packages": _package_versions([s.package for s in SOURCES if s.name in counts])}
    (out / "real.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
    tmp = out / (MANIFEST + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, out / MANIFEST)
    return BuildReport(out, len(rows), total, counts, tuple(skipped), tuple(missing))


# ---------------------------------------------------------------------------------------------
# Measuring a model on the set


@dataclass
class RealScore:
    """Counts of one source (or all): non-silence ``frames`` and how many the network got right,
    plain and VTLN-averaged; reference phones and the edit distance of the decoded sequence."""

    recordings: int = 0
    frames: int = 0
    right: int = 0
    right_vtln: int = 0
    phones: int = 0
    edits: int = 0
    edits_vtln: int = 0

    def add(self, other: RealScore) -> None:
        for k, v in asdict(other).items():
            setattr(self, k, getattr(self, k) + v)

    def figures(self) -> dict:
        f, p = max(self.frames, 1), max(self.phones, 1)
        return {"recordings": self.recordings, "frames": self.frames,
                "agreement": round(self.right / f, 4), "agreement_vtln": round(self.right_vtln / f, 4),
                "per": round(self.edits / p, 4), "per_vtln": round(self.edits_vtln / p, 4)}


@dataclass(frozen=True)
class RealEvaluation:
    """``per_source`` {source: figures}, ``overall`` (frames pooled), what the set is (its
    ``real.json``: recordings per source, package versions, seconds; no path, so a model's metadata
    reads the same on every machine), and the sources the model was trained on (not held out)."""

    per_source: dict[str, dict]
    overall: dict
    set_info: dict
    trained_on: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"per_source": self.per_source, "overall": self.overall, "set": self.set_info,
                "trained_on": list(self.trained_on)}


def score_recording(net, info, audio: np.ndarray, segments) -> RealScore:
    """The counts of one labelled recording (module docstring)."""
    from core.audio import SAMPLE_RATE
    from core.models.inference import phone_posteriors
    from core.phone_errors import phone_errors, phone_sequence
    from core.phones import frame_labels
    from core.voice.align import decode
    from core.voice.vtln import vtln_posteriors

    phones = list(info.phones)
    sil = info.phone_set.silence
    plain = phone_posteriors(net, info, audio)
    averaged = vtln_posteriors(net, info, audio)[1]
    y = frame_labels(segments, len(plain), phone_set=info.phone_set).astype(np.int64)
    # the model's phone index of each label (a model's phones are its phone set's, in its order)
    index = np.array([phones.index(p) if p in phones else -1 for p in info.phone_set.phones])
    y = index[y]
    speech = y != phones.index(sil)
    ref = phone_sequence(segments, sil)
    duration = len(audio) / SAMPLE_RATE
    s = RealScore(recordings=1, frames=int(speech.sum()), phones=len(ref))
    s.right = int((plain.argmax(1) == y)[speech].sum())
    s.right_vtln = int((averaged.argmax(1) == y)[speech].sum())
    s.edits = phone_errors(ref, phone_sequence([d.segment for d in decode(plain, duration, phones)], sil)).edits
    s.edits_vtln = phone_errors(ref, phone_sequence([d.segment for d in decode(averaged, duration, phones)], sil)).edits
    return s


def trained_sources(info) -> tuple[str, ...]:
    """The real-speech sources a model was trained on (its metadata's ``data.real_sources``)."""
    return tuple((info.data or {}).get("real_sources", ()) or ())


def evaluate_real(net, info, folder: str | Path = DEFAULT_DIR,
                  progress: Callable[[int, int], None] | None = None) -> RealEvaluation:
    """A speech model on the real-speech set in ``folder`` (module docstring)."""
    from core.audio import load_audio
    from core.data.corpus import MANIFEST, read_manifest
    from core.phones import ENGLISH, read_lab

    folder = Path(folder)
    if info.kind != "speech":
        raise RealSpeechError(N_("{model} is not a speech model."), model=info.name)
    if info.phone_set is not ENGLISH:
        raise RealSpeechError(N_("The real-speech set is English; {model} is a model of {language}."),
                              model=info.name, language=info.phone_set.language)
    if not (folder / MANIFEST).exists():
        raise RealSpeechError(N_("{folder} holds no real-speech set; make it with "
                                 "`python -m core real-voices build --out {folder}`."), folder=folder)
    rows = read_manifest(folder)
    scores: dict[str, RealScore] = {}
    for k, row in enumerate(rows):
        audio = load_audio(folder / f"{row['id']}.wav", max_seconds=float("inf"))
        segs = read_lab(folder / f"{row['id']}.lab")
        scores.setdefault(row["voice"], RealScore()).add(score_recording(net, info, audio, segs))
        if progress is not None:
            progress(k + 1, len(rows))
    total = RealScore()
    for s in scores.values():
        total.add(s)
    meta = folder / "real.json"
    set_info = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
    set_info = {k: set_info[k] for k in ("sources", "packages", "seconds", "labels") if k in set_info}
    return RealEvaluation({v: s.figures() for v, s in scores.items()}, total.figures(), set_info,
                          trained_sources(info))


def held_out_sources(info) -> dict[str, dict]:
    """Per real source, a speech model's figures on speech it was not trained on, from its metadata:
    the sources of ``real_speech`` (``evaluate --real --write``) it was not trained on; for a model
    trained on every one of them, ``real_speech_heldout`` (``bench/real.py --write-heldout``: each
    source measured on the same recipe trained without it). Empty without either."""
    metrics = info.metrics or {}
    real = metrics.get("real_speech") or {}
    held = {s: v for s, v in (real.get("per_source") or {}).items() if s not in set(real.get("trained_on", ()))}
    return held or dict((metrics.get("real_speech_heldout") or {}).get("per_source") or {})


def held_out_by_recipe(info) -> bool:
    """True when ``held_out_sources`` are the recipe's leave-one-source-out figures (the model itself
    was trained on every real source), not the model's own."""
    real = (info.metrics or {}).get("real_speech") or {}
    own = [s for s in (real.get("per_source") or {}) if s not in set(real.get("trained_on", ()))]
    return not own and bool(((info.metrics or {}).get("real_speech_heldout") or {}).get("per_source"))


def pooled(per_source: dict[str, dict]) -> dict | None:
    """Agreement plain and with VTLN over several sources' frames together (None: no frames)."""
    frames = sum(v["frames"] for v in per_source.values())
    if not frames:
        return None
    return {"frames": frames, "recordings": sum(v.get("recordings", 0) for v in per_source.values()),
            "agreement": round(sum(v["agreement"] * v["frames"] for v in per_source.values()) / frames, 4),
            "agreement_vtln": round(sum(v["agreement_vtln"] * v["frames"] for v in per_source.values()) / frames, 4)}


def vtln_evidence(info) -> tuple[float, float] | None:
    """(agreement plain, agreement with VTLN) of a speech model on real speech it was *not* trained on
    (``held_out_sources``, frames pooled); None without it."""
    p = pooled(held_out_sources(info))
    return None if p is None else (p["agreement"], p["agreement_vtln"])


def vtln_by_default(info) -> bool:
    """VTLN is on by default (Your voice) only for a model whose held-out real-speech agreement it
    raises (``vtln_evidence``); without that evidence it is off."""
    ev = vtln_evidence(info)
    return ev is not None and ev[1] > ev[0]

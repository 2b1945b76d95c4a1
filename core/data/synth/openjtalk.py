"""A phoneme-aligned Japanese corpus, synthesised with Open JTalk (``python -m core synth --lang ja``).

- Sentences: ``core.data.synth.sentences_ja.make_sentences_ja`` (frequent words + nonsense words covering
  every mora).
- Synthesiser: Debian's ``open_jtalk`` with its NAIST-jdic dictionary (``apt-get install
  open-jtalk open-jtalk-mecab-naist-jdic``) and every HTS voice file that pyopenjtalk-plus ships
  (``pyopenjtalk/htsvoice/*.htsvoice``; version 0.4.1.post10 ships one, ``mei_normal``), found
  on disk without importing pyopenjtalk. Utterance ``n`` is spoken by voice ``n % len(voices)``.
- Speaker variety (Open JTalk honours all three): all-pass constant ``-a`` from ``ALPHAS`` (the
  frequency warping of the vocoder: a larger value sounds like a longer vocal tract; the voice's
  own value is 0.55 at 48 kHz), half-tone shift ``-fm`` from ``HALF_TONES`` (pitch), both drawn
  from these grids so that a whole setting can be held out (leave-one-setting-out, docs/MODELS.md),
  and speed ``-r`` uniform in 0.85-1.2 (> 1 faster). Then the same speaker warp as the English
  corpus: the 48 kHz waveform is read as if recorded at ``k`` times its rate, k = 0.95-1.05, and
  resampled to 16 kHz (pitch and formants x k, durations and label times / k).
- The manifest's ``voice`` is the voice and its setting, e.g. ``mei_normal_a55_fm-2`` (alpha 0.55,
  -2 half-tones), so ``--voices`` / ``--valid-voices`` of ``train speech`` and ``evaluate`` select
  settings; extra columns ``alpha, half_tones, speed, warp_pct`` say the rest.
- Labels: the ``[Output label]`` section of Open JTalk's ``-ot`` trace: ``START END FULLCONTEXT``
  per phoneme in 100 ns units; the phoneme is between ``-`` and ``+`` of the full-context label.
  The times are the synthesiser's own, so the alignment is exact (they are multiples of its
  5 ms frame and the last end is the audio's length). Phones go through ``JAPANESE.to_phone``
  (devoiced ``I``/``U`` -> ``i``/``u``, ``pau`` -> ``sil``; adjacent silences merged).

Output in ``out_dir`` as for English: ``<id>.wav`` (16 kHz mono 16-bit PCM), ``<id>.lab``
(``core.phones`` format), ``manifest.csv`` (``id,voice,text,seconds`` + the columns above), and
``corpus.json`` (``{"lang": "ja", "phone_set": "ja"}``: ``core.data.corpus.load_corpus`` reads the
labels with the Japanese phone set). Ids ``ja_s{seed}_{n:05d}``. One ``open_jtalk`` process per
utterance (about 0.3 s of CPU each), ``workers`` at a time; the output depends only on the seed.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio import SAMPLE_RATE, resample
from core.phones import JAPANESE, Segment, write_lab
from core.data.synth.sentences_ja import make_sentences_ja
from core.text import UserError

APT_PACKAGES = "open-jtalk open-jtalk-mecab-naist-jdic"
DICTIONARY = Path("/var/lib/mecab/dic/open-jtalk/naist-jdic")
ALPHAS = (0.50, 0.55, 0.60)
HALF_TONES = (-3, 0, 3)
SPEED_RANGE = (0.85, 1.2)
WARP_RANGE = (-5, 5)  # percent, inclusive
CORPUS_INFO = "corpus.json"
MANIFEST = "manifest.csv"
_TICKS = 10_000_000
_CONTEXT = re.compile(r"^[^-]*-([^+]+)\+")

Progress = Callable[[int, int], None]


class SynthError(UserError):
    """A Japanese synthesis request that cannot be met (no Open JTalk, no voice, a failed utterance)."""


def voice_files() -> dict[str, Path]:
    """Every HTS voice pyopenjtalk-plus ships, by name (file stem), sorted; {} if it is not installed."""
    spec = importlib.util.find_spec("pyopenjtalk")
    if spec is None or not spec.submodule_search_locations:
        return {}
    folder = Path(next(iter(spec.submodule_search_locations))) / "htsvoice"
    return {p.stem: p for p in sorted(folder.glob("*.htsvoice")) if _is_voice(p)}


def _is_voice(path: Path) -> bool:
    """An HTS voice file starts with ``[GLOBAL]`` (the package also ships ``LICENSE_*.htsvoice`` texts)."""
    with path.open("rb") as f:
        return f.read(8) == b"[GLOBAL]"


def _tools() -> tuple[str, dict[str, Path]]:
    binary = shutil.which("open_jtalk")
    if binary is None or not DICTIONARY.is_dir():
        raise SynthError(
            f"Open JTalk is not installed; install it with: sudo apt-get install {APT_PACKAGES}."
        )
    voices = voice_files()
    if not voices:
        raise SynthError("No HTS voice found; install pyopenjtalk-plus (requirements.txt).")
    return binary, voices


@dataclass(frozen=True)
class JaUtt:
    """One planned utterance: its text, voice and the synthesiser settings."""

    uid: str
    voice: str
    text: str
    alpha: float = 0.55
    half_tones: int = 0
    speed: float = 1.0
    warp_pct: int = 0

    @property
    def setting(self) -> str:
        """The manifest's voice name: voice, alpha x 100 and half-tones, e.g. ``mei_normal_a55_fm+0``."""
        return f"{self.voice}_a{round(self.alpha * 100)}_fm{self.half_tones:+d}"


def plan(n_utts: int, seed: int, voices: Sequence[str]) -> list[JaUtt]:
    """The utterances of a corpus: texts, voices in turn, settings drawn by ``default_rng([seed, 3])``."""
    texts = make_sentences_ja(n_utts, seed)
    rng = np.random.default_rng([seed, 3])
    out = []
    for n, text in enumerate(texts):
        a = ALPHAS[int(rng.integers(len(ALPHAS)))]
        fm = HALF_TONES[int(rng.integers(len(HALF_TONES)))]
        speed = round(float(SPEED_RANGE[0] + (SPEED_RANGE[1] - SPEED_RANGE[0]) * rng.random()), 3)
        warp = int(rng.integers(WARP_RANGE[0], WARP_RANGE[1] + 1))
        out.append(JaUtt(f"ja_s{seed}_{n:05d}", voices[n % len(voices)], text, a, fm, speed, warp))
    return out


def read_trace(path: str | Path) -> list[Segment]:
    """Segments of an Open JTalk ``-ot`` trace (``[Output label]`` section), raw phone names, seconds."""
    lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        first = lines.index("[Output label]") + 1
    except ValueError:
        raise SynthError(f"{Path(path).name} has no [Output label] section.") from None
    segs = []
    for line in lines[first:]:
        fields = line.split()
        if len(fields) != 3:
            break
        m = _CONTEXT.match(fields[2])
        if m is None:
            raise SynthError(f"Unreadable Open JTalk label {fields[2][:40]!r}.")
        segs.append(Segment(int(fields[0]) / _TICKS, int(fields[1]) / _TICKS, m.group(1)))
    if not segs:
        raise SynthError(f"{Path(path).name} lists no phonemes.")
    return segs


def to_classes(segs: Sequence[Segment]) -> list[Segment]:
    """Raw Open JTalk segments -> classes of ``JAPANESE``; neighbouring silences merged into one."""
    out: list[Segment] = []
    for s in segs:
        phone = JAPANESE.to_phone(s.phone)
        if out and phone == JAPANESE.silence == out[-1].phone:
            out[-1] = Segment(out[-1].start, s.end, phone)
        else:
            out.append(Segment(s.start, s.end, phone))
    return out


def _to_16k(path: Path, warp_pct: int) -> np.ndarray:
    """(n,) int16 at 16 kHz of a WAV read as if recorded at ``(1 + warp_pct/100)`` times its rate."""
    data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    y = resample(data[:, 0].astype(np.float64), sr * (100 + warp_pct), SAMPLE_RATE * 100, dtype=np.float64)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def speak(utt: JaUtt, out_dir: Path, binary: str, voices: dict[str, Path], resume: bool = False) -> float:
    """Synthesise one utterance into ``out_dir`` (``<uid>.wav``, ``<uid>.lab``); returns its seconds.

    resume: keep an existing pair (the .lab is written after the .wav, so a .lab means both are
    complete) and only return its length."""
    if resume and (out_dir / f"{utt.uid}.lab").is_file() and (out_dir / f"{utt.uid}.wav").is_file():
        return sf.info(str(out_dir / f"{utt.uid}.wav")).frames / SAMPLE_RATE
    with tempfile.TemporaryDirectory(prefix="dnnlens_ja_") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "in.txt").write_text(utt.text + "\n", encoding="utf-8")
        cmd = [
            binary,
            "-x",
            str(DICTIONARY),
            "-m",
            str(voices[utt.voice]),
            "-ow",
            str(tmp / "out.wav"),
            "-ot",
            str(tmp / "trace.txt"),
            "-a",
            f"{utt.alpha}",
            "-fm",
            f"{utt.half_tones}",
            "-r",
            f"{utt.speed}",
            str(tmp / "in.txt"),
        ]
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0 or not (tmp / "out.wav").is_file():
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            raise SynthError(f"Open JTalk failed on {utt.uid} ({detail[-1] if detail else proc.returncode}).")
        k = 1.0 + utt.warp_pct / 100.0
        segs = [Segment(s.start / k, s.end / k, s.phone) for s in to_classes(read_trace(tmp / "trace.txt"))]
        audio = _to_16k(tmp / "out.wav", utt.warp_pct)
    sf.write(str(out_dir / f"{utt.uid}.wav"), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
    write_lab(out_dir / f"{utt.uid}.lab", segs)
    return len(audio) / SAMPLE_RATE


def synthesize_ja(
    out_dir: str | Path,
    n_utts: int,
    seed: int = 0,
    voices: Sequence[str] | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
    resume: bool = False,
) -> Path:
    """Synthesise ``n_utts`` aligned Japanese utterances into ``out_dir``; returns the manifest path.

    voices: names from ``voice_files()`` (default: all of them). progress: ``progress(done, n_utts)``
    every 25 utterances and at the end. workers: processes at a time (default min(2, CPUs)); the
    output does not depend on it. resume: keep utterances an interrupted run of the same seed
    already wrote (utterance n is the same for any ``n_utts``: texts and settings are drawn in
    order), so a corpus can be grown or finished later.
    """
    if n_utts < 1:
        raise SynthError("The number of utterances must be at least 1.")
    binary, files = _tools()
    voices = tuple(voices) if voices else tuple(files)
    unknown = [v for v in voices if v not in files]
    if unknown:
        raise SynthError(f"Unknown Japanese voice {unknown[0]!r}; choose from {', '.join(files)}.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = out_dir / MANIFEST
    manifest.unlink(missing_ok=True)  # an interrupted run leaves no manifest that lies
    utts = plan(n_utts, seed, voices)
    workers = max(1, workers or min(2, os.cpu_count() or 1))
    seconds = []
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for done, dur in enumerate(
            pool.map(lambda u: speak(u, out_dir, binary, files, resume), utts), start=1
        ):
            seconds.append(dur)
            if progress is not None and (done % 25 == 0 or done == n_utts):
                progress(done, n_utts)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "voice", "text", "seconds", "alpha", "half_tones", "speed", "warp_pct"])
    for u, dur in zip(utts, seconds, strict=True):
        writer.writerow([u.uid, u.setting, u.text, f"{dur:.4f}", u.alpha, u.half_tones, u.speed, u.warp_pct])
    (out_dir / CORPUS_INFO).write_text(json.dumps({"lang": "ja", "phone_set": "ja"}) + "\n", encoding="utf-8")
    tmp = manifest.with_name(MANIFEST + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, manifest)
    return manifest


def synthesize_texts_ja(
    out_dir: str | Path, items: Sequence[tuple[str, str]], voice: str | None = None
) -> list[Path]:
    """Speak chosen sentences with the voice's own settings: items are (id, text); writes
    ``<id>.wav`` and ``<id>.lab``; returns the WAV paths (the shipped samples)."""
    binary, files = _tools()
    voice = voice or next(iter(files))
    if voice not in files:
        raise SynthError(f"Unknown Japanese voice {voice!r}; choose from {', '.join(files)}.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for uid, text in items:
        speak(JaUtt(uid, voice, text), out_dir, binary, files)
    return [out_dir / f"{uid}.wav" for uid, _ in items]

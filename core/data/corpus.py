"""A phoneme-aligned speech corpus: synthesised with Festival and flite, loaded as labelled frames.

Synthesis (``synthesize``, ``python -m core synth``):

- Sentences: ``core.sentences.make_sentences`` (frequent words, biased towards rare phonemes).
- Utterance ``n`` is spoken by ``voices[n % len(voices)]`` (default ``DEFAULT_VOICES``: the seven
  voices with a recorded speaker; the ten eSpeak NG voices ``ESPEAK_VOICES`` on request). Festival: kal, ked (male diphone voices, 16 kHz), slt (female HTS voice, 32 kHz).
  flite (Debian's ``flite`` program): flite_awb (Scottish English male), flite_rms (US male),
  flite_slt (US female, the same ARCTIC speaker as Festival's slt but flite's own clustergen
  engine), flite_kal16 (the kal diphones through flite's engine); ``SPEAKERS`` records which voices
  share a recorded speaker. Each utterance has its own speaking rate, pitch and "speaker size":
  diphone voices ``Duration_Stretch`` 0.9-1.35 and an f0 mean of 85-135 Hz (std 10-24 Hz); slt
  ``-r`` (speed) 1/1.2-1/0.85 (Festival's HTS module ignores the other hts_engine options such
  as ``-fm`` and ``-a``: their output is byte-identical); flite ``--setf duration_stretch=``
  0.85-1.25 and ``--setf int_f0_target_mean=`` 85-135 Hz (150-210 Hz for flite_slt). Then every
  voice is warped: the waveform is resampled to 16 kHz (``scipy.signal.resample_poly``) as if it
  had been recorded at ``k`` times its rate, k = 0.95-1.05 (diphone, flite: 0.94-1.05) or
  0.92-1.04 (slt), which multiplies pitch and formants by k and divides durations, and the label
  times, by k.
- eSpeak NG (``core.espeak``, Debian's ``espeak-ng``): a formant synthesiser without a recorded
  speaker, ten voices ``espeak_*`` (US, Scottish and southern British accents; five male (one
  through the Klatt engine), five female); rate 175/stretch words per minute (stretch 0.85-1.25),
  eSpeak's pitch 30-70 and pitch range 30-80 (its 0-100 scales), warp k = 0.94-1.05 as above.
  Labels come from its phoneme events (``core.espeak`` gives the rules); ``SPEAKERS`` names them
  all ``espeak``.
- Labels are the synthesiser's own segment end times (Festival's ``utt.save.segs``, flite's
  ``-psdur`` output), so the timing is exact; phones are mapped through ``core.phones.to_phone``
  (Festival's radio phone set, which flite shares). flite's last end time can pass the audio's end
  by up to ~0.1 s: ends are clipped to the audio (``_flite_segments``).
- Festival utterances are synthesised in batches of one voice, one Festival process per batch
  (``festival -b`` on one Scheme file); flite runs one process per utterance (about 50 ms each);
  ``workers`` batches at a time. The batches depend only on the utterance numbers, so the same seed
  gives byte-identical files with any number of workers.
- A voice whose program or voice is not installed is refused before anything is written, with one
  sentence naming the Debian package (``flite -lv`` lists flite's voices).

Output in ``out_dir``: ``<id>.wav`` (16 kHz mono 16-bit PCM), ``<id>.lab`` (``core.phones``
format), ``manifest.csv`` (``id,voice,engine,text,seconds``; engine = festival | flite | espeak), ids ``en_s{seed}_{n:05d}``.

Japanese corpora are made by ``core.corpus_ja`` (Open JTalk); a corpus names its phone set in
``corpus.json`` (``{"phone_set": "ja"}``), and a corpus without that file is English.

Loading (``load_corpus``): every frame of every utterance with its phoneme and state labels, cached
in ``<corpus>/.frames_<kind>_<hash of the FeatureConfig>.npz`` (``CorpusFrames.save``'s format, the
one of the shipped validation sets, float32 and uncompressed, plus a fingerprint); the cache is rebuilt when it is
missing, unreadable or its fingerprint differs: SHA-256 of ``manifest.csv``'s bytes and of the size
and modification time (``os.stat``, ns) of every utterance's .wav and .lab, so a replaced, edited or
deleted file is read again (and a bad one raises CorpusError).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from core import espeak
from core.audio import SAMPLE_RATE, resample
from core.features import FeatureConfig, SplicedFrames, extract, n_frames_for
from core.phones import (
    ENGLISH,
    PhoneError,
    PhoneSet,
    Segment,
    frame_labels,
    frame_states,
    get_phone_set,
    phone_set_of,
    read_festival_segs,
    read_lab,
    to_phone,
    write_lab,
)
from core.sentences import make_sentences
from core.text import N_, UserError

MANIFEST = "manifest.csv"
APT_PACKAGES = "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts flite"

# Voice per short name: (Festival Scheme command or flite voice name, Debian package, kind of
# variation). Kinds "diphone" and "hts" are Festival voices, "flite" the flite program's.
VOICES: dict[str, tuple[str, str, str]] = {
    "kal": ("(voice_kal_diphone)", "festvox-kallpc16k", "diphone"),
    "ked": ("(voice_ked_diphone)", "festvox-kdlpc16k", "diphone"),
    "slt": ("(voice_cmu_us_slt_arctic_hts)", "festvox-us-slt-hts", "hts"),
    "flite_awb": ("awb", "flite", "flite"),
    "flite_rms": ("rms", "flite", "flite"),
    "flite_slt": ("slt", "flite", "flite"),
    "flite_kal16": ("kal16", "flite", "flite"),
    # eSpeak NG (core.espeak): a formant synthesiser, no recorded speaker; voice variants of both
    # sexes, the Klatt engine and three accents (US, Scottish, southern British)
    "espeak_m1": ("en-us+m1", "espeak-ng", "espeak"),
    "espeak_m3": ("en-us+m3", "espeak-ng", "espeak"),
    "espeak_m7": ("en-us+m7", "espeak-ng", "espeak"),
    "espeak_klatt": ("en-us+klatt", "espeak-ng", "espeak"),
    "espeak_f1": ("en-us+f1", "espeak-ng", "espeak"),
    "espeak_f2": ("en-us+f2", "espeak-ng", "espeak"),
    "espeak_annie": ("en-us+Annie", "espeak-ng", "espeak"),
    "espeak_nyc_f3": ("en-us-nyc+f3", "espeak-ng", "espeak"),
    "espeak_sc_m2": ("en-gb-scotland+m2", "espeak-ng", "espeak"),
    "espeak_gb_f4": ("en+f4", "espeak-ng", "espeak"),
}
# The voices of the shipped English corpus (`synth` without --voices): the seven with a recorded speaker.
DEFAULT_VOICES: tuple[str, ...] = ("kal", "ked", "slt", "flite_awb", "flite_rms", "flite_slt", "flite_kal16")
ESPEAK_VOICES: tuple[str, ...] = tuple(v for v in VOICES if VOICES[v][2] == "espeak")
ENGINES = {"diphone": "festival", "hts": "festival", "flite": "flite", "espeak": "espeak"}
# The recorded speaker behind each voice: Festival's kal diphones and flite's kal16 come from the same
# diphone recordings, Festival's slt (HTS) and flite's slt (clustergen) from the same CMU ARCTIC
# speaker. Leave-one-voice-out (bench/voices.py) leaves the whole speaker out.
SPEAKERS: dict[str, str] = {
    "kal": "kal",
    "ked": "ked",
    "slt": "slt",
    "flite_awb": "awb",
    "flite_rms": "rms",
    "flite_slt": "slt",
    "flite_kal16": "kal",
    **{v: "espeak" for v in ("espeak_m1", "espeak_m3", "espeak_m7", "espeak_klatt", "espeak_f1", "espeak_f2",
                             "espeak_annie", "espeak_nyc_f3", "espeak_sc_m2", "espeak_gb_f4")},
}
# flite voices: f0 target mean range in Hz (their own mean is about 100-110 Hz male, 170 Hz female)
FLITE_F0 = {"flite_slt": (150.0, 210.0)}
FLITE_F0_MALE = (85.0, 135.0)
ESPEAK_PITCH = (30.0, 70.0)  # eSpeak's base pitch (0-100, default 50; the variant sets the Hz it means)
ESPEAK_RANGE = (30.0, 80.0)  # eSpeak's pitch range (0-100, default 50)
ESPEAK_WPM = 175  # eSpeak's default rate; an utterance's rate is ESPEAK_WPM / stretch words per minute
BATCH_SIZE = {"diphone": 50, "hts": 25, "flite": 50, "espeak": 100}  # utterances per batch (~0.05-4 s each here)

Progress = Callable[[int, int], None]


class CorpusError(UserError):
    """A corpus request a user can cause that cannot be met (unsupported language, no Festival, ...)."""


# ---------------------------------------------------------------------------------------------
# Synthesis


@dataclass(frozen=True)
class _Utt:
    uid: str
    voice: str
    text: str
    stretch: float  # duration factor (> 1 = slower)
    f0_mean: float  # diphone, flite voices: target f0 mean and std in Hz (the HTS voice keeps its own;
    # espeak voices: eSpeak's pitch and range, 0-100)
    f0_std: float
    warp_pct: int  # speaker warp k = 1 + warp_pct/100: pitch and formants x k, durations / k


def _plan(n_utts: int, seed: int, voices: Sequence[str]) -> list[_Utt]:
    texts = make_sentences(n_utts, seed)
    rng = np.random.default_rng([seed, 1])
    utts = []
    for n, text in enumerate(texts):
        voice = voices[n % len(voices)]
        u = rng.random(3)
        kind = VOICES[voice][2]
        f0_lo, f0_hi = FLITE_F0.get(voice, FLITE_F0_MALE)
        if kind == "diphone":
            stretch, warp = 0.9 + 0.45 * u[0], int(rng.integers(-5, 6))
        elif kind == "flite":
            stretch, warp = 0.85 + 0.4 * u[0], int(rng.integers(-6, 6))
        elif kind == "espeak":  # f0_mean, f0_std: eSpeak's pitch and range, 0-100 scales
            stretch, warp = 0.85 + 0.4 * u[0], int(rng.integers(-6, 6))
            f0_lo, f0_hi = ESPEAK_PITCH
        else:
            stretch, warp = 0.85 + 0.35 * u[0], int(rng.integers(-8, 5))
        utts.append(
            _Utt(
                f"en_s{seed}_{n:05d}",
                voice,
                text,
                round(stretch, 3),
                round(f0_lo + (f0_hi - f0_lo) * u[1], 1),
                round(ESPEAK_RANGE[0] + (ESPEAK_RANGE[1] - ESPEAK_RANGE[0]) * u[2], 1)
                if kind == "espeak"
                else round(10.0 + 14.0 * u[2], 1),
                warp,
            )
        )
    return utts


def _scheme_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _scheme(voice: str, utts: Sequence[_Utt], tmp: Path) -> str:
    select, _, kind = VOICES[voice]
    lines = [select]
    if kind == "hts":
        lines.append("(set! dnnlens_hts_base hts_engine_params)")
    for u in utts:
        if kind == "diphone":
            lines.append(f"(Parameter.set 'Duration_Stretch {u.stretch})")
            lines.append(
                f"(set! int_lr_params '((target_f0_mean {u.f0_mean}) (target_f0_std {u.f0_std}) "
                "(model_f0_mean 170) (model_f0_std 34)))"
            )
        else:  # Festival's HTS module reads only -m and -r from hts_engine_params
            lines.append(
                f'(set! hts_engine_params (append dnnlens_hts_base (list \'("-r" {1 / u.stretch:.4f}))))'
            )
        lines += [
            f"(set! utt (Utterance Text {_scheme_string(u.text)}))",
            "(utt.synth utt)",
            f"(utt.save.wave utt {_scheme_string(str(tmp / (u.uid + '.wav')))} 'riff)",
            f"(utt.save.segs utt {_scheme_string(str(tmp / (u.uid + '.segs')))})",
        ]
    return "\n".join(lines) + "\n"


def _to_16k(path: Path, warp_pct: int = 0) -> np.ndarray:
    """(n,) int16 samples at 16 kHz of a Festival WAV, played ``1 + warp_pct/100`` times faster.

    Reading a signal recorded at ``sr`` as if it were at ``sr * k`` multiplies pitch and formant
    frequencies by k and divides durations by k (a shorter or longer vocal tract, a different
    speaker); the labels are divided by k too, so the alignment stays exact. The warped rate is
    ``sr * (100 + warp_pct) / 100``, so both rates go to ``core.audio.resample`` times 100 (integers).
    """
    data, sr = sf.read(str(path), dtype="int16", always_2d=True)
    return _warp_to_16k(data[:, 0], sr, warp_pct)


def _warp_to_16k(data: np.ndarray, sr: int, warp_pct: int) -> np.ndarray:
    """``_to_16k`` of int16 samples ``data`` at ``sr`` Hz."""
    if SAMPLE_RATE * 100 == sr * (100 + warp_pct):
        return data
    y = resample(data.astype(np.float64), sr * (100 + warp_pct), SAMPLE_RATE * 100, dtype=np.float64)
    return np.clip(np.round(y), -32768, 32767).astype(np.int16)


def _flite_segments(stdout: str, duration: float, uid: str) -> list[Segment]:
    """Segments from ``flite -psdur``'s ``phone:end`` tokens (seconds), mapped to ``PHONES``.

    The first segment starts at 0, each next one at the previous end. flite's last end time can
    pass the end of the audio it writes (by up to ~0.1 s for kal16): ends are clipped to the
    audio's duration and segments that would start at or after it are dropped.
    """
    segs: list[Segment] = []
    start = 0.0
    for tok in stdout.split():
        name, sep, end_s = tok.rpartition(":")
        try:
            end = float(end_s)
        except ValueError:
            end = float("nan")
        if not sep or not name or not np.isfinite(end):
            raise CorpusError(f"flite printed an unexpected segment {tok!r} for utterance {uid}.")
        end = min(end, duration)
        if end <= start:
            continue
        try:
            phone = to_phone(name)
        except PhoneError as exc:
            raise CorpusError(f"flite utterance {uid}: {exc}") from None
        segs.append(Segment(start, end, phone))
        start = end
    if not segs:
        raise CorpusError(f"flite printed no segments for utterance {uid}.")
    if start < duration:  # audio after the last segment end: silence
        last = segs[-1]
        if last.phone == "sil":
            segs[-1] = Segment(last.start, duration, "sil")
        else:
            segs.append(Segment(start, duration, "sil"))
    return segs


def flite_voices(flite: str) -> list[str]:
    """Voices the installed flite speaks (``flite -lv``)."""
    out = subprocess.run([flite, "-lv"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    line = (out.stdout + out.stderr).strip()
    return line.split(":", 1)[1].split() if ":" in line else []


def _run_flite_batch(voice: str, utts: Sequence[_Utt], out_dir: Path, flite: str) -> list[tuple[_Utt, float]]:
    """One flite process per utterance: ``flite -voice V -psdur --setf duration_stretch=S --setf
    int_f0_target_mean=HZ -t TEXT -o F.wav``; labels from the printed segment end times."""
    name = VOICES[voice][0]
    done = []
    with tempfile.TemporaryDirectory(prefix="dnnlens_flite_") as tmp_name:
        tmp = Path(tmp_name)
        for u in utts:
            wav = tmp / (u.uid + ".wav")
            proc = subprocess.run(
                [
                    flite,
                    "-voice",
                    name,
                    "-psdur",
                    "--setf",
                    f"duration_stretch={u.stretch}",
                    "--setf",
                    f"int_f0_target_mean={u.f0_mean}",
                    "-t",
                    u.text,
                    "-o",
                    str(wav),
                ],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode != 0 or not wav.is_file():
                err = (proc.stderr or proc.stdout).strip().splitlines()
                raise CorpusError(
                    f"flite failed on utterance {u.uid} ({err[-1] if err else proc.returncode})."
                )
            raw_dur = sf.info(str(wav)).duration
            segs = _flite_segments(proc.stdout, raw_dur, u.uid)
            audio = _to_16k(wav, u.warp_pct)
            sf.write(str(out_dir / (u.uid + ".wav")), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
            k = 1.0 + u.warp_pct / 100.0
            dur = len(audio) / SAMPLE_RATE
            segs = [Segment(s.start / k, min(s.end / k, dur), s.phone) for s in segs if s.start / k < dur]
            write_lab(out_dir / (u.uid + ".lab"), segs)
            done.append((u, dur))
    return done


def _run_espeak_batch(voice: str, utts: Sequence[_Utt], out_dir: Path, program: str) -> list[tuple[_Utt, float]]:
    """One child process per batch, ``python -m core.espeak BATCH.json`` (the library keeps global
    state and is not thread-safe); labels from its phoneme events (``core.espeak``)."""
    name = VOICES[voice][0]
    done = []
    with tempfile.TemporaryDirectory(prefix="dnnlens_espeak_") as tmp_name:
        tmp = Path(tmp_name)
        spec = {
            "dir": str(tmp),
            "utts": [
                {
                    "uid": u.uid,
                    "voice": name,
                    "text": u.text,
                    "rate": round(ESPEAK_WPM / u.stretch),
                    "pitch": round(u.f0_mean),
                    "range": round(u.f0_std),
                }
                for u in utts
            ],
        }
        (tmp / "batch.json").write_text(json.dumps(spec), encoding="utf-8")
        env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        proc = subprocess.run(
            [program, "-m", "core.espeak", str(tmp / "batch.json")],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        if proc.returncode != 0:
            err = proc.stderr.strip().splitlines()
            raise CorpusError(f"eSpeak NG failed on voice {voice} ({err[-1] if err else proc.returncode}).")
        for u in utts:
            raw = np.fromfile(tmp / f"{u.uid}.raw", dtype=np.int16)
            segs = [Segment(a, b, p) for a, b, p in json.loads((tmp / f"{u.uid}.json").read_text(encoding="utf-8"))]
            audio = _warp_to_16k(raw, espeak.SAMPLE_RATE, u.warp_pct)
            sf.write(str(out_dir / (u.uid + ".wav")), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
            k = 1.0 + u.warp_pct / 100.0
            dur = len(audio) / SAMPLE_RATE
            segs = [Segment(s.start / k, min(s.end / k, dur), s.phone) for s in segs if s.start / k < dur]
            write_lab(out_dir / (u.uid + ".lab"), segs)
            done.append((u, dur))
    return done


def _run_batch(voice: str, utts: Sequence[_Utt], out_dir: Path, festival: str) -> list[tuple[_Utt, float]]:
    with tempfile.TemporaryDirectory(prefix="dnnlens_synth_") as tmp_name:
        tmp = Path(tmp_name)
        script = tmp / "batch.scm"
        script.write_text(_scheme(voice, utts, tmp), encoding="utf-8")
        proc = subprocess.run(
            [festival, "-b", str(script)],
            cwd=tmp,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        missing = [u for u in utts if not (tmp / (u.uid + ".segs")).is_file()]
        if missing:
            err = (proc.stderr or proc.stdout).strip().splitlines()
            detail = err[-1] if err else f"exit code {proc.returncode}"
            if "voice_" in detail or "unbound variable" in detail:
                raise CorpusError(
                    f"Festival has no voice {voice!r}; install it with: sudo apt-get install {VOICES[voice][1]}."
                )
            raise CorpusError(f"Festival failed on utterance {missing[0].uid} ({detail}).")
        done = []
        for u in utts:
            audio = _to_16k(tmp / (u.uid + ".wav"), u.warp_pct)
            sf.write(str(out_dir / (u.uid + ".wav")), audio, SAMPLE_RATE, subtype="PCM_16", format="WAV")
            k = 1.0 + u.warp_pct / 100.0
            segs = [
                Segment(s.start / k, s.end / k, s.phone) for s in read_festival_segs(tmp / (u.uid + ".segs"))
            ]
            write_lab(out_dir / (u.uid + ".lab"), segs)
            done.append((u, len(audio) / SAMPLE_RATE))
        return done


def _programs(voices: Sequence[str], out_dir: Path) -> dict[str, str]:
    """Path of the program of every engine ``voices`` need, after checking each voice exists;
    creates ``out_dir`` (so a folder that cannot be made is reported first).

    One CorpusError sentence for an unknown name, a missing program or a flite voice the
    installed flite does not list (``flite -lv``); ``out_dir`` is then removed again if this call
    made it. Festival voices are checked when they run.
    """
    unknown = [v for v in voices if v not in VOICES]
    if not voices or unknown:
        raise CorpusError(
            f"Unknown voice(s) {', '.join(unknown) or 'none'}; choose from {', '.join(VOICES)}."
        )
    programs = {}
    for engine in sorted({ENGINES[VOICES[v][2]] for v in voices}):
        if engine == "espeak":  # a library, run by this Python in a child process
            if not espeak.available():
                raise CorpusError(
                    f"eSpeak NG is not installed; install it with: sudo apt-get install {espeak.APT_PACKAGE}."
                )
            programs[engine] = sys.executable
            continue
        path = shutil.which(engine)
        if path is None:
            pkgs = APT_PACKAGES if engine == "festival" else "flite"
            raise CorpusError(
                f"{engine.capitalize()} is not installed; install it with: sudo apt-get install {pkgs}."
            )
        programs[engine] = path
    made = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    if "flite" in programs:
        have = flite_voices(programs["flite"])
        missing = [v for v in voices if VOICES[v][2] == "flite" and VOICES[v][0] not in have]
        if missing:
            if made:
                out_dir.rmdir()
            raise CorpusError(
                f"The installed flite has no voice {VOICES[missing[0]][0]!r} (it lists {', '.join(have) or 'none'}); "
                "install Debian's flite package: sudo apt-get install flite."
            )
    return programs


def synthesize(
    out_dir: str | Path,
    n_utts: int,
    seed: int = 0,
    lang: str = "en",
    voices: Sequence[str] = DEFAULT_VOICES,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Path:
    """Synthesise ``n_utts`` aligned utterances into ``out_dir``; returns the manifest path.

    progress: called as ``progress(done_utterances, n_utts)`` after each batch.
    workers: Festival processes at a time (default: min(2, CPUs)); does not change the output.
    """
    if lang != "en":
        raise CorpusError(
            f"Synthesis for language {lang!r} is not supported yet here; use 'en' "
            "(Japanese: core.corpus_ja, `synth --lang ja`)."
        )
    if n_utts < 1:
        raise CorpusError("The number of utterances must be at least 1.")
    voices = tuple(voices)
    out_dir = Path(out_dir)
    programs = _programs(voices, out_dir)
    manifest = out_dir / MANIFEST
    manifest.unlink(missing_ok=True)  # an interrupted run leaves no manifest that lies

    utts = _plan(n_utts, seed, voices)
    batches = []
    for voice in voices:
        mine = [u for u in utts if u.voice == voice]
        size = BATCH_SIZE[VOICES[voice][2]]
        batches += [(voice, mine[i : i + size]) for i in range(0, len(mine), size)]
    batches.sort(key=lambda b: VOICES[b[0]][2] != "hts")  # the slow HTS batches first
    workers = max(1, workers or min(2, os.cpu_count() or 1))
    seconds: dict[str, float] = {}
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [
            pool.submit(_RUNNERS[ENGINES[VOICES[v][2]]], v, b, out_dir, programs[ENGINES[VOICES[v][2]]])
            for v, b in batches
        ]
        try:
            for fut in as_completed(futures):
                for u, dur in fut.result():
                    seconds[u.uid] = dur
                if progress is not None:
                    progress(len(seconds), n_utts)
        except BaseException:
            for f in futures:
                f.cancel()
            raise
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "voice", "engine", "text", "seconds"])
    for u in utts:
        writer.writerow([u.uid, u.voice, ENGINES[VOICES[u.voice][2]], u.text, f"{seconds[u.uid]:.4f}"])
    tmp = manifest.with_name(MANIFEST + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, manifest)
    return manifest


def synthesize_texts(out_dir: str | Path, items: Sequence[tuple[str, str, str]]) -> list[Path]:
    """Speak chosen sentences: items are (id, voice, text); writes <id>.wav and <id>.lab.

    Neutral rate and pitch (no variation), one Festival process per voice. Returns the WAV paths.
    Used for the sample files the dashboard ships (scripts/make_samples.py).
    """
    voices = tuple(dict.fromkeys(v for _, v, _ in items))
    out_dir = Path(out_dir)
    programs = _programs(voices, out_dir)
    for voice in voices:
        f0 = 110.0 if voice == "kal" else 170.0 if voice == "flite_slt" else 120.0
        utts = [_Utt(uid, voice, text, 1.0, f0, 15.0, 0) for uid, v, text in items if v == voice]
        engine = ENGINES[VOICES[voice][2]]
        _RUNNERS[engine](voice, utts, out_dir, programs[engine])
    return [out_dir / f"{uid}.wav" for uid, _, _ in items]


_RUNNERS = {"festival": _run_batch, "flite": _run_flite_batch, "espeak": _run_espeak_batch}


# ---------------------------------------------------------------------------------------------
# Loading


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


def read_manifest(corpus_dir: str | Path) -> list[dict[str, str]]:
    """Rows of ``manifest.csv`` as dicts (keys id, voice, text, seconds)."""
    path = Path(corpus_dir) / MANIFEST
    if not path.is_file():
        raise CorpusError(f"{corpus_dir} has no {MANIFEST}; make a corpus with `python -m core synth`.")
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or "id" not in rows[0]:
        raise CorpusError(f"{path} lists no utterances (it needs an 'id' column).")
    return rows


CORPUS_INFO = "corpus.json"


def corpus_phone_set(corpus_dir: str | Path) -> PhoneSet:
    """The phone set a corpus names in ``corpus.json`` (``phone_set``); English without that file."""
    path = Path(corpus_dir) / CORPUS_INFO
    if not path.is_file():
        return ENGLISH
    try:
        name = json.loads(path.read_text(encoding="utf-8")).get("phone_set")
        return get_phone_set(name)
    except (ValueError, AttributeError) as exc:  # bad JSON, not an object, unknown name
        raise CorpusError(f"{path} does not name a usable phone set ({_first_line(exc)}).") from None


def join_corpora(sources: Sequence[str | Path], out_dir: str | Path) -> Path:
    """Make ``out_dir`` a corpus of every utterance of ``sources`` (in order), without copying audio.

    Each ``<id>.wav`` and ``<id>.lab`` becomes a relative symbolic link to its source file; the
    manifests are concatenated (their columns united, in order of first appearance; a column a source
    lacks is empty). The sources must share one phone set (``corpus.json`` is copied from the first
    that has one) and no utterance id. ``out_dir`` must be new or empty. Everything is checked before
    anything is written; the manifest is written last. Returns the manifest path.
    """
    out_dir = Path(out_dir)
    if len(sources) < 2:
        raise CorpusError("join-corpus needs at least two corpora.")
    named = [Path(src).resolve() for src in sources]
    twice = next((src for src, r in zip(sources, named, strict=True) if named.count(r) > 1), None)
    if twice is not None:
        raise CorpusError(f"{twice} is named twice; name each corpus once.")
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise CorpusError(f"{out_dir} exists and is not an empty folder; name a new one.")
    rows: list[dict[str, str]] = []
    files: list[tuple[Path, str]] = []
    columns: list[str] = []
    seen: dict[str, Path] = {}
    phone_set = None
    info_src = None
    for src in map(Path, sources):
        if src.resolve() == out_dir.resolve():
            raise CorpusError(f"{out_dir} is one of the corpora being joined.")
        these = read_manifest(src)
        ps = corpus_phone_set(src)
        if phone_set is None:
            phone_set = ps
        elif ps is not phone_set:
            raise CorpusError(f"{src} uses the {ps.name} phone set, {sources[0]} the {phone_set.name} one.")
        if info_src is None and (src / CORPUS_INFO).is_file():
            info_src = src / CORPUS_INFO
        for r in these:
            uid = r["id"]
            if uid in seen:
                raise CorpusError(f"Utterance {uid!r} is in both {seen[uid]} and {src}.")
            seen[uid] = src
            for name in (f"{uid}.wav", f"{uid}.lab"):
                if not (src / name).is_file():
                    raise CorpusError(f"{src / name} is missing: {src}'s manifest lists it.")
                files.append((src / name, name))
        columns += [c for c in these[0] if c not in columns]
        rows += these
    out_dir.mkdir(parents=True, exist_ok=True)
    base = out_dir.resolve()
    for path, name in files:
        os.symlink(os.path.relpath(path.resolve(), base), out_dir / name)
    if info_src is not None:
        shutil.copyfile(info_src, out_dir / CORPUS_INFO)
    manifest = out_dir / MANIFEST
    tmp = manifest.with_name(MANIFEST + ".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, restval="", lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, manifest)
    return manifest


CACHE_VERSION = 2  # 2: CorpusFrames.save's format (the validation sets')
DEFAULT_FEATURES = FeatureConfig()  # MFBANK, 40 channels


def cache_path(corpus_dir: str | Path, cfg: FeatureConfig = DEFAULT_FEATURES) -> Path:
    """Where ``load_corpus`` keeps the frames of ``corpus_dir`` for ``cfg``."""
    d = cfg.to_dict()
    if d.get("utt_norm") == "none":  # the name caches had before per-utterance normalisation existed
        del d["utt_norm"]
    key = json.dumps({"v": CACHE_VERSION, **d}, sort_keys=True)
    return Path(corpus_dir) / f".frames_{cfg.kind}_{hashlib.sha256(key.encode()).hexdigest()[:12]}.npz"


def _fingerprint(corpus_dir: Path, ids: Sequence[str]) -> str:
    """SHA-256 of manifest.csv's bytes and of (size, mtime_ns) of every utterance's .wav and .lab."""
    h = hashlib.sha256((corpus_dir / MANIFEST).read_bytes())
    for uid in ids:
        for name in (f"{uid}.wav", f"{uid}.lab"):
            try:
                st = os.stat(corpus_dir / name)
                h.update(f"\n{name}\t{st.st_size}\t{st.st_mtime_ns}".encode())
            except OSError:
                h.update(f"\n{name}\tmissing".encode())
    return h.hexdigest()


def load_corpus(
    corpus_dir: str | Path, cfg: FeatureConfig = DEFAULT_FEATURES, progress: Progress | None = None
) -> CorpusFrames:
    """Frames, labels and states of every utterance in ``corpus_dir`` (cached; see module docstring).

    progress: called as ``progress(done_utterances, n_utterances)`` while extracting.
    """
    corpus_dir = Path(corpus_dir)
    rows = read_manifest(corpus_dir)
    ids = [r["id"] for r in rows]
    phone_set = corpus_phone_set(corpus_dir)
    fingerprint = _fingerprint(corpus_dir, ids)  # before reading: a file changed meanwhile is seen next time
    cache = cache_path(corpus_dir, cfg)
    if cache.is_file() and npz_fingerprint(cache) == fingerprint:
        try:
            hit = CorpusFrames.load(cache)
            if hit.cfg == cfg and hit.phone_set is phone_set:
                return hit
        except CorpusError:
            pass  # a damaged cache is rebuilt

    wavs = [corpus_dir / f"{uid}.wav" for uid in ids]
    sizes = []
    for wav in wavs:
        try:
            info = sf.info(str(wav))
        except (OSError, RuntimeError):  # soundfile raises LibsndfileError (a RuntimeError)
            raise CorpusError(f"The corpus audio {wav} is missing or unreadable.") from None
        if info.samplerate != cfg.samplerate or info.channels != 1:
            raise CorpusError(f"{wav.name} is not {cfg.samplerate} Hz mono; resynthesise the corpus.")
        sizes.append(n_frames_for(info.frames, cfg))
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(starts[-1])
    feats = np.empty((n, cfg.n_channels), dtype=np.float32)
    labels = np.empty(n, dtype=np.int16)
    states = np.empty(n, dtype=np.int8)
    for u, (uid, wav) in enumerate(zip(ids, wavs, strict=True)):
        audio, _ = sf.read(str(wav), dtype="float32")
        f = extract(audio, cfg)
        if len(f) != sizes[u]:
            raise CorpusError(f"{wav.name} changed while the corpus was being read.")
        a, b = starts[u], starts[u + 1]
        feats[a:b] = f
        try:
            segs = read_lab(corpus_dir / f"{uid}.lab", phone_set=phone_set)
        except PhoneError as exc:
            raise CorpusError(f"Corpus labels: {exc}") from None
        labels[a:b] = frame_labels(segs, len(f), cfg.winlen, cfg.winstep, phone_set=phone_set)
        states[a:b] = frame_states(segs, len(f), cfg.winlen, cfg.winstep)
        if progress is not None and (u + 1 == len(ids) or (u + 1) % 50 == 0):
            progress(u + 1, len(ids))
    frames = CorpusFrames(
        feats=feats,
        labels=labels,
        states=states,
        utt_starts=starts[:-1],
        frame_utt=np.repeat(np.arange(len(ids), dtype=np.int32), sizes),
        utt_ids=tuple(ids), voices=tuple(r.get("voice", "") for r in rows), cfg=cfg, phone_set=phone_set,
    )
    _write_cache(cache, frames, fingerprint)
    return frames


def _write_cache(path: Path, frames: CorpusFrames, fingerprint: str) -> None:
    try:
        frames.save(path, compress=False, fingerprint=fingerprint)
    except OSError:  # a read-only corpus still loads, just without a cache
        pass

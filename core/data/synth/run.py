"""Running a synthesis: the programs every voice needs (checked first), the batches on a thread
pool, the manifest (``synthesize``), and chosen sentences at neutral settings (``synthesize_texts``)."""

from __future__ import annotations

import csv
import io
import os
import shutil
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import core.data.synth.espeak as espeak
from core.data.corpus import MANIFEST, Progress
from core.data.frames import CorpusError
from core.data.synth.espeak import _run_espeak_batch
from core.data.synth.festival import _run_batch
from core.data.synth.flite import _run_flite_batch, flite_voices
from core.data.synth.plan import APT_PACKAGES, BATCH_SIZE, DEFAULT_VOICES, ENGINES, VOICES, _plan, _Utt


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
            "(Japanese: core.data.synth.openjtalk, `synth --lang ja`)."
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


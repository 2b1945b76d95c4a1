"""flite (Debian's ``flite`` program): one process per utterance, labels from its ``-psdur``
segment end times, and the voices the installed flite speaks."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from core.audio import SAMPLE_RATE
from core.data.frames import CorpusError
from core.data.synth.plan import VOICES, _to_16k, _Utt, write_utterance
from core.phones import PhoneError, Segment, to_phone, write_lab


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
            done.append((u, write_utterance(out_dir, u, _to_16k(wav, u.warp_pct), segs)))
    return done



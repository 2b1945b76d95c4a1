"""Festival (``festival -b``): one process per batch of utterances of one voice, a Scheme file
that sets each utterance's rate and pitch, synthesises it and saves its wave and segments."""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import soundfile as sf

from core.audio import SAMPLE_RATE
from core.data.frames import CorpusError
from core.data.synth.plan import VOICES, _to_16k, _Utt, write_utterance
from core.phones import Segment, read_festival_segs, write_lab


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
            segs = read_festival_segs(tmp / (u.uid + ".segs"))
            done.append((u, write_utterance(out_dir, u, audio, segs, clip=False)))
        return done



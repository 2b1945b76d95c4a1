"""Boundary errors of the network aligner on the shipped Japanese samples, against Open JTalk's own times.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/ja_alignment_check.py [MODEL]   (default speech_ja_mfbank)

Aligns every ``assets/samples/ja_*.wav`` with its transcript (``core.align.align``, network aligner,
readings by pyopenjtalk) and prints the number of reference boundaries matched, the median error,
the share within 20 / 30 ms and the largest error (``core.align.boundary_errors``). Figures:
docs/MODELS.md. The samples are synthetic, like the training data: a real speaker will fare worse.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from core.audio import load_audio  # noqa: E402
from core.models import ASSETS_DIR, load_model  # noqa: E402
from core.phones import read_lab  # noqa: E402
from core.voice.align import align, boundary_errors, sample_texts  # noqa: E402


def main(model: str) -> int:
    net, info = load_model(model)
    folder = ASSETS_DIR / "samples"
    errs: list[float] = []
    for name, text in sample_texts(folder).items():
        if not name.startswith("ja_"):
            continue
        ali = align(load_audio(folder / name), text, "network", net=net, info=info)
        ref = read_lab(folder / name.replace(".wav", ".lab"), phone_set=info.phone_set)
        errs += boundary_errors(ref, ali.phones).tolist()
    e = np.asarray(errs)
    print(f"{model}: {len(e)} boundaries, median {np.median(e) * 1000:.1f} ms, within 20 ms {np.mean(e <= 0.02):.1%}, "
          f"within 30 ms {np.mean(e <= 0.03):.1%}, largest {e.max() * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "speech_ja_mfbank"))

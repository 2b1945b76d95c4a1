"""Files around alignment: label files (.lab, Praat TextGrid) of segments, and the transcripts of
the shipped samples."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from core.models.inference import AlignError
from core.phones import Segment, write_lab, write_textgrid


def label_file_bytes(segments: Sequence[Segment], fmt: Literal["lab", "textgrid"]) -> bytes:
    """The bytes of a .lab or Praat TextGrid file of ``segments`` (core.phones' writers)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / ("x.lab" if fmt == "lab" else "x.TextGrid")
        if fmt == "lab":
            write_lab(path, segments)
        elif fmt == "textgrid":
            write_textgrid(path, segments)
        else:
            raise AlignError(f"Unknown label format {fmt!r}; use 'lab' or 'textgrid'.")
        return path.read_bytes()


def sample_texts(folder: str | Path) -> dict[str, str]:
    """File name -> transcript of the shipped samples, read from the table in ``folder/README.md``
    (rows ``| name.wav | voice | text |``)."""
    out = {}
    readme = Path(folder) / "README.md"
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8").splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 3 and cells[0].endswith(".wav"):
                out[cells[0]] = cells[-1]
    return out

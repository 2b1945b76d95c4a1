"""Regenerate the home page's "how to read a map" picture in every interface language:
assets/images/how_to_read.png (English) and how_to_read_<lang>.png (e.g. how_to_read_ja.png).

    .venv/bin/python scripts/make_home_image.py     (needs vl-convert-python: requirements-dev.txt;
                                                     Japanese text needs a CJK font, fonts-noto-cjk)

The picture is ``core.viz.home_picture.how_to_read(tr=...)``: two rows of squares with their meaning, drawn
with Altair like the real maps; its texts are catalogue messages (i18n/messages.toml), so each
language's picture has the same look with its own text. screens/home.py shows ``image_path(lang)``.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.viz.home_picture import how_to_read  # noqa: E402
from i18n import DEFAULT_LANGUAGE, LANGUAGES, translator  # noqa: E402

FONTS = {"ja": "Noto Sans CJK JP"}
"""A language's font (fonts-noto-cjk): without it the renderer falls back to a serif CJK face."""


def image_path(lang: str) -> Path:
    """The picture of ``lang``: how_to_read.png for English, how_to_read_<lang>.png otherwise."""
    suffix = "" if lang == DEFAULT_LANGUAGE else f"_{lang}"
    return ROOT / "assets" / "images" / f"how_to_read{suffix}.png"


def main() -> int:
    for lang in LANGUAGES:
        out = image_path(lang)
        out.parent.mkdir(parents=True, exist_ok=True)
        how_to_read(tr=translator(lang), font=FONTS.get(lang)).save(str(out), scale_factor=1.5)
        print(out.relative_to(ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())

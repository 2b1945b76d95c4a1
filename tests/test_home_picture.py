"""The home page's "how to read a map" picture in each interface language (issue 13)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.viz.home_picture import HOW_TO_READ, how_to_read
from i18n import LANGUAGES, translator
from i18n.catalogue import is_japanese
from tests.test_pages_i18n import english_left

ROOT = Path(__file__).resolve().parents[1]


def _texts(spec) -> list[str]:
    """Every title and text value of a chart's spec (titles and the squares' captions)."""
    out = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == "title":
                out += v if isinstance(v, list) else [v] if isinstance(v, str) else []
            out += _texts(v)
    elif isinstance(spec, list):
        for v in spec:
            out += _texts(v)
    return out


def test_the_picture_is_drawn_in_japanese_with_the_same_squares():
    en, ja = how_to_read().to_dict(), how_to_read(tr=translator("ja"), font="Noto Sans CJK JP").to_dict()
    en_text = _texts(en) + [r["text"] for d in en["datasets"].values() for r in d]
    ja_text = _texts(ja) + [r["text"] for d in ja["datasets"].values() for r in d]
    assert len(ja_text) == len(en_text) == 2 + 8
    assert all(is_japanese(t) and not english_left(t) for t in ja_text), ja_text
    assert not any(is_japanese(t) for t in en_text)
    strip = [[{k: v for k, v in r.items() if k != "text"} for r in d] for d in en["datasets"].values()]
    assert strip == [[{k: v for k, v in r.items() if k != "text"} for r in d] for d in ja["datasets"].values()]
    assert ja["config"]["font"] == "Noto Sans CJK JP" and "font" not in en["config"]
    assert len(HOW_TO_READ["importance"]) == len(HOW_TO_READ["mean"]) == 4


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_each_language_has_its_shipped_picture(lang):
    import app_state as S

    path = Path(S.picture("how_to_read", lang))
    assert path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.name == ("how_to_read.png" if lang == "en" else f"how_to_read_{lang}.png")
    others = {hashlib.sha256(Path(S.picture("how_to_read", o)).read_bytes()).hexdigest() for o in LANGUAGES}
    assert len(others) == len(LANGUAGES)  # one picture per language, not one copied
    assert Path(S.picture("no_such_picture", lang)).name == "no_such_picture.png"  # English fallback

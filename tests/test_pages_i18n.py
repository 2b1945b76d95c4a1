"""Every page under AppTest in Japanese (no English left in titles, labels, help, captions, tables
and charts) and in English (no Japanese), and the language switch: session, URL, repaired link."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from streamlit.testing.v1 import AppTest

from core.findings import CLAIMS
from i18n import translate
from i18n.catalogue import is_japanese
from tests.test_findings import findings_models  # noqa: F401  (the fixture)

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 120
PAGES = [
    "screens/home.py",
    "screens/importance_map.py",
    "screens/phoneme_pair.py",
    "screens/units_pruning.py",
    "screens/digit_cnn.py",
    "screens/your_voice.py",
]

NAMES = {
    # names, units and symbols that stay as they are in Japanese text
    "dnnlens",
    # the method names of the literature, which the "why these differ" block quotes on every page
    "SmoothGrad",
    "Integrated",
    "Gradients",
    "MFBANK",
    "MFCC",
    "Festival",
    "flite",
    "eSpeak",
    "NG",
    "Open",
    "JTalk",
    "mei",
    "kal",
    "ked",
    "slt",
    "HTS",
    "CMU",
    "ARCTIC",
    "pocketsphinx",
    "TextGrid",
    "lab",
    "WAV",
    "FLAC",
    "OGG",
    "MP3",
    "AIFF",
    "kHz",
    "Imp",
    "ReLU",
    "Adam",
    "conv",
    "zip",
    "CSV",
    "METHOD",
    "sigmoid",
    "relu",
    "exp",
    "min",
    "argmax",
    "default_rng",
    "make",
    "assets",
    "models",
    "sil",
    "fc1",
    "fc2",
    "CNN",
    "VTLN",
    "Language",
    "English",  # the switch's own label is bilingual, its options each in their language
}
DATA = {"w_voice_sample"}
"""Widgets whose options are data (the English samples' transcripts), not interface text."""
WORD = re.compile(r"[A-Za-z][A-Za-z_]{2,}")


def english_left(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """Words of three or more Latin letters that are not names, units or symbols."""
    text = re.sub(r"\b(speech|digits)_[a-z0-9_]+", "", text)  # model names
    text = re.sub(r"`[^`]*`", "", text)  # a command to type, in code quotes
    text = re.sub(r"英単語 '[a-z]+'", "", text)  # an English phoneme's example word
    text = re.sub(r"\b[0-9a-f]{12}…", "", text)  # a weights checksum's first 12 hex digits (Findings)
    return [
        w for w in WORD.findall(text) if w not in NAMES and w not in allowed and "_" not in w
    ]  # p_e, dh_i


def shown_texts(at: AppTest) -> list[str]:
    """Every text a user reads on the page: titles, markdown, captions, messages, widget labels,
    help texts and options, metric labels, expander labels, table headers."""
    out = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
    ):
        out += [e.value for e in getattr(at, kind)]
    for kind in (
        "selectbox",
        "radio",
        "multiselect",
        "slider",
        "select_slider",
        "button",
        "text_input",
        "metric",
        "expander",
        "checkbox",
        "toggle",
    ):
        for e in getattr(at, kind):
            out.append(e.label)
            out.append(getattr(e, "help", None) or "")
            if getattr(e, "key", None) not in DATA:
                out += [str(o) for o in getattr(e, "options", None) or []]
    for tb in at.table:  # a static table's headers are its columns' names
        out += [str(c) for c in tb.value.columns]
    for df in at.dataframe:  # headers: the column config's label, else the column's name
        config = json.loads(df.proto.columns or "{}")
        for c in df.value.columns:
            out += [config.get(str(c), {}).get("label") or str(c), config.get(str(c), {}).get("help") or ""]
    return [t for t in out if t]


def chart_titles(at: AppTest) -> list[str]:
    out = []

    def walk(spec):
        if isinstance(spec, dict):
            for k, v in spec.items():
                if k == "title" and isinstance(v, str):
                    out.append(v)
                elif k == "title" and isinstance(v, dict) and isinstance(v.get("text"), str):
                    out.append(v["text"])
                walk(v)
        elif isinstance(spec, list):
            for v in spec:
                walk(v)

    for el in at.get("vega_lite_chart") + at.get("arrow_vega_lite_chart"):
        walk(json.loads(el.proto.spec))
    return out


def open_page(page: str, lang: str | None = "ja") -> AppTest:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    if lang is not None:
        at.query_params["lang"] = lang
    at.run()
    if page != "screens/home.py":
        at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def assert_japanese(at: AppTest, allowed: set[str] = frozenset()) -> None:
    texts = shown_texts(at)
    left = {t[:80]: english_left(t, allowed) for t in texts if english_left(t, allowed)}
    assert not left, left
    assert is_japanese(at.title[0].value)
    titles = chart_titles(at)
    bad = [t for t in titles if not is_japanese(t) and english_left(t, allowed)]
    assert not bad, bad


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_japanese(tiny_models, page):
    at = open_page(page)
    assert at.query_params["lang"] == "ja"
    assert_japanese(at)
    if page != "screens/home.py":
        assert chart_titles(at), "the page draws charts"


def test_digit_views_in_japanese(tiny_models):
    at = open_page("screens/digit_cnn.py")
    for view in ("digit", "prune"):
        at.query_params["cnn_view"] = view
        at.run()
        assert not at.exception and not at.error
        assert_japanese(at)
        assert any(is_japanese(t) for t in chart_titles(at))


def test_units_page_hidden_units_in_japanese(tiny_models):
    at = open_page("screens/units_pruning.py")
    at.radio(key="w_prune_units").set_value("layer").run()
    assert not at.exception and not at.error
    assert_japanese(at)


def test_phoneme_names_in_japanese(tiny_models):
    at = open_page("screens/importance_map.py")
    box = at.selectbox(key="w_phone")
    assert box.value == "s"
    assert "s  (/s/、英単語 'sun' の音)" in box.options and "sh  (/ʃ/、英単語 'she' の音)" in box.options
    assert "sil  (無音)" in box.options


@pytest.mark.parametrize("page", ["screens/home.py", "screens/phoneme_pair.py", "screens/units_pruning.py"])
def test_english_pages_have_no_japanese(tiny_models, page):
    at = open_page(page, lang=None)
    assert at.query_params["lang"] == "en"
    texts = [t for t in shown_texts(at) if t != "Language / 言語" and t != "日本語"] + chart_titles(at)
    assert not [t for t in texts if is_japanese(t)]


def test_the_switch_changes_the_language_keeps_it_across_pages_and_in_the_url(tiny_models):
    at = open_page("screens/importance_map.py", lang=None)
    at.selectbox(key="w_phone").set_value("z").run()
    assert at.title[0].value == "Importance map"
    at.sidebar.radio(key="w_lang").set_value("ja").run()
    assert at.title[0].value == "重要度マップ" and at.query_params["lang"] == "ja"
    assert at.selectbox(key="w_phone").value == "z"  # the other choices stay
    at.switch_page("screens/phoneme_pair.py").run()
    assert at.title[0].value == "音素ペア" and at.query_params["lang"] == "ja"
    assert at.sidebar.radio(key="w_lang").value == "ja"
    at.sidebar.radio(key="w_lang").set_value("en").run()
    assert at.title[0].value == "Phoneme pair" and at.query_params["lang"] == "en"
    assert not at.exception


def test_a_bad_language_in_the_link_is_repaired_once(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params["lang"] = "fr"
    at.run()
    assert not at.exception and not at.error
    assert at.title[0].value.startswith("dnnlens: ")  # English
    assert at.query_params["lang"] == "en"
    assert len(at.toast) == 1 and "lang=fr → en" in at.toast[0].value
    at.run()
    assert not at.toast


def test_a_repair_message_in_japanese(tiny_models):
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update({"lang": "ja", "stat": "nope"})
    at.run()
    assert (
        len(at.toast) == 1
        and at.toast[0].value.startswith("このリンクには")
        and "stat=nope" in at.toast[0].value
    )


KEPT = {
    # the command to run (a code span), the badge markup (`:green-badge[…]`), units of the checksum line
    "screens/findings.py": {
        "python",
        "core",
        "findings",
        "write",
        "UTC",
        "SHA",
        "green",
        "orange",
        "red",
        "gray",
        "badge",
    },
    # names of methods and of a measure, as written in the literature
    "screens/methods.py": {"AUC", "SmoothGrad", "Integrated", "Gradients"},
}


@pytest.mark.parametrize("page", sorted(KEPT))
def test_findings_and_methods_pages_in_japanese(tiny_models, page):
    at = open_page(page)
    assert at.query_params["lang"] == "ja"
    assert_japanese(at, KEPT[page])
    assert chart_titles(at), "the page draws charts"
    english = open_page(page, "en")
    texts = [t for t in shown_texts(english) if t != "Language / 言語" and t != "日本語"] + chart_titles(
        english
    )
    assert not [t for t in texts if is_japanese(t)]


def test_home_model_cards_say_language_and_targets_in_japanese(tiny_models):
    """The Japanese model cards name each speech model's language and what it classifies (phonemes,
    or 3 states per phoneme), as the English model.json descriptions do."""
    at = open_page("screens/home.py")
    text = " ".join(shown_texts(at))
    assert "英語の音素識別器" in text and "英語の状態識別器（音素あたり 3 状態）" in text
    assert "Phoneme classifier" not in text and "state classifier" not in text


CARD_LINKS = [(key, link) for key, claim in CLAIMS.items() for link in claim.links]


@pytest.mark.parametrize("key,link", CARD_LINKS, ids=[f"{k}-{i}" for i, (k, _) in enumerate(CARD_LINKS)])
def test_a_findings_card_opens_its_page_with_a_way_back_to_the_card(findings_models, monkeypatch, key, link):  # noqa: F811
    """Issue 28: the card's link says where it comes from; the page it opens links back to that card,
    in the session's language."""
    monkeypatch.setenv("DNNLENS_MODELS", str(findings_models))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update({**link.query(), "from": "findings", "card": key, "lang": "ja"})
    at.switch_page(link.page).run()
    assert not at.exception, [e.message for e in at.exception]
    back = [p.proto for p in at.get("page_link") if "findings" in p.proto.page]
    assert len(back) == 1
    assert back[0].label == translate("Back to the Findings card: {t}", "ja").format(
        t=translate(CLAIMS[key].title, "ja")
    )
    assert dict(parse_qsl(back[0].query_string)) == {"card": key, "lang": "ja"}


def test_findings_cards_link_with_their_key_and_a_return_shows_the_card(findings_models, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DNNLENS_MODELS", str(findings_models))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update({"lang": "ja", "card": "b_d"})
    at.switch_page("screens/findings.py").run()
    assert not at.exception, [e.message for e in at.exception]
    links = {p.proto.page: dict(parse_qsl(p.proto.query_string)) for p in at.get("page_link")}
    pair = next(q for q in links.values() if q.get("pair_a") == "b")
    assert (pair["from"], pair["card"], pair["lang"]) == ("findings", "b_d", "ja")
    assert "card" not in at.query_params  # scrolled to once, then out of the address
    # a page opened without a card's parameters has no way back to a card
    at.switch_page("screens/phoneme_pair.py").run()
    assert not [p for p in at.get("page_link") if "findings" in p.proto.page]

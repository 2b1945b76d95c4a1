"""The language switch in a real browser: Debian's Chromium against `streamlit run` on the tiny
test models. Screenshots go to $DNNLENS_SCREENSHOTS (default: a pytest tmp dir)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import browser_page, streamlit_server, wait_ready

NO_EXCEPTION = "[data-testid='stException']"
NAV_JA = [
    "ホーム",
    "重要度マップ",
    "音素ペア",
    "ユニットと枝刈り",
    "数字CNN",
    "あなたの声",
    "検証結果",
    "どの重要度を信頼するか",
]

GLYPHS = """(text) => {
    // Draw ``text`` and a private-use character (no font has it: the 'missing glyph' box) in the
    // font family of the charts' titles; a font that lacks the text's glyphs draws the same box.
    const draw = (t) => { const c = document.createElement('canvas'); c.width = 160; c.height = 60;
        const g = c.getContext('2d'); g.font = '40px sans-serif'; g.fillText(t, 4, 46);
        return Array.from(g.getImageData(0, 0, 160, 60).data).join(','); };
    return draw(text) !== draw('\\u{10FFFD}'.repeat(text.length)); }"""


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = os.environ.get("DNNLENS_SCREENSHOTS")
    path = Path(d) if d else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server(tiny_models_dir):
    with streamlit_server(env={"DNNLENS_MODELS": str(tiny_models_dir)}) as url:
        yield url


def nav_titles(page) -> list[str]:
    return [t.split("\n")[-1] for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


AXIS_TITLES = "[data-testid='stVegaLiteChart'] svg g.role-axis-title text"


def axis_titles(page, wanted: str) -> list[str]:
    """The charts' axis titles, once one of them is ``wanted`` (Vega draws after the script ends)."""
    page.wait_for_function(
        f'() => [...document.querySelectorAll("{AXIS_TITLES}")].some(t => t.textContent === {wanted!r})',
        timeout=120000,
    )
    return page.locator(AXIS_TITLES).all_text_contents()


def test_switch_to_japanese_titles_and_axis_labels(server, shots):
    with browser_page(1400, 1100) as page:
        page.goto(f"{server}/importance_map")
        wait_ready(page, 120000)
        assert page.locator("h1").first.inner_text() == "Importance map"
        assert "mel band centre (Hz)" in axis_titles(page, "time offset (frames; ms)")
        page.locator("[data-testid='stSidebar'] label").filter(has_text="日本語").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes('重要度マップ'))",
            timeout=60000,
        )
        wait_ready(page, 120000)
        assert page.locator(NO_EXCEPTION).count() == 0
        assert nav_titles(page) == NAV_JA
        assert "lang=ja" in page.url
        titles = axis_titles(page, "時間オフセット（フレーム; ms）")
        assert "メル帯域の中心周波数（Hz）" in titles and not [t for t in titles if "offset" in t], titles
        assert page.evaluate(GLYPHS, "時間オフセット")  # the Japanese glyphs exist (fonts-noto-cjk)
        # the widgets drawn before the switch keep their choice (the browser holds a choice as its shown
        # text; without app_state.language's refresh the colour radio showed none chosen)
        assert (
            page.locator("[data-testid='stExpander'] input[type=radio]:checked").count() == 1
        )  # colour: 重要度
        page.screenshot(path=str(shots / "map_ja.png"))
        # another page keeps the language (the address carries it)
        page.locator("[data-testid='stSidebarNav'] a").filter(has_text="ユニットと枝刈り").click()
        page.wait_for_function(
            "() => [...document.querySelectorAll('h1')].some(h => h.innerText.includes('ユニットと枝刈り'))",
            timeout=120000,
        )
        page.wait_for_function(
            "() => document.querySelectorAll(\"[data-testid='stVegaLiteChart'] svg g.mark-line path\").length >= 4",
            timeout=300000,
        )
        wait_ready(page, 300000)
        assert page.locator(NO_EXCEPTION).count() == 0
        assert "lang=ja" in page.url
        assert "削除したユニット数（全 1400 個中）" in axis_titles(page, "正解率（評価用データ）")
        page.screenshot(path=str(shots / "units_ja.png"))
        page.locator("[data-testid='stVegaLiteChart']").nth(1).scroll_into_view_if_needed()
        page.screenshot(path=str(shots / "units_ja_curves.png"))


def test_a_japanese_link_opens_in_japanese(server, shots):
    with browser_page(1400, 1000) as page:
        page.goto(f"{server}/phoneme_pair?lang=ja")
        wait_ready(page, 120000)
        assert page.locator("h1").first.inner_text() == "音素ペア"
        assert nav_titles(page) == NAV_JA
        assert page.locator(NO_EXCEPTION).count() == 0
        page.screenshot(path=str(shots / "pair_ja.png"))


FIXED_WIDTH = """() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].findIndex(
    c => c.closest('.st-key-voice_chart'))"""
"""The index among the page's charts of Your voice's stacked time panels (-1: none)."""

JA_LAYOUT = [("", 0), ("units_pruning", 4), ("digit_cnn?cnn_view=prune", 4), ("digit_cnn?cnn_view=filters", 3),
             ("your_voice", 4)]
"""Japanese pages (path, charts drawn when ready) whose charts must fit their columns and whose
texts (longer than the English) must not be cut with "…"."""


@pytest.mark.parametrize("width", [800, 1024, 1400])
def test_japanese_pages_fit_their_columns_and_cut_no_text(server, shots, width):
    from tests.browser import CHART_OVERFLOW, TEXT_CUT, collapse_sidebar

    problems = {}
    with browser_page(width, 1000) as page:
        for path, n_charts in JA_LAYOUT:
            page.goto(f"{server}/{path}{'&' if '?' in path else '?'}lang=ja")
            drawn = "[data-testid='stVegaLiteChart'] svg.marks, [data-testid='stVegaLiteChart'] canvas"
            page.wait_for_function(f"() => document.querySelectorAll(\"{drawn}\").length >= {n_charts}",
                                   timeout=300000)
            wait_ready(page, 300000)
            if width == 800:  # a narrow screen: the sidebar is collapsed
                collapse_sidebar(page)
            page.wait_for_timeout(800)  # charts re-fit after a resize
            assert page.locator(NO_EXCEPTION).count() == 0
            name = path.replace("?", "_") or "home"
            page.screenshot(path=str(shots / f"ja_layout_{width}_{name}.png"), full_page=True)
            over, cut = page.evaluate(CHART_OVERFLOW), page.evaluate(TEXT_CUT)
            if width < 1400:  # Your voice's time panels have a fixed width (Vega cannot fit a vconcat to its
                # column): they fit at 1400 px only and scroll sideways on a narrower screen
                fixed = page.evaluate(FIXED_WIDTH)
                over = [o for o in over if o["chart"] != fixed]
            if over or cut:
                problems[name] = {"charts": over, "cut": cut}
    assert not problems, problems

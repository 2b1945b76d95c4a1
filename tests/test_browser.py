"""The dashboard in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

The server runs on the tiny test model (tests/conftest.py). Screenshots go to
$DNNLENS_SCREENSHOTS (default: a pytest tmp dir) for people to look at.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

from tests.browser import (
    CHART_OVERFLOW,
    browser_page,
    click_largest_square,
    collapse_sidebar,
    streamlit_server,
    wait_ready,
)

NO_EXCEPTION = "[data-testid='stException']"
NAV = ["Home", "Importance map", "Phoneme pair", "Units and pruning", "Digit CNN", "Your voice", "Findings",
       "Which importance to trust"]


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


@pytest.fixture(scope="module")
def page():
    with browser_page(1500, 2000) as p:
        yield p


def nav_titles(page) -> list[str]:
    return [t.split("\n")[-1] for t in page.locator("[data-testid='stSidebarNav'] a").all_inner_texts()]


def test_first_visit_by_page_url_uses_the_navigation(server, page, shots):
    # The very first request of this server opens a page by its URL, not the home page.
    page.goto(f"{server}/phoneme_pair")
    page.wait_for_function(
        "() => [...document.querySelectorAll(\"[data-testid='stSidebarNav'] a\")].some(a => a.innerText.includes('Importance map'))",
        timeout=120000)
    wait_ready(page, 120000)
    assert nav_titles(page) == NAV
    assert page.locator("h1").first.inner_text() == "Phoneme pair"


@pytest.mark.parametrize("path,title,name", [("", "dnnlens: what a deep neural network looks at", "home"),
                                             ("importance_map", "Importance map", "map"),
                                             ("phoneme_pair", "Phoneme pair", "pair")])
def test_every_page_renders(server, page, shots, path, title, name):
    page.goto(f"{server}/{path}")
    wait_ready(page, 120000)
    assert page.locator(NO_EXCEPTION).count() == 0
    assert page.locator("h1").first.inner_text() == title
    assert nav_titles(page) == NAV
    if path:
        assert page.locator("[data-testid='stVegaLiteChart'] svg g.mark-symbol path").count() > 100
    page.screenshot(path=str(shots / f"{name}.png"))


def test_click_on_pair_square_shows_densities(server, page, shots):
    page.goto(f"{server}/phoneme_pair")
    wait_ready(page, 120000)
    assert "Top cell by score" in page.locator("h3").first.inner_text()
    tip = click_largest_square(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('h3')].some(h => h.innerText.includes('Selected input'))",
        timeout=30000,
    )
    wait_ready(page)
    assert page.locator(NO_EXCEPTION).count() == 0
    # the density view names the clicked input and draws both densities with the overlap shaded
    offset = int(tip["offset (frames)"])  # the tooltip names the square: offset, centre, ...
    described = page.get_by_text("frame offset").first.inner_text()
    assert f"frame offset {offset:+d}" in described and f"{tip['offset (ms)']} ms, {tip['centre']}" in described
    density = page.locator("[data-testid='stVegaLiteChart']").nth(1)
    assert density.locator("svg g.mark-area path").count() >= 1
    assert density.locator("svg g.mark-line path").count() == 2
    items = page.locator("li").all_inner_texts()
    assert any(t.startswith("overlap ε = 0.") or t == "overlap ε = 1.00" for t in items), items
    assert any("p_e = " in t for t in items), items
    page.screenshot(path=str(shots / "pair_clicked.png"))


def test_click_on_a_top_cells_row_selects_that_cell(server, page, shots):
    """A click on the third row of the top-cells table (its row marker) shows that cell: the detail
    names it, the URL has it, and it is not the top cell shown before."""
    page.goto(f"{server}/phoneme_pair?pair_a=s&pair_b=sh")
    wait_ready(page, 120000)
    described = page.get_by_text("frame offset").first
    top = described.inner_text()
    grid = page.locator("[data-testid='stDataFrame']").first
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + 12, box["y"] + 35 + 2 * 35 + 17)  # header 35 px, rows 35 px
    page.wait_for_function(
        "() => [...document.querySelectorAll('h3')].some(h => h.innerText.includes('Selected input'))",
        timeout=30000)
    wait_ready(page)
    assert page.locator(NO_EXCEPTION).count() == 0
    cell = dict(part.split("=", 1) for part in page.url.split("?", 1)[1].split("&")).get("cell", "")
    offset, channel = (int(v) for v in cell.replace("%2C", ",").split(","))
    shown = page.get_by_text("frame offset").first.inner_text()
    assert f"frame offset {offset:+d}, channel {channel})" in shown, (shown, cell)
    assert shown != top
    page.screenshot(path=str(shots / "pair_row_clicked.png"))


STREAMLIT_PROBES = ("/_stcore/host-config", "/_stcore/health")
"""Streamlit's front end first asks for these under a page's path (404) and then at the root."""


def _console_errors(page) -> list[str]:
    """Collects console errors, page errors and failed requests (except Streamlit's own probes,
    whose 404 the console reports as 'Failed to load resource')."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith(STREAMLIT_PROBES) else None)
    return errors


def _move_slider(page, label: str) -> None:
    """Press the right arrow key twice on the slider named ``label`` and wait for the rerun."""
    thumb = page.locator(f"[data-testid='stSlider'] input[type=range][aria-label='{label}']").first
    thumb.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(500)
    wait_ready(page, 120000)


def _curve_lines(page, at_least: int) -> int:
    """Number of line paths in the page's charts, after waiting (up to 5 min) for ``at_least``."""
    css = "[data-testid='stVegaLiteChart'] svg g.mark-line path"
    page.wait_for_function(f"() => document.querySelectorAll(\"{css}\").length >= {at_least}", timeout=300000)
    wait_ready(page, 300000)
    return page.locator(css).count()


def test_units_page_curves_and_slider(server, page, shots):
    errors = _console_errors(page)
    page.goto(f"{server}/units_pruning")
    wait_ready(page, 300000)
    assert page.locator(NO_EXCEPTION).count() == 0
    assert _curve_lines(page, 4) >= 4  # one line per order
    before = page.locator("[data-testid='stSliderThumbValue']").first.inner_text()
    _move_slider(page, "Delete k units")
    after = page.locator("[data-testid='stSliderThumbValue']").first.inner_text()
    assert before != after
    assert page.locator(NO_EXCEPTION).count() == 0
    assert _curve_lines(page, 4) >= 4
    page.screenshot(path=str(shots / "units.png"), full_page=True)
    assert not errors, errors


def test_digit_page_prune_view(server, page, shots):
    errors = _console_errors(page)
    page.goto(f"{server}/digit_cnn?cnn_view=prune")
    wait_ready(page, 300000)
    assert page.locator(NO_EXCEPTION).count() == 0
    assert _curve_lines(page, 8) >= 8  # two charts (with / without retraining), four orders each
    _move_slider(page, "Delete k filters")
    assert page.locator(NO_EXCEPTION).count() == 0, page.locator(NO_EXCEPTION).first.inner_text()[:3000]
    page.screenshot(path=str(shots / "digits_prune.png"), full_page=True)
    assert not errors, errors


@contextlib.contextmanager
def viewport(page, width: int, height: int):
    """The module's browser page at another size for a while (one Playwright per thread)."""
    old = page.viewport_size
    page.set_viewport_size({"width": width, "height": height})
    try:
        yield page
    finally:
        page.set_viewport_size(old)


LAYOUT_PAGES = [("importance_map", 3), ("phoneme_pair", 2), ("units_pruning", 4), ("digit_cnn?cnn_view=filters", 3),
                ("digit_cnn?cnn_view=digit", 5), ("digit_cnn?cnn_view=prune", 4)]
"""Pages (path, number of charts drawn when ready) whose charts must fit their columns."""


@pytest.mark.parametrize("width", [800, 1024, 1400])
def test_no_chart_wider_than_its_column(server, page, shots, width):
    with viewport(page, width, 1000) as p:
        for path, n_charts in LAYOUT_PAGES:
            p.goto(f"{server}/{path}")
            drawn = "[data-testid='stVegaLiteChart'] svg.marks, [data-testid='stVegaLiteChart'] canvas"
            p.wait_for_function(f"() => document.querySelectorAll(\"{drawn}\").length >= {n_charts}", timeout=300000)
            wait_ready(p, 300000)
            if width == 800:  # a narrow screen: the sidebar is collapsed
                collapse_sidebar(p)
                p.wait_for_timeout(500)  # charts re-fit after the resize
            assert p.locator(NO_EXCEPTION).count() == 0
            over = p.evaluate(CHART_OVERFLOW)
            p.screenshot(path=str(shots / f"layout_{width}_{path.replace('?', '_')}.png"), full_page=True)
            assert not over, (width, path, over)


def test_densities_in_view_after_a_click_at_1400x900(server, page, shots):
    with viewport(page, 1400, 900) as p:
        p.goto(f"{server}/phoneme_pair")
        wait_ready(p, 120000)
        click_largest_square(p)
        p.wait_for_function(
            "() => [...document.querySelectorAll('h3')].some(h => h.innerText.includes('Selected input'))",
            timeout=30000)
        wait_ready(p)
        box = p.locator("[data-testid='stVegaLiteChart']").nth(1).locator("svg.marks").bounding_box()
        p.screenshot(path=str(shots / "pair_clicked_1400x900.png"))
        assert box is not None and box["height"] > 100
        assert 0 <= box["y"] and box["y"] + box["height"] <= 900 and 0 <= box["x"] and box["x"] + box["width"] <= 1400


def test_the_hollow_switch_on_a_pair_without_hollow_cells_says_so(server, page):
    """Issue 28: the switch changed nothing visible, with no word why; in the browser it now says
    so under the switch (the same pair as tests/test_pages_methods.py's case without hollow cells)."""
    page.goto(f"{server}/phoneme_pair?pair_a=b&pair_b=d")
    wait_ready(page, 300000)
    page.get_by_text("Hollow squares: cells not distinguishable from zero", exact=True).click()
    page.wait_for_timeout(100)
    wait_ready(page, 300000)
    note = page.get_by_text("nothing to hollow", exact=False)
    note.first.wait_for(timeout=60000)
    assert note.count() == 1 and page.locator(NO_EXCEPTION).count() == 0
    assert note.first.inner_text().startswith("All ") and "cells shown differ from zero at 95 %" in note.first.inner_text()


def test_the_home_glossary_has_each_term_once_in_the_browser(server, page, shots):
    """Issue 28: the glossary as the browser shows it: ten entries, each naming its term once (it
    showed "posterior: Posterior: ..."), in bold, followed by the definition."""
    import re

    page.goto(f"{server}/")
    wait_ready(page, 120000)
    page.get_by_text("Glossary", exact=True).first.click()
    expander = page.locator("[data-testid='stExpander']").filter(has_text="σ of dy/dx").first
    expander.locator("[data-testid='stExpanderDetails'] [data-testid='stMarkdownContainer']").first.wait_for(state="visible", timeout=30000)
    entries = [t.strip() for t in expander.locator("[data-testid='stExpanderDetails'] [data-testid='stMarkdownContainer']").all_inner_texts() if t.strip()]
    assert len(entries) == 10, entries
    terms = [b.strip() for b in expander.locator("[data-testid='stExpanderDetails'] [data-testid='stMarkdownContainer'] strong").all_inner_texts()]
    assert len(terms) == 10 and len(set(t.lower() for t in terms)) == 10, terms
    for entry, term in zip(entries, terms, strict=True):
        rest = re.sub(r"^[:：]?\s*", "", entry[len(term):]) if entry.startswith(term) else entry
        assert entry.startswith(term) and not rest.lower().startswith(term.lower()), entry
    expander.screenshot(path=str(shots / "glossary.png"))

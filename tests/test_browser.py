"""The dashboard in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

The server runs on the tiny test model (tests/conftest.py). Screenshots go to
$DNNLENS_SCREENSHOTS (default: a pytest tmp dir) for people to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import browser_page, click_largest_square, streamlit_server, wait_ready

NO_EXCEPTION = "[data-testid='stException']"


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
    assert nav_titles(page) == ["Home", "Importance map", "Phoneme pair"]
    assert page.locator("h1").first.inner_text() == "Phoneme pair"


@pytest.mark.parametrize("path,title,name", [("", "dnnlens: what a deep neural network looks at", "home"),
                                             ("importance_map", "Importance map", "map"),
                                             ("phoneme_pair", "Phoneme pair", "pair")])
def test_every_page_renders(server, page, shots, path, title, name):
    page.goto(f"{server}/{path}")
    wait_ready(page, 120000)
    assert page.locator(NO_EXCEPTION).count() == 0
    assert page.locator("h1").first.inner_text() == title
    assert nav_titles(page) == ["Home", "Importance map", "Phoneme pair"]
    if path:
        assert page.locator("[data-testid='stVegaLiteChart'] svg g.mark-symbol path").count() > 100
    page.screenshot(path=str(shots / f"{name}.png"))


def test_click_on_pair_square_shows_densities(server, page, shots):
    page.goto(f"{server}/phoneme_pair")
    wait_ready(page, 120000)
    assert "Largest square" in page.locator("h3").first.inner_text()
    label = click_largest_square(page)
    page.wait_for_function(
        "() => [...document.querySelectorAll('h3')].some(h => h.innerText.includes('Selected input'))",
        timeout=30000,
    )
    wait_ready(page)
    assert page.locator(NO_EXCEPTION).count() == 0
    # the density view names the clicked input and draws both densities with the overlap shaded
    fields = dict(part.split(": ", 1) for part in label.split("; "))
    offset = int(fields["offset_frames"].replace("\u2212", "-"))
    described = page.get_by_text("frame offset").first.inner_text()
    assert f"frame offset {offset:+d}" in described and f"channel {fields['channel']})" in described
    density = page.locator("[data-testid='stVegaLiteChart']").nth(1)
    assert density.locator("svg g.mark-area path").count() >= 1
    assert density.locator("svg g.mark-line path").count() == 2
    items = page.locator("li").all_inner_texts()
    assert any(t.startswith("overlap ε = 0.") or t == "overlap ε = 1.00" for t in items), items
    assert any(t.startswith("p_e = ") for t in items), items
    page.screenshot(path=str(shots / "pair_clicked.png"))

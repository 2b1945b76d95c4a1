"""The Findings page in a real browser (Debian's Chromium, Playwright, `streamlit run` on the tiny
models under the cards' model names): every card drawn with its verdict and chart, no chart wider
than its column at 1024 px, and a card's link opens its page with the card's settings."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.findings import CLAIMS
from tests.browser import CHART_OVERFLOW, browser_page, streamlit_server, wait_ready
from tests.test_findings import findings_models  # noqa: F401  (the fixture)

CARDS_SHOWN = """(n) => document.querySelectorAll("[data-testid='stHeading'] h3").length >= n"""


@pytest.fixture(scope="module")
def server(findings_models):  # noqa: F811
    with streamlit_server(env={"DNNLENS_MODELS": str(findings_models)}) as url:
        yield url


def test_findings_page_in_the_browser(server, tmp_path):
    shots = Path(os.environ.get("DNNLENS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with browser_page(1024, 1400) as page:
        page.goto(f"{server}/findings")
        page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=300000)
        wait_ready(page, 300000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("h1").first.inner_text() == "Findings"
        titles = page.locator("[data-testid='stHeading'] h3").all_inner_texts()
        assert [t.strip() for t in titles] == [c.title for c in CLAIMS.values()]
        text = page.locator("[data-testid='stMain']").inner_text()
        assert text.count("Ours:") == len(CLAIMS)
        charts = page.locator("[data-testid='stVegaLiteChart']").count()
        in_blocks = page.locator("[data-testid='stExpander'] [data-testid='stVegaLiteChart']").count()
        assert charts - in_blocks == len(CLAIMS)  # one per card, besides the 'why these differ' blocks'
        assert in_blocks <= 3  # Fig 4's and the two /b/-/d/ cards' blocks
        assert page.evaluate(CHART_OVERFLOW) == []
        page.screenshot(path=str(shots / "findings.png"), full_page=True)
        page.locator("[data-testid='stPageLink'] a[href*='card=s_sh&']").click()  # the English card's link
        page.wait_for_url("**/phoneme_pair?**", timeout=60000)
        wait_ready(page, 300000)
        assert "pair_a=s" in page.url and "pair_b=sh" in page.url and "rank=score" in page.url
        assert page.locator("h1").first.inner_text() == "Phoneme pair"
        assert page.locator("[data-testid='stException']").count() == 0

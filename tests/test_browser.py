"""The dashboard in a real browser: Debian's Chromium driven by Playwright against `streamlit run`.

Screenshots go to $DNNLENS_SCREENSHOTS (default: a pytest tmp dir) for people to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser import browser_page, streamlit_server, wait_ready


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    d = os.environ.get("DNNLENS_SCREENSHOTS")
    path = Path(d) if d else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def server():
    with streamlit_server() as url:
        yield url


@pytest.fixture(scope="module")
def page():
    with browser_page() as p:
        yield p


def test_home_page_renders(server, page, shots):
    page.goto(server)
    wait_ready(page)
    assert page.locator("[data-testid='stException']").count() == 0
    assert page.get_by_text("what a deep neural network looks at").first.is_visible()
    page.screenshot(path=str(shots / "home.png"), full_page=True)
    assert (shots / "home.png").stat().st_size > 10_000

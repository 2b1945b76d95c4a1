"""The method page ("Which importance to trust") in Debian's Chromium on the tiny models: the
verdict and eight maps appear after the progress bars, every view draws its chart inside its
column, no exception, no console error. Screenshots go to $DNNLENS_SCREENSHOTS (or a tmp dir)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.browser import CHART_OVERFLOW, DATA_SQUARES, browser_page, streamlit_server, wait_ready


def test_method_page_in_the_browser(tiny_models_dir, tmp_path):
    shots = Path(os.environ.get("DNNLENS_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    with streamlit_server(env={"DNNLENS_MODELS": str(tiny_models_dir)}) as url, browser_page(1024, 2400) as page:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        wait_ready(page, 120000)
        page.get_by_role("link", name="Which importance to trust").click()
        page.get_by_text("The evidence favours").wait_for(timeout=600000)
        wait_ready(page, 600000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("h1").first.inner_text() == "Which importance to trust"
        squares = page.locator(f"[data-testid='stVegaLiteChart'] {DATA_SQUARES}")
        assert squares.count() >= 8 * 1000  # eight maps of 35 x 40 cells (empty cells draw nothing)
        assert page.evaluate(CHART_OVERFLOW) == []
        page.screenshot(path=str(shots / "methods_maps.png"))
        for view, text in (("Faithfulness", "deletion: top inputs removed first"),
                           ("Sanity checks", "sanity: does the map change"),
                           ("Stability", "split-half rank correlation")):
            page.get_by_role("radio", name=view, exact=True).click()  # segmented control
            page.get_by_text(text).first.wait_for(timeout=60000)
            wait_ready(page, 60000)
            assert page.locator("[data-testid='stException']").count() == 0
            assert page.evaluate(CHART_OVERFLOW) == []
            page.screenshot(path=str(shots / f"methods_{view.split()[0].lower()}.png"))
        assert "mview=stability" in page.url
        assert not errors, errors

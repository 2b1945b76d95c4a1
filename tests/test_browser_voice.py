"""The Your voice page in Debian's Chromium: upload a sample WAV, see posteriors and alignment,
download the TextGrid; no console error, no exception."""

from __future__ import annotations

from pathlib import Path

from core.phones import read_textgrid
from tests.browser import CHART_OVERFLOW, browser_page, streamlit_server, wait_ready

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "samples" / "she_sells.wav"


def test_upload_align_download(tiny_models_dir, tmp_path):
    with streamlit_server(env={"DNNLENS_MODELS": str(tiny_models_dir)}) as url, \
            browser_page(1400, 2600) as page:
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(url)
        wait_ready(page)
        page.get_by_role("link", name="Your voice").click()
        page.get_by_text("Recording", exact=True).wait_for()
        wait_ready(page)
        page.get_by_text("upload a file").click()
        wait_ready(page)
        page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(str(SAMPLE))
        page.get_by_text("Decoded by the network").wait_for(timeout=60000)
        wait_ready(page)
        page.get_by_label("Transcript", exact=False).fill("She sells sea shells on the sea shore")
        page.keyboard.press("Enter")
        page.get_by_text("Agreement with pocketsphinx").wait_for(timeout=60000)
        wait_ready(page)
        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stVegaLiteChart']").count() >= 2
        with page.expect_download() as info:
            page.get_by_role("button", name="Download TextGrid").click()
        out = tmp_path / "alignment.TextGrid"
        info.value.save_as(out)
        phones = [s.phone for s in read_textgrid(out)]
        assert phones[:3] == ["sil", "sh", "iy"]
        page.screenshot(path=str(tmp_path / "your_voice.png"), full_page=True)
        # a click on the spectrogram moves the time cursor there
        cursor = page.locator("[data-testid='stSlider'] [data-testid='stSliderThumbValue']").first
        before = cursor.inner_text()
        heading = page.locator("h3").filter(has_text="The frame at").first
        pic = page.locator(".st-key-voice_chart [data-testid='stVegaLiteChart']").first.locator("svg.marks, canvas").first
        box = pic.bounding_box()
        page.mouse.click(box["x"] + 120, box["y"] + 80)  # left part of the spectrogram: near 0.1 s
        page.wait_for_function("(b) => !document.querySelector(\"[data-testid='stSliderThumbValue']\")"
                               ".innerText.includes(b)", arg=before, timeout=60000)
        after = float(cursor.inner_text())
        assert after < 0.5 <= float(before), (before, after)
        heading.filter(has_text=f"{after:.2f} s").wait_for(timeout=60000)
        assert page.locator("[data-testid='stException']").count() == 0
        assert not errors, errors


def test_charts_fit_a_1024_px_screen(tiny_models_dir):
    """At 1024 px with the sidebar open, in English and Japanese, every chart of the page (the
    stacked spectrogram / posteriors / tracks, the VTLN curve, the frame's gradient, the corpus
    comparison) stays inside its column."""
    with streamlit_server(env={"DNNLENS_MODELS": str(tiny_models_dir)}) as url, browser_page(1024, 2400) as page:
        for lang in ("", "?lang=ja"):
            page.goto(f"{url}/your_voice{lang}")
            page.locator("[data-testid='stMetric']").nth(1).wait_for(timeout=120000)
            wait_ready(page)
            switch = page.locator("[data-testid='stCheckbox']:has-text('VTLN')")  # off by default here
            vtln = switch.locator("input")
            if not vtln.is_checked():
                switch.locator("label").click()
                wait_ready(page)
            assert vtln.is_checked()
            page.locator("[data-testid='stExpander'] summary").first.click()  # how the warp was chosen
            wait_ready(page)
            assert page.locator("[data-testid='stVegaLiteChart']").count() >= 4
            assert page.evaluate(CHART_OVERFLOW) == [], lang

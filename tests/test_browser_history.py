"""Browser history in a real browser (Debian's Chromium, Playwright, `streamlit run` on the tiny
models under the Findings cards' names): a page change is one history entry, a setting changed inside
a page replaces the current entry, and Back returns to the page before (issue 28, item 1)."""

from __future__ import annotations

import pytest

from core.findings import CLAIMS, PAIR_LINK
from i18n import translate
from tests.browser import browser_page, streamlit_server, wait_ready
from tests.test_findings import findings_models  # noqa: F401  (the fixture)

H1_IS = """(text) => { const h = document.querySelector('h1'); return !!h && h.innerText === text; }"""
"""The page's title is ``text`` (after Back or Forward the address changes at once, the page's rerun
follows: wait for the title, not only for the script to be idle)."""
CARDS_SHOWN = """(n) => document.querySelectorAll("[data-testid='stHeading'] h3").length >= n"""


@pytest.fixture(scope="module")
def server(findings_models):  # noqa: F811
    with streamlit_server(env={"DNNLENS_MODELS": str(findings_models), "DNNLENS_WARMUP": "0"}) as url:
        yield url


def test_a_card_link_is_one_history_entry_and_back_returns_to_findings(server):
    with browser_page(1400, 1000) as page:
        page.goto(f"{server}/findings")
        page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=300000)
        wait_ready(page, 300000)
        before = page.evaluate("history.length")
        page.locator("[data-testid='stPageLink'] a[href*='card=s_sh&']").click()  # the English card's link
        page.wait_for_url("**/phoneme_pair?**", timeout=60000)
        wait_ready(page, 300000)
        assert page.locator("h1").first.inner_text() == "Phoneme pair"
        assert page.evaluate("history.length") == before + 1  # Findings, then the pair page: one entry
        # a setting changed inside the page (a suggested pair) replaces the entry
        page.get_by_role("button", name="b · d").click()
        page.wait_for_url("**pair_a=b&pair_b=d**", timeout=60000)
        wait_ready(page, 300000)
        assert page.evaluate("history.length") == before + 1
        page.go_back()
        page.wait_for_url("**/findings**", timeout=60000)
        wait_ready(page, 300000)
        page.wait_for_function(H1_IS, arg="Findings", timeout=60000)
        assert "/findings" in page.url and "pair_a" not in page.url
        page.go_forward()  # and Forward returns to the pair page as it was left
        page.wait_for_url("**/phoneme_pair?**pair_a=b&pair_b=d**", timeout=60000)
        page.wait_for_function(H1_IS, arg="Phoneme pair", timeout=60000)


def test_a_freshly_opened_address_adds_at_most_one_entry_of_its_own(server):
    with browser_page(1400, 1000) as page:
        page.add_init_script("window.__entries_at_load = history.length")
        page.goto(f"{server}/importance_map")
        wait_ready(page, 300000)
        assert "phone=" in page.url  # the run wrote its settings into the address
        assert page.evaluate("history.length - window.__entries_at_load") <= 1  # 10 before issue 28


IN_VIEW = """(id) => { const e = document.getElementById(id); if (!e) return false;
    const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < window.innerHeight; }"""


def test_the_way_back_from_a_card_page_opens_the_card_in_the_same_language(server):
    key = "b_d"  # the second card: below the first screen
    with browser_page(1024, 800) as page:
        page.goto(f"{server}/findings?lang=ja")
        page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=300000)
        wait_ready(page, 300000)
        assert not page.evaluate(IN_VIEW, f"card-{key}")
        link = page.locator(f"[data-testid='stPageLink'] a[href*='card={key}&']")  # the English model's card
        assert link.inner_text().strip().endswith(translate(PAIR_LINK, "ja").format(a="b", b="d"))
        link.click()
        page.wait_for_url("**/phoneme_pair?**", timeout=60000)
        wait_ready(page, 300000)
        back = translate("Back to the Findings card: {t}", "ja").format(t=translate(CLAIMS[key].title, "ja"))
        page.get_by_role("link", name=back).click()
        page.wait_for_url("**/findings?**", timeout=60000)
        wait_ready(page, 300000)
        assert "lang=ja" in page.url
        assert page.locator("h1").first.inner_text() == translate("Findings", "ja")
        page.wait_for_function(IN_VIEW, arg=f"card-{key}", timeout=10000)


@pytest.fixture(scope="module")
def server_with_ja(findings_models, tmp_path_factory):  # noqa: F811
    """The cards' models and a model under the Japanese default's name (the tiny speech model)."""
    root = tmp_path_factory.mktemp("with_ja")
    for p in findings_models.iterdir():
        (root / p.name).symlink_to(p.resolve(), target_is_directory=True)
    (root / "speech_ja_mfbank").symlink_to((findings_models / "speech_en_mfbank").resolve(), target_is_directory=True)
    with streamlit_server(env={"DNNLENS_MODELS": str(root), "DNNLENS_WARMUP": "0"}) as url:
        yield url


SIDEBAR_MODEL = "() => document.querySelector(\"[data-testid='stSidebar'] [data-testid='stSelectbox'] input\").value"


def test_the_sidebar_shows_the_model_of_the_address_after_a_way_back_in_japanese(server_with_ja):
    """Japanese interface: Findings (Japanese default model) -> a card's pair page (the card's
    English model) -> back to the card: the sidebar's model box shows the model the page uses (it
    showed the Japanese default while the address and the caption were the English model's)."""
    with browser_page(1400, 1000) as page:
        page.goto(f"{server_with_ja}/findings?lang=ja")
        page.wait_for_function(CARDS_SHOWN, arg=len(CLAIMS), timeout=300000)
        wait_ready(page, 300000)
        assert page.evaluate(SIDEBAR_MODEL) == "speech_ja_mfbank"
        page.locator("[data-testid='stPageLink'] a[href*='card=s_sh&']").click()  # the English card's link
        page.wait_for_url("**/phoneme_pair?**", timeout=60000)
        wait_ready(page, 300000)
        back = translate("Back to the Findings card: {t}", "ja").split("{")[0].strip()
        page.get_by_text(back).first.click()
        page.wait_for_url("**/findings**", timeout=60000)
        wait_ready(page, 300000)
        assert "model=speech_en_mfbank" in page.url
        assert page.evaluate(SIDEBAR_MODEL) == "speech_en_mfbank"

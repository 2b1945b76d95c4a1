"""The claims of the seed paper (``CLAIMS``), the constants of their verdict rules, the settings
and models of every card (see the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.models import ASSETS_DIR

VERDICTS = ("reproduced", "partly", "not reproduced")

TOP_CELLS = 10
BAND_TOLERANCE = 0.10
CENTRAL_FRAMES = 2
SHARE = 0.5
SOME = 0.2
MARGIN = 0.02
MAP_CENTRAL_FRAMES = 3
MAP_CONCENTRATION = 2.0
MAP_TOP = 20

SPEECH_MODEL = "speech_en_mfbank"
STATES_MODEL = "speech_en_mfbank_states"
DIGITS_MODEL = "digits_cnn"
SETTINGS = {"stat": "std", "output": "posterior", "sample": "all", "bins": 30, "rank": "score"}
"""The settings of every card: the paper's index (std of d posterior / dx) over every validation
frame, p_e from 30 bins (the dashboard's default), pairs ranked by score."""
CURVE_ORDERS = ("imp_asc", "imp_desc", "random", "l1")
"""The deletion orders of the curve cards (the Units and Digit CNN pages' defaults)."""

SHIPPED_PATH = ASSETS_DIR / "findings" / "findings.json"
COMMAND = "python -m core findings --write"
FORMAT = "dnnlens-findings"


class FindingsError(ValueError):
    """A findings request a user can get wrong (unknown card, a shipped file that cannot be read)."""


@dataclass(frozen=True)
class Link:
    """A page and the URL parameters that open it with the card's exact settings."""

    label: str
    page: str  # path under the repository, e.g. "pages/phoneme_pair.py"
    params: tuple[tuple[str, str], ...]

    def query(self) -> dict[str, str]:
        return dict(self.params)

    def url(self) -> str:
        """The relative address, e.g. ``phoneme_pair?pair_a=s&pair_b=sh``."""
        from urllib.parse import urlencode

        return f"{Path(self.page).stem}?{urlencode(self.params)}"


@dataclass(frozen=True)
class Claim:
    """One finding of the seed paper: ``claim`` (one sentence), ``rule`` (how the verdict is
    reached), ``models`` (names under the models folder), ``ahead`` (computed by ``--write``
    rather than live), ``links`` (pages showing it)."""

    key: str
    title: str
    claim: str
    rule: str
    models: tuple[str, ...]
    ahead: bool
    links: tuple[Link, ...]
    bands: tuple[tuple[float, float], ...] = ()
    central: bool = False
    pair: tuple[str, str] = ()
    units: str = ""


def _speech_params(model: str, **more: str) -> tuple[tuple[str, str], ...]:
    base = {
        "model": model,
        "sample": SETTINGS["sample"],
        "stat": SETTINGS["stat"],
        "output": SETTINGS["output"],
    }
    return tuple({**base, **more}.items())


def _pair_claim(key: str, a: str, b: str, title: str, claim: str, bands, central: bool) -> Claim:
    where = " or ".join(f"{lo:,.0f} Hz" if lo == hi else f"{lo:,.0f}-{hi:,.0f} Hz" for lo, hi in bands)
    time = f" and at least half at offsets within ±{CENTRAL_FRAMES} frames" if central else ""
    rule = (
        f"Of the top {TOP_CELLS} cells by score, at least half with a centre frequency in {where} "
        f"(±{BAND_TOLERANCE:.0%}){time}: reproduced; one of these, or at least {SOME:.0%} in the band: "
        "partly; otherwise not reproduced."
    )
    link = Link(
        f"/{a}/ vs /{b}/ on the Phoneme pair page",
        "pages/phoneme_pair.py",
        _speech_params(SPEECH_MODEL, pair_a=a, pair_b=b, rank=SETTINGS["rank"], bins=str(SETTINGS["bins"])),
    )
    return Claim(key, title, claim, rule, (SPEECH_MODEL,), False, (link,), tuple(bands), central, (a, b))


def _curve_rule() -> str:
    return (
        f"Mean accuracy over the curve: least important first >= random + {MARGIN:.2f} and random >= most "
        f"important first + {MARGIN:.2f}: reproduced; only least >= most + {MARGIN:.2f}: partly; "
        "otherwise not reproduced."
    )


CLAIMS: dict[str, Claim] = {
    c.key: c
    for c in (
        _pair_claim(
            "s_sh",
            "s",
            "sh",
            "/s/ vs /sh/",
            "The inputs that tell /s/ from /sh/ (large for both outputs and differently distributed) lie in "
            "the central frames at 3-4 kHz (channels 26-29).",
            ((3000.0, 4000.0),),
            True,
        ),
        _pair_claim(
            "b_d",
            "b",
            "d",
            "/b/ vs /d/",
            "The inputs that tell /b/ from /d/ lie at about 1 kHz and 1.5-1.6 kHz.",
            ((1000.0, 1000.0), (1500.0, 1600.0)),
            False,
        ),
        Claim(
            "fig8",
            "Fig 8: input units",
            "Deleting input units least important first keeps the recognition rate far longer than deleting them "
            "most important first (random in between).",
            _curve_rule(),
            (SPEECH_MODEL,),
            True,
            (
                Link(
                    "Input units on the Units and pruning page",
                    "pages/units_pruning.py",
                    _speech_params(SPEECH_MODEL, prune_units="input"),
                ),
            ),
            units="input",
        ),
        Claim(
            "fig9",
            "Fig 9: hidden units, all layers",
            "The same holds for the hidden units of all layers: least important first loses least.",
            _curve_rule(),
            (SPEECH_MODEL,),
            True,
            (
                Link(
                    "Hidden units, all layers, on the Units and pruning page",
                    "pages/units_pruning.py",
                    _speech_params(SPEECH_MODEL, prune_units="hidden"),
                ),
                Link(
                    "One hidden layer at a time (layer 7) on the Units and pruning page",
                    "pages/units_pruning.py",
                    _speech_params(SPEECH_MODEL, prune_units="layer", prune_layer="7"),
                ),
            ),
            units="hidden",
        ),
        Claim(
            "fig13",
            "Fig 13: CNN conv2 filters",
            "Deleting the digit CNN's conv2 filters least important first, retraining only the fully connected "
            "layers after each deletion, keeps the accuracy longer than most important first.",
            _curve_rule(),
            (DIGITS_MODEL,),
            True,
            (
                Link(
                    "Deleting filters on the Digit CNN page",
                    "pages/digit_cnn.py",
                    (
                        ("digits_model", DIGITS_MODEL),
                        ("cnn_view", "prune"),
                        ("stat", SETTINGS["stat"]),
                        ("output", SETTINGS["output"]),
                    ),
                ),
            ),
            units="filters",
        ),
        Claim(
            "fig4",
            "Fig 4: /s/ in its middle state S2",
            "The importance map of /s/ in its middle state S2 (3 states per phoneme) is concentrated on the central "
            "frames, and lies higher in frequency than that of /sh/.",
            f"Share of /s/ S2's importance within ±{MAP_CENTRAL_FRAMES} frames at least {MAP_CONCENTRATION:g}x a flat "
            f"map's, and the median frequency of its top {MAP_TOP} cells above /sh/ S2's: reproduced; one of the two: "
            "partly; neither: not reproduced.",
            (STATES_MODEL,),
            False,
            (
                Link(
                    "/s/ S2 on the Importance map page",
                    "pages/importance_map.py",
                    _speech_params(STATES_MODEL, phone="s", part="S2"),
                ),
                Link(
                    "/sh/ S2 on the Importance map page",
                    "pages/importance_map.py",
                    _speech_params(STATES_MODEL, phone="sh", part="S2"),
                ),
            ),
        ),
    )
}
"""The cards, in the order the page shows them."""

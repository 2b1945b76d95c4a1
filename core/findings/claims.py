"""The claims of the seed paper (``CLAIMS``), the constants of their verdict rules, the settings
and models of every card (see the package's docstring)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.importance.explain import FLAT_RATIO
from core.models import ASSETS_DIR
from core.text import N_, Translate, UserError, english

VERDICTS = (N_("reproduced"), N_("partly"), N_("not reproduced"), N_("within noise"))
"""The verdicts; the last, "within noise": the rule's figure gives one of the others, but the bootstrap
interval of a criterion that decides it crosses its threshold (``core.findings.uncertainty``)."""

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
JA_SPEECH_MODEL = "speech_ja_mfbank"
"""The Japanese model: the paper measured Japanese speech, so its pair cards come first."""
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


class FindingsError(UserError):
    """A findings request a user can get wrong (unknown card, a shipped file that cannot be read)."""


@dataclass(frozen=True)
class Link:
    """A page and the URL parameters that open it with the card's exact settings."""

    label: str
    page: str  # path under the repository, e.g. "screens/phoneme_pair.py"
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
    rule_msg: str = ""
    """``rule`` as a catalogue message with {fields} (``rule_text`` fills them in a language)."""
    rule_args: tuple[tuple[str, str], ...] = ()

    def rule_text(self, tr: Translate = english) -> str:
        """The rule in the interface language (``rule`` itself in English)."""
        if not self.rule_msg:
            return tr(self.rule)
        args = dict(self.rule_args)
        if self.bands:
            args["where"] = tr(" or ").join(
                f"{lo:,.0f} Hz" if lo == hi else f"{lo:,.0f}-{hi:,.0f} Hz" for lo, hi in self.bands
            )
        return tr(self.rule_msg).format(**args)


def _speech_params(model: str, **more: str) -> tuple[tuple[str, str], ...]:
    base = {
        "model": model,
        "sample": SETTINGS["sample"],
        "stat": SETTINGS["stat"],
        "output": SETTINGS["output"],
    }
    return tuple({**base, **more}.items())


PAIR_LINK = N_("/{a}/ vs /{b}/ on the Phoneme pair page")
"""The pair cards' link label (``Link.label`` is it filled in, in English)."""


def _pair_claim(key: str, a: str, b: str, title: str, claim: str, bands, central: bool,
                model: str = SPEECH_MODEL) -> Claim:
    msg = (
        N_(
            "Of the top {top} cells by score, at least half with a centre frequency in {where} (±{tol}) and at "
            "least half at offsets within ±{frames} frames: reproduced; one of these, or at least {some} in the "
            "band: partly; otherwise not reproduced."
        )
        if central
        else N_(
            "Of the top {top} cells by score, at least half with a centre frequency in {where} (±{tol}): "
            "reproduced; at least {some} in the band: partly; otherwise not reproduced."
        )
    )
    args = (
        ("top", str(TOP_CELLS)),
        ("tol", f"{BAND_TOLERANCE:.0%}"),
        ("frames", str(CENTRAL_FRAMES)),
        ("some", f"{SOME:.0%}"),
    )
    where = " or ".join(f"{lo:,.0f} Hz" if lo == hi else f"{lo:,.0f}-{hi:,.0f} Hz" for lo, hi in bands)
    rule = msg.format(where=where, **dict(args))
    link = Link(
        PAIR_LINK.format(a=a, b=b),
        "screens/phoneme_pair.py",
        _speech_params(model, pair_a=a, pair_b=b, rank=SETTINGS["rank"], bins=str(SETTINGS["bins"])),
    )
    return Claim(
        key,
        title,
        claim,
        rule,
        (model,),
        False,
        (link,),
        tuple(bands),
        central,
        (a, b),
        rule_msg=msg,
        rule_args=args,
    )


CURVE_RULE = N_(
    "Mean accuracy over the curve: least important first >= random + {m} and random >= most "
    "important first + {m}: reproduced; only least >= most + {m}: partly; otherwise not reproduced."
)
CURVE_RULE_ARGS = (("m", f"{MARGIN:.2f}"),)


def _curve_rule() -> str:
    return CURVE_RULE.format(**dict(CURVE_RULE_ARGS))


MAP_RULE = N_(
    "Share of /s/ S2's importance within ±{frames} frames at least {times}x a flat map's, and the median "
    "frequency of its top {top} cells above /sh/ S2's while the chart is not flat (some channel carries at "
    "least {ratio}x the median channel's share): reproduced; one of the two: partly; neither: not reproduced."
)
MAP_RULE_ARGS = (
    ("frames", str(MAP_CENTRAL_FRAMES)),
    ("times", f"{MAP_CONCENTRATION:g}"),
    ("top", str(MAP_TOP)),
    ("ratio", f"{FLAT_RATIO:g}"),
)

def _unit_claims(suffix: str, model: str, title8: str, title9: str, last_layer: str | None = None) -> tuple[Claim, ...]:
    """Fig 8 (input units) and Fig 9 (hidden units, all layers) on ``model`` (keys ``fig8`` +
    ``suffix``, ``fig9`` + ``suffix``); ``last_layer``: the layer the "one layer at a time" link
    opens (None: the page's default layer)."""
    layer_params = {"prune_units": "layer", **({"prune_layer": last_layer} if last_layer else {})}
    return (
        Claim(
            "fig8" + suffix,
            title8,
            N_(
                "Deleting input units least important first keeps the recognition rate far longer than deleting "
                "them most important first (random in between)."
            ),
            _curve_rule(),
            (model,),
            True,
            (
                Link(
                    N_("Input units on the Units and pruning page"),
                    "screens/units_pruning.py",
                    _speech_params(model, prune_units="input"),
                ),
            ),
            units="input",
            rule_msg=CURVE_RULE,
            rule_args=CURVE_RULE_ARGS,
        ),
        Claim(
            "fig9" + suffix,
            title9,
            N_("The same holds for the hidden units of all layers: least important first loses least."),
            _curve_rule(),
            (model,),
            True,
            (
                Link(
                    N_("Hidden units, all layers, on the Units and pruning page"),
                    "screens/units_pruning.py",
                    _speech_params(model, prune_units="hidden"),
                ),
                Link(
                    N_("One hidden layer at a time (layer 7) on the Units and pruning page") if last_layer
                    else N_("One hidden layer at a time on the Units and pruning page"),
                    "screens/units_pruning.py",
                    _speech_params(model, **layer_params),
                ),
            ),
            units="hidden",
            rule_msg=CURVE_RULE,
            rule_args=CURVE_RULE_ARGS,
        ),
    )


S_SH_CLAIM = N_(
    "The inputs that tell /s/ from /sh/ (large for both outputs and differently distributed) lie in "
    "the central frames at 3-4 kHz (channels 26-29)."
)
S_SH_BANDS = ((3000.0, 4000.0),)
B_D_CLAIM = N_("The inputs that tell /b/ from /d/ lie at about 1 kHz and 1.5-1.6 kHz.")
B_D_BANDS = ((1000.0, 1000.0), (1500.0, 1600.0))

CLAIMS: dict[str, Claim] = {
    c.key: c
    for c in (
        _pair_claim(
            "s_sh_ja",
            "s",
            "sh",
            N_("/s/ vs /sh/, Japanese model"),
            S_SH_CLAIM,
            S_SH_BANDS,
            True,
            JA_SPEECH_MODEL,
        ),
        _pair_claim("s_sh", "s", "sh", N_("/s/ vs /sh/, English model"), S_SH_CLAIM, S_SH_BANDS, True),
        _pair_claim(
            "b_d_ja", "b", "d", N_("/b/ vs /d/, Japanese model"), B_D_CLAIM, B_D_BANDS, False, JA_SPEECH_MODEL
        ),
        _pair_claim("b_d", "b", "d", N_("/b/ vs /d/, English model"), B_D_CLAIM, B_D_BANDS, False),
        *_unit_claims("_ja", JA_SPEECH_MODEL, N_("Fig 8: input units, Japanese model"),
                      N_("Fig 9: hidden units, all layers, Japanese model")),
        *_unit_claims("", SPEECH_MODEL, N_("Fig 8: input units, English model"),
                      N_("Fig 9: hidden units, all layers, English model"), last_layer="7"),
        Claim(
            "fig13",
            N_("Fig 13: CNN conv2 filters"),
            N_(
                "Deleting the digit CNN's conv2 filters least important first, retraining only the fully connected "
                "layers after each deletion, keeps the accuracy longer than most important first."
            ),
            _curve_rule(),
            (DIGITS_MODEL,),
            True,
            (
                Link(
                    N_("Deleting filters on the Digit CNN page"),
                    "screens/digit_cnn.py",
                    (
                        ("digits_model", DIGITS_MODEL),
                        ("cnn_view", "prune"),
                        ("stat", SETTINGS["stat"]),
                        ("output", SETTINGS["output"]),
                    ),
                ),
            ),
            units="filters",
            rule_msg=CURVE_RULE,
            rule_args=CURVE_RULE_ARGS,
        ),
        Claim(
            "fig4",
            N_("Fig 4: /s/ in its middle state S2, English 3-state model"),
            N_(
                "The importance map of /s/ in its middle state S2 (3 states per phoneme) is concentrated on the "
                "central frames, and lies higher in frequency than that of /sh/."
            ),
            MAP_RULE.format(**dict(MAP_RULE_ARGS)),
            (STATES_MODEL,),
            False,
            (
                Link(
                    N_("/s/ S2 on the Importance map page"),
                    "screens/importance_map.py",
                    _speech_params(STATES_MODEL, phone="s", part="S2"),
                ),
                Link(
                    N_("/sh/ S2 on the Importance map page"),
                    "screens/importance_map.py",
                    _speech_params(STATES_MODEL, phone="sh", part="S2"),
                ),
            ),
            rule_msg=MAP_RULE,
            rule_args=MAP_RULE_ARGS,
        ),
    )
}
"""The cards, in the order the page shows them: the pair claims on the Japanese model (the paper's
language) before the English one."""

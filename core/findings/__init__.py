"""The seed paper's claims, each measured on the shipped models and judged by a stated rule.

One ``Claim`` per finding (``CLAIMS``): the claim in one sentence, the rule that turns our figure
into a verdict (``VERDICTS``: reproduced, partly, not reproduced), the models it is measured on,
whether it is cheap enough to compute live (``ahead=False``) or computed ahead by
``python -m core findings --write`` into ``SHIPPED_PATH``, and the page (with URL parameters) that
shows it. A ``Finding`` is our figure, the verdict and the numbers it came from, plus the rows of
its small chart; it comes from one of three builders, which take exactly what the pages compute:

- ``pair_finding(claim, table)``: ``table`` = ``core.importance.pairs.pair_table`` (what
  ``app_state.pair_data`` returns), ranked by score = importance_a x importance_b x p_e, the pair
  page's default;
- ``curve_finding(claim, curve)``: a ``core.pruning.PruneCurve`` (what ``app_state.prune_curve``
  returns) or its ``to_dict()``;
- ``map_finding(claim, features, imp_s, imp_sh)``: two importance vectors (``app_state.importance``).

The rules, written down (constants below; each is a pure function, tested on constructed inputs):

- **Pairs** (``band_verdict``): the top ``TOP_CELLS`` cells by score; a cell is *in the paper's
  band* when its channel's centre frequency lies in one of the claim's intervals widened by
  ``BAND_TOLERANCE`` (10 %) on each side, and *central* when |offset| <= ``CENTRAL_FRAMES``.
  The criteria are: at least ``SHARE`` (half) of the cells in the band, and, when the paper names
  the time (s/sh: "the central frames"), at least half of them central. Reproduced: every
  criterion holds; partly: one holds, or at least ``SOME`` (a fifth) of the cells are in the band;
  not reproduced: otherwise.
- **Deletion curves** (``order_verdict``): the mean accuracy over the curve's points (the area
  under the curve per unit of x) of least-important-first (imp_asc), random (mean of its seeds)
  and most-important-first (imp_desc). Reproduced: imp_asc >= random + ``MARGIN`` and random >=
  imp_desc + ``MARGIN``; partly: imp_asc >= imp_desc + ``MARGIN`` only; not reproduced: otherwise.
- **Fig 4** (``map_verdict``): our reading of the figure (the issue names the figure, not its
  numbers): /s/'s middle-state map is concentrated on the central frames, and lies higher in
  frequency than /sh/'s. Criteria: the share of /s/ S2's total importance at |offset| <=
  ``MAP_CENTRAL_FRAMES`` is at least ``MAP_CONCENTRATION`` times the share a flat map would have;
  the median centre frequency of /s/ S2's top ``MAP_TOP`` cells is above /sh/ S2's. Reproduced:
  both; partly: one; not reproduced: neither.

**Uncertainty** (``uncertainty``, ``bootstrap``; issue 27): every rule is a few criteria, each a
signed margin (figure minus threshold, positive on the claim's side: ``values["margins"]``), and
every card's margins get a 95 % (``LEVEL``) percentile interval from ``N_BOOT`` (1,000) bootstrap
resamples drawn by ``default_rng(SEED)``: of the validation utterances (pairs, Fig 4; per-utterance
sums of g, g^2 and per-utterance histograms recombined), of the utterances of the evaluation
frames (Fig 8, Fig 9) or of the held-out digits (Fig 13), and for the curves of the random order's
seeds (``PruneCurve.hits`` recombined; the deletion orders and FC retraining are the card's). A
verdict reads "within noise" (the fourth of ``VERDICTS``) when letting every criterion whose
interval crosses its threshold go either way can change it (``values["uncertainty"]``: the point
verdict, every criterion's margin and interval, the one the card shows, what was resampled);
``interval_text`` is the card's line. Fig 9's per-layer verdicts are the rule's point verdicts (no
interval: they are a detail of the figure, not the card's verdict). A live card on the page takes
the shipped card's intervals when that card was computed on the same models, validation set and code
(``adopt_uncertainty``), else bootstraps now (one more gradient pass for its two targets).

Live computation without Streamlit (the CLI, ``--write`` and the tests) goes through ``compute``,
which calls the same core functions as ``app_state`` (``gradient_stats`` one target at a time
over the model's validation set, ``class_histograms`` with the dashboard's bins, ``pruning_curve``
with the Units and Digit CNN pages' arguments). ``write_shipped`` / ``read_shipped`` store the
results with the command, the date, the SHA-256 of every model's weights and fingerprints of the
validation sets and of the card's code; ``stale_models`` says which models (weights or validation
set) changed since, ``code_changed`` whether the code that computes the card did, and
``differences`` what a recomputation gives that the file does not (``findings --check``).
"""

from core.findings.claims import (
    BAND_TOLERANCE,
    CENTRAL_FRAMES,
    CLAIMS,
    COMMAND,
    CURVE_ORDERS,
    DIGITS_MODEL,
    FORMAT,
    MAP_CENTRAL_FRAMES,
    MAP_CONCENTRATION,
    MAP_TOP,
    MARGIN,
    PAIR_LINK,
    SETTINGS,
    SHARE,
    SHIPPED_PATH,
    SOME,
    SPEECH_MODEL,
    STATES_MODEL,
    TOP_CELLS,
    VERDICTS,
    Claim,
    FindingsError,
    Link,
)
from core.findings.compute import compute, prune_curve
from core.findings.rules import (
    Finding,
    _jsonable,
    adopt_uncertainty,
    band_decide,
    band_margins,
    band_verdict,
    curve_finding,
    curve_means,
    decide_for,
    figure_text,
    in_bands,
    map_decide,
    map_finding,
    map_margins,
    map_verdict,
    order_decide,
    order_margins,
    order_verdict,
    pair_finding,
)
from core.findings.shipped import (
    CHECK_TOLERANCE,
    CODE_MODULES,
    Shipped,
    Written,
    code_changed,
    code_fingerprint,
    code_modules,
    differences,
    model_checksum,
    read_shipped,
    stale_models,
    table_rows,
    validation_fingerprint,
    write_shipped,
)
from core.findings.uncertainty import CRITERIA, LEVEL, N_BOOT, NOISE, SEED, interval_text, judge

__all__ = [
    "CRITERIA",
    "LEVEL",
    "N_BOOT",
    "NOISE",
    "SEED",
    "adopt_uncertainty",
    "band_decide",
    "band_margins",
    "decide_for",
    "interval_text",
    "judge",
    "map_decide",
    "map_margins",
    "order_decide",
    "order_margins",
    "BAND_TOLERANCE",
    "CENTRAL_FRAMES",
    "CLAIMS",
    "COMMAND",
    "CURVE_ORDERS",
    "DIGITS_MODEL",
    "FORMAT",
    "MAP_CENTRAL_FRAMES",
    "MAP_CONCENTRATION",
    "MAP_TOP",
    "MARGIN",
    "SETTINGS",
    "SHARE",
    "SHIPPED_PATH",
    "SOME",
    "SPEECH_MODEL",
    "STATES_MODEL",
    "TOP_CELLS",
    "VERDICTS",
    "PAIR_LINK",
    "figure_text",
    "Claim",
    "Finding",
    "FindingsError",
    "Link",
    "Shipped",
    "Written",
    "_jsonable",
    "band_verdict",
    "compute",
    "curve_finding",
    "curve_means",
    "in_bands",
    "map_finding",
    "map_verdict",
    "model_checksum",
    "order_verdict",
    "pair_finding",
    "prune_curve",
    "read_shipped",
    "stale_models",
    "CHECK_TOLERANCE",
    "CODE_MODULES",
    "code_changed",
    "code_fingerprint",
    "code_modules",
    "differences",
    "validation_fingerprint",
    "table_rows",
    "write_shipped",
]

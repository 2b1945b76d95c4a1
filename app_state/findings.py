"""The Findings page's results: live cards from the same cached calls as the other pages, the
shipped file for the cards computed ahead (shared by all sessions, read-only).

- A live card (``core.findings.CLAIMS[key].ahead`` is False) is computed from ``pair_data`` /
  ``importance`` with the card's fixed settings (``core.findings.SETTINGS``, whatever the sidebar
  says), so it shares the gradient statistics and histograms of the map and pair pages; the
  Finding is kept per (models folder, card, model checksums).
- A card computed ahead comes from ``core.findings.SHIPPED_PATH`` (re-read when the file
  changes); ``stale`` names the models whose checksum differs from the one the file records. Such a
  card can also be computed now on the installed models (``prune_curve``, as the Units and Digit
  CNN pages do), on request, because it takes tens of seconds to minutes.
- Uncertainty of a live card: its bootstrap interval (``core.findings.uncertainty``) is the shipped
  card's when that card was computed on the same models, validation set and code (then only the
  point margins are live: no extra gradient pass in the warm-up); otherwise the bootstrap is
  computed now from per-utterance sums (one more gradient pass over the validation set for the
  card's two targets, ``core.findings.bootstrap``).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import altair as alt
import streamlit as st

from app_state.cache import _memo
from app_state.resources import Settings, importance, models_root, pair_data
from app_state.units import prune_curve
from core import findings as F
from core.models import read_model_info
from core.once import Once
from core.viz import findings as fc
from core.viz import maps
from i18n import current_language, tr

_SHIPPED = Once(max_entries=2)
"""The shipped file as read, per (path, modification time): the page and the warm-up's thread share it."""


def _shipped_file(path: str, mtime: float) -> F.Shipped | None:
    return _SHIPPED.get((path, mtime), lambda: F.read_shipped(path))


def shipped_findings() -> F.Shipped | None:
    """The shipped findings file (None if there is none); FindingsError if it cannot be read."""
    path = str(F.SHIPPED_PATH)
    return _shipped_file(path, os.path.getmtime(path)) if os.path.exists(path) else None


def missing_models(key: str) -> list[str]:
    """The card's models that are not installed in the models folder."""
    return [n for n in F.CLAIMS[key].models if F.model_checksum(models_root(), n) is None]


def stale_models(key: str) -> list[str]:
    """The card's models whose weights or validation set differ from those of the shipped result
    (or are missing)."""
    shipped = shipped_findings()
    return list(F.CLAIMS[key].models) if shipped is None else F.stale_models(shipped, key, models_root())


def code_changed(key: str) -> bool:
    """True when the code that computes the card is not the code of the shipped result."""
    shipped = shipped_findings()
    return shipped is None or F.code_changed(shipped, key)


def _settings(model: str) -> Settings:
    return Settings(
        model=model, sample_set=F.SETTINGS["sample"], stat=F.SETTINGS["stat"], output=F.SETTINGS["output"]
    )


def _key(key: str) -> tuple:
    path = F.SHIPPED_PATH
    return (
        "finding",
        models_root(),
        key,
        tuple(F.model_checksum(models_root(), n) for n in F.CLAIMS[key].models),
        os.path.getmtime(path) if os.path.exists(path) else None,  # the intervals may come from it
    )


def _current_shipped(key: str) -> F.Finding | None:
    """The shipped card ``key`` when it was computed on the installed models, validation sets and
    this code (no Streamlit call: the warm-up's thread calls it), else None."""
    path = str(F.SHIPPED_PATH)
    try:
        shipped = _shipped_file(path, os.path.getmtime(path)) if os.path.exists(path) else None
    except F.FindingsError:
        return None
    if (shipped is None or key not in shipped.findings or F.stale_models(shipped, key, models_root())
            or F.code_changed(shipped, key)):
        return None
    return shipped.findings[key]


def _resampled(key: str, hist=None):
    """A live card's figures in the bootstrap resamples of the validation utterances, computed now."""
    from app_state.resources import model, validation
    from core.findings import bootstrap as B

    c = F.CLAIMS[key]
    net, info = model(c.models[0])
    frames, _ = validation(c.models[0])
    if c.pair:
        counts = [B.utterance_histograms(info, frames, hist, p) for p in c.pair]
        return B.pair_resamples(B.utterance_stats(net, info, frames, c.pair), *counts, info.features, c.bands)
    return B.map_resamples(B.utterance_stats(net, info, frames, ("s_S2", "sh_S2")), info.features)


def _with_interval(key: str, point: F.Finding, build) -> F.Finding:
    """``point`` judged with the shipped card's intervals when they belong to these models and code,
    else ``build(resampled)`` with the bootstrap computed now."""
    ahead = _current_shipped(key)
    if ahead is not None and "uncertainty" in ahead.values:
        return F.adopt_uncertainty(point, ahead)
    return build()


def live_finding_ready(key: str) -> F.Finding | None:
    """The card's live Finding if it has been computed already (nothing is computed here)."""
    return _memo("findings").peek(_key(key))


def live_finding(key: str) -> F.Finding:
    """A cheap card computed now (cached for every session) with the pages' own cached calls; a
    card computed ahead is computed with ``prune_curve`` (slow: call it on request only)."""
    c = F.CLAIMS[key]

    def compute() -> F.Finding:
        if c.pair:
            table, hist = pair_data(_settings(c.models[0]), *c.pair, F.SETTINGS["bins"])
            return _with_interval(key, F.pair_finding(c, table),
                                  lambda: F.pair_finding(c, table, _resampled(key, hist)))
        if c.units:
            curve = prune_curve(
                c.models[0],
                c.units,
                2 if c.units == "filters" else None,
                F.CURVE_ORDERS,
                F.SETTINGS["stat"],
                F.SETTINGS["output"],
                retrain=True,
            )
            per_layer = None
            if c.units == "hidden":
                from app_state.resources import model

                per_layer = {
                    la: prune_curve(
                        c.models[0],
                        "hidden",
                        la,
                        F.CURVE_ORDERS,
                        F.SETTINGS["stat"],
                        F.SETTINGS["output"],
                        retrain=True,
                    )
                    for la in range(1, model(c.models[0])[1].arch["n_hidden"] + 1)
                }
            return F.curve_finding(c, curve, per_layer)
        cfg = _settings(c.models[0])
        s, sh = importance(cfg, "s_S2", ("s",)), importance(cfg, "sh_S2", ("sh",))
        from app_state.resources import model

        features = model(c.models[0])[1].features
        return _with_interval(key, F.map_finding(c, features, s.values, sh.values),
                              lambda: F.map_finding(c, features, s.values, sh.values, _resampled(key)))

    return _memo("findings").get(_key(key), compute)


def live_cards(root: str) -> list[str]:
    """The cards computed live (not ahead) whose models are all installed in ``root``: what the
    Findings page computes on its first view."""
    return [k for k, c in F.CLAIMS.items() if not c.ahead and all(F.model_checksum(root, n) for n in c.models)]


def live_needs(key: str) -> tuple[str, tuple[str, ...], int | None]:
    """(model, targets, bins) a live card reads: the gradient statistics of ``targets`` (phonemes
    or states) under ``SETTINGS["output"]``, and for a pair card the histograms of ``bins`` bins."""
    c = F.CLAIMS[key]
    if c.pair:
        return c.models[0], tuple(c.pair), F.SETTINGS["bins"]
    return c.models[0], ("s_S2", "sh_S2"), None


def warm_live_findings(inputs: dict, progress=None) -> None:
    """Compute the Findings page's live cards for the background warm-up (from its thread: no
    Streamlit element here). ``inputs``: ``{model: (stats key, net, view, labels, kwargs, info,
    frames)}`` resolved in the script thread (``app_state.resources._stats_inputs``). The statistics
    and histograms go through the pages' caches first, so ``live_finding`` then only reads them."""
    from app_state.cache import _memo
    from app_state.resources import _histograms_of, _stats_cache

    for key in live_cards(models_root()):
        name, targets, bins = live_needs(key)
        if name not in inputs:
            continue
        skey, net, view, labels, kwargs, info, frames = inputs[name]
        _stats_cache().get(skey, net, view, labels, [info.outputs_of(t) for t in targets],
                           output=F.SETTINGS["output"], progress=progress, **kwargs)
        if bins is not None:
            _memo("histograms").get((models_root(), name, bins),
                                    functools.partial(_histograms_of, info, frames, view, bins, progress))
        live_finding(key)


_CHARTS = Once(max_entries=256)


def card_chart(key: str, found: F.Finding) -> alt.TopLevelMixin:
    """The small chart of a card, built once per (card, Finding, interface language): the Findings
    page draws its Altair charts on every run, and building them was most of a later run's time.
    A Finding is kept by the shipped file's or the live results' cache, so its identity is a key
    (the entry holds it; should an identity be reused after its Finding was dropped, the chart is
    built afresh)."""
    c = F.CLAIMS[key]
    lang = current_language()

    def build() -> tuple[F.Finding, alt.TopLevelMixin]:
        frame_ms, max_hz = 10.0, 8000.0  # the paper's, and a card whose model is not installed
        if c.pair or not c.units:  # a speech card's axes: its model's frames and frequency range
            try:
                feats = read_model_info(Path(models_root()) / c.models[0]).features
                frame_ms, max_hz = feats.winstep * 1000, feats.highfreq
            except (OSError, ValueError, AttributeError):
                pass
        if c.pair:
            chart = fc.pair_chart(found.chart, c, tr=tr, frame_ms=frame_ms, max_hz=max_hz)
        elif c.units:
            chart = fc.curve_card_chart(
                found.chart,
                float(found.values["full_accuracy"]),
                x_title=tr("filters deleted") if c.units == "filters" else tr("units deleted"),
                tr=tr,
            )
        else:
            chart = fc.map_profile_chart(found.chart, tr=tr, max_hz=max_hz)
        return found, maps.drawn_unvalidated(chart)

    held, chart = _CHARTS.get((key, id(found), lang), build)
    return chart if held is found else build()[1]


def finding_to_quote(key: str) -> F.Finding | None:
    """The card's result for another page to quote (Home): computed live already in this server,
    else the shipped one if it belongs to the installed models; None when neither holds (then
    quote nothing rather than an old result)."""
    if missing_models(key):
        return None
    live = live_finding_ready(key)
    if live is not None:
        return live
    try:
        shipped = shipped_findings()
    except F.FindingsError:
        return None
    if shipped is None or key not in shipped.findings or stale_models(key) or code_changed(key):
        return None
    return shipped.findings[key]


def card_for(key: str, model: str | None) -> str:
    """The card of the same claim as ``key`` measured on ``model`` (e.g. the Japanese /s/-/sh/ card
    for the Japanese model), else ``key`` itself."""
    pair = F.CLAIMS[key].pair
    same = [k for k, c in F.CLAIMS.items() if pair and c.pair == pair and c.models[0] == model]
    return same[0] if same else key


def quoted_finding(key: str, model: str | None = None) -> str:
    """' This model (Findings page): <figure> Against the paper: <verdict>.' for a card's result
    to quote (``finding_to_quote``), or '' when there is none to quote; when ``model`` (the page's
    model) is not the card's, the card's model is named instead of "this model"."""
    found = finding_to_quote(key)
    if found is None:
        return ""
    sep = "" if current_language() == "ja" else " "  # Japanese sentences follow each other without a space
    card_model = F.CLAIMS[key].models[0]
    if model is not None and model != card_model:
        return sep + tr("The model {m} (the Findings page): {figure} Against the paper: {verdict}.").format(
            m=card_model, figure=F.figure_text(found, tr), verdict=tr(found.verdict))
    return sep + tr("This model (the Findings page): {figure} Against the paper: {verdict}.").format(
        figure=F.figure_text(found, tr), verdict=tr(found.verdict)
    )


FROM_PARAM, CARD_PARAM = "from", "card"
"""A Findings card's link adds ``from=findings&card=<key>`` to the page's settings; the opened page
then shows a link back to that card (``findings_back_link``), and the Findings page opened with
``card=<key>`` scrolls to it (``card_anchor``)."""


def card_anchor(key: str) -> str:
    """The HTML id of a card's heading on the Findings page."""
    return f"card-{key}"


def card_link_params(link: F.Link, key: str) -> dict[str, str]:
    """The URL parameters of a card's link: the page's settings, where the visitor came from, and
    the language (a copied link opens in it)."""
    return {**link.query(), FROM_PARAM: "findings", CARD_PARAM: key, "lang": current_language()}


def findings_back_link() -> None:
    """On a page a Findings card opened (``from=findings&card=<key>`` in the URL, kept while the
    visitor changes the page's settings): a link back to that card, in the session's language."""
    key = st.query_params.get(CARD_PARAM)
    if st.query_params.get(FROM_PARAM) != "findings" or key not in F.CLAIMS:
        return
    st.page_link(
        "screens/findings.py",
        label=tr("Back to the Findings card: {t}").format(t=tr(F.CLAIMS[key].title)),
        icon="↩️",
        query_params={CARD_PARAM: key, "lang": current_language()},
    )

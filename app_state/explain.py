"""The "why these differ" block (issue 27): one function, ``why_these_differ``, shown where the
pages' answers about one phoneme meet (the Importance map, Phoneme pair and "Which importance to
trust" pages, the Findings page's Fig 4 and /b/-/d/ cards).

Its figures come from ``core.importance.explain`` on exactly what those pages compute for the same
settings: ``importance`` (the map), ``pair_data`` (the pair's score, with the view's bins), the
trust page's report (its favoured method's map; only when it has been computed in this server:
the block never starts that minute-long computation) and the Fig 4 card's Finding. ``story``
returns them without drawing anything (the tests compare it with the core computation).

Choices: the partner of a phoneme is the paper's (/s/-/sh/, /b/-/d/, either order) on the map and
trust pages, the pair page's other phoneme there; the paper's bands are shaded and judged only for
the paper's pairs; MFCC models get no block (their channels are not frequency bands). The block is
an expander, closed at first: the pages stay short, a student opens it when the answers disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from app_state.cache import _memo
from app_state.figures import draw
from app_state.labels import SAMPLE_SETS
from app_state.resources import Settings, importance, label_index, model, models_root, pair_data, validation
from core import findings as F
from core.features import input_meaning
from core.importance import explain as X
from core.viz import explain as vx
from i18n import N_, current_language, tr

PAPER_PAIRS = tuple(dict.fromkeys(c.pair for c in F.CLAIMS.values() if c.pair))
"""The paper's pairs ((s, sh), (b, d)): the Findings cards' pairs."""


def partner_of(phone: str) -> str | None:
    """The paper's partner of a phoneme (s -> sh, d -> b), or None."""
    for a, b in PAPER_PAIRS:
        if phone in (a, b):
            return b if phone == a else a
    return None


def paper_claim(a: str, b: str) -> F.Claim | None:
    """A pair claim of the paper about {a, b} (its bands), in either order."""
    return next((c for c in F.CLAIMS.values() if c.pair and set(c.pair) == {a, b}), None)


@dataclass(frozen=True, eq=False)
class Story:
    """The block's figures: the map of ``target`` (``phone``'s frames for the class means), the
    pair (``phone``, ``partner``) with ``bins`` bins, each from the pages' own cached calls."""

    model: str
    target: str
    phone: str
    partner: str | None
    n_frames: int
    map: X.MapStory
    pair: X.PairStory | None

    @property
    def shown(self) -> str:
        """The map's output as titles write it: "/s/", or "/s/ S2" for one state."""
        return f"/{self.phone}/" if self.target == self.phone else f"/{self.phone}/ {self.target.rsplit('_', 1)[-1]}"


def story(cfg: Settings, target: str, phone: str, partner: str | None, bins: int) -> Story | None:
    """The figures of the block for these settings (None: an MFCC model); computed once per
    server for each set of arguments."""
    info = model(cfg.model)[1]
    fc = info.features
    if fc.kind != "mfbank":
        return None

    def compute() -> Story:
        frames = validation(cfg.model)[0]
        m = input_meaning(fc)
        imp = importance(cfg, target, (phone,))
        silence = label_index(cfg.model, info.phone_set.silence)
        ms = X.map_story(phone, imp.values, m["hz"], m["offset_frames"], fc.n_channels, frames.feats,
                         frames.labels, label_index(cfg.model, phone), silence)
        ps = None
        if partner is not None:
            table, _ = pair_data(cfg, phone, partner, bins)
            claim = paper_claim(phone, partner)
            band = F.in_bands(m["hz"][: fc.n_channels], claim.bands) if claim else None
            ps = X.pair_story(phone, partner, table["score"].to_numpy(), m["hz"], m["offset_frames"],
                              fc.n_channels, frames.feats, frames.labels, frames.frame_utt,
                              label_index(cfg.model, phone), label_index(cfg.model, partner), band)
        return Story(cfg.model, target, phone, partner, imp.n_frames, ms, ps)

    return _memo("stories", 64).get((models_root(), cfg, target, phone, partner, bins), compute)


def method_cells(rep, hz: np.ndarray, offsets: np.ndarray) -> tuple[str, X.Cells]:
    """(method key, top cells) of the trust page's favoured method in a ``TrustReport``: its map
    as the page draws it (|value| of the cell intervals)."""
    j = rep.maps.methods.index(rep.verdict.best)
    return rep.verdict.best, X.top_cells(np.abs(rep.cells.value[j]), hz, offsets)


INPUT_TIMES = ("integrated_gradients", "grad_x_input")
"""Methods whose attribution is the gradient times the input's distance from its baseline (the average)."""


def trust_ready(cfg: Settings, phone: str):
    """The trust page's report of ``phone`` for these settings if computed in this server, else None."""
    return _memo("trust_report").peek((models_root(), cfg.model, phone, cfg.sample_set, cfg.output))


def _join(*sentences: str) -> str:
    """Sentences one after the other (no space between Japanese ones)."""
    return ("" if current_language() == "ja" else " ").join(s for s in sentences if s)


def _hz(v: float) -> str:
    return f"{v:,.0f}"


def _span(c: X.Cells) -> str:
    return _hz(c.lo_hz) if c.lo_hz == c.hi_hz else f"{_hz(c.lo_hz)}–{_hz(c.hi_hz)}"


def _bands_text(claim: F.Claim) -> str:
    return tr(" or ").join(f"{_hz(lo)} Hz" if lo == hi else f"{_hz(lo)}–{_hz(hi)} Hz" for lo, hi in claim.bands)


LOUDER, QUIETER = N_("louder"), N_("quieter")


def _dir(db: float) -> str:
    return tr(LOUDER if db >= 0 else QUIETER)


def map_line(s: Story, set_name: str) -> str:
    m = s.map
    return tr(
        "**Importance map** (σ of the gradient of {shown} over {n:,} frames, {set}): top {k} cells at {span} Hz, "
        "{below} of them below {low:g} Hz. It marks where /{p}/'s output changes from frame to frame, i.e. where "
        "/{p}/ differs from all other sounds: below {low:g} Hz (voicing) /{p}/ frames are {db:.1f} dB {dir} than "
        "the other speech frames on average, and that band holds {share:.0%} of the map (a flat map: {flat:.0%})."
    ).format(p=m.phone, shown=s.shown, n=s.n_frames, set=set_name, k=len(m.cells.hz), span=_span(m.cells),
             below=m.cells.below(X.LOW_HZ), low=X.LOW_HZ, db=abs(m.low_db), dir=_dir(m.low_db),
             share=m.low_share, flat=m.flat_low_share)


def pair_line(s: Story) -> str:
    p = s.pair
    text = tr(
        "**Phoneme pair** /{a}/ vs /{b}/ (importance × importance × p_e: inputs both outputs use *and* where the "
        "two phonemes' frames differ): top {k} cells at {span} Hz."
    ).format(a=p.a, b=p.b, k=len(p.cells.hz), span=_span(p.cells))
    if p.burst:
        text = _join(text, tr(
            "At the release bursts (the last {n} frames of {na:,} /{a}/ and {nb:,} /{b}/ segments), /{b}/ is "
            "{d:.1f} dB {dir} than /{a}/ at those cells' channels on average."
        ).format(n=X.BURST_FRAMES, na=p.n_a, nb=p.n_b, a=p.a, b=p.b, d=abs(p.top_db), dir=_dir(p.top_db)))
    else:
        text = _join(text, tr("There /{b}/ frames are {d:.1f} dB {dir} than /{a}/'s on average.").format(
            a=p.a, b=p.b, d=abs(p.top_db), dir=_dir(p.top_db)))
    return _join(text, cue_sentence(p))


def cue_sentence(p: X.PairStory) -> str:
    """Whether the corpus has the paper's cue for this pair (its bands against the largest gap
    elsewhere), or the largest gap when the pair has no bands."""
    claim = paper_claim(p.a, p.b)
    if p.cue is None or claim is None:
        return tr("Largest gap: {g:.1f} dB at {hz} Hz.").format(g=p.other_max, hz=_hz(p.other_hz))
    what = tr("bursts") if p.burst else tr("frames")
    if p.cue:
        return tr(
            "In the paper's bands ({where}) the {what} differ by up to {band:.1f} dB, at least half the largest gap "
            "elsewhere ({g:.1f} dB at {hz} Hz): these voices have the paper's cue."
        ).format(where=_bands_text(claim), what=what, band=p.band_max, g=p.other_max, hz=_hz(p.other_hz))
    return tr(
        "In the paper's bands ({where}) the {what} differ by at most {band:.1f} dB, less than half the largest gap "
        "elsewhere ({g:.1f} dB at {hz} Hz): the voices of its validation set lack the cue the paper found."
    ).format(where=_bands_text(claim), what=what, band=p.band_max, g=p.other_max, hz=_hz(p.other_hz))


def method_line(s: Story, method: tuple[str, X.Cells] | None) -> str:
    from core.trust import METHOD_NAMES

    if method is None:
        return tr(
            "**Which importance to trust**: not computed yet in this server for /{p}/ with these settings; that "
            "page computes it (about a minute)."
        ).format(p=s.phone)
    key, cells = method
    db = X.level_at(s.map.hz, s.map.diff_db, cells)
    args = dict(m=tr(METHOD_NAMES[key]), k=len(cells.hz), span=_span(cells), p=s.phone, db=abs(db), dir=_dir(db))
    if key in INPUT_TIMES:
        return tr(
            "**Which importance to trust** (the evidence favours {m}: the mean |attribution| of single frames, the "
            "gradient times the input's distance from its average): top {k} cells at {span} Hz. There /{p}/ frames "
            "are {db:.1f} dB {dir} than the other speech frames on average: far from the average, so the "
            "attribution is large."
        ).format(**args)
    return tr(
        "**Which importance to trust** (the evidence favours {m}): top {k} cells at {span} Hz. There /{p}/ frames "
        "are {db:.1f} dB {dir} than the other speech frames on average."
    ).format(**args)


def fig4_line(found: F.Finding | None) -> str | None:
    if found is None:
        return None
    v = found.values
    text = tr(
        "**Fig 4 card** (/s/ S2, the middle third of /s/, on {m}): the median of its top {top} cells is {s} Hz, "
        "/sh/ S2's {sh} Hz."
    ).format(m=F.CLAIMS["fig4"].models[0], top=F.MAP_TOP, s=_hz(v["median_hz_s"]), sh=_hz(v["median_hz_sh"]))
    if "profile_ratio" in v:
        text = _join(text, (
            tr("Its chart is flat (no channel above {r:.2f}× the median channel), so it names no band.")
            if v["profile_ratio"] < X.FLAT_RATIO
            else tr("Its chart peaks (the largest channel {r:.2f}× the median channel).")
        ).format(r=v["profile_ratio"]))
    return text


def why_these_differ(cfg: Settings, target: str, phone: str, partner: str | None, bins: int, *, here: str,
                     rep=None, fig4: F.Finding | None = None, chart_key: str = "why_chart") -> Story | None:
    """Draw the block ("why these differ") for the map of ``target`` of ``phone`` and its pair with
    ``partner`` under ``cfg`` (``bins``: the pair's histogram bins). ``here``: which answer this
    page gives ("map", "pair", "trust", "fig4", "card": a /b/-/d/ card, the pair only); ``rep``: the
    trust page's report (else the one computed in this server, if any); ``fig4``: the Fig 4 card's
    Finding (else the one Findings would quote). Returns the Story drawn (None: nothing drawn)."""
    s = story(cfg, target, phone, partner, bins)
    if s is None:
        return None
    info = model(cfg.model)[1]
    m = input_meaning(info.features)
    rep = rep if rep is not None else trust_ready(cfg, phone)
    method = method_cells(rep, m["hz"], m["offset_frames"]) if rep is not None else None
    if here == "card":
        fig4 = None
    elif fig4 is None and phone in ("s", "sh"):  # the Fig 4 card is about /s/ and /sh/
        from app_state.findings import finding_to_quote

        fig4 = finding_to_quote("fig4")
    title = (
        tr("Why the top cells of /{a}/ vs /{b}/ lie where they do") if here == "card"
        else tr("Why do the pages name different frequencies for /{p}/?")
    ).format(a=phone, b=partner, p=phone)
    if here == "card" and s.pair is not None:  # the card says it in one line; the block has the rest
        st.markdown(tr("**Why:** {s}").format(s=cue_sentence(s.pair)))
    with st.expander(title, expanded=False):
        lines = [] if here == "card" else [map_line(s, tr(SAMPLE_SETS[cfg.sample_set]))]
        if s.pair is not None:
            lines.append(pair_line(s))
        if here != "card":
            lines.append(method_line(s, method))
            f4 = fig4_line(fig4)
            if f4:
                lines.append(f4)
        st.markdown("\n".join(f"- {ln}" for ln in lines))
        if here != "card":
            st.caption(tr(
                "They answer different questions on {model}: the map asks where /{p}/ differs from every other "
                "sound, the pair where /{p}/ and its partner differ, a single-frame attribution what one decision "
                "leans on. So each names other inputs, and each can be right for its question."
            ).format(model=cfg.model, p=phone))
        pair_chart = here in ("pair", "card") and s.pair is not None
        cells = {tr("the map of /{p}/").format(p=phone): s.map.cells.hz} if here != "card" else {}
        if s.pair is not None:
            cells[tr("the pair /{a}/ vs /{b}/").format(a=s.pair.a, b=s.pair.b)] = s.pair.cells.hz
        if method is not None and here != "card":
            from core.trust import METHOD_NAMES

            cells[tr(METHOD_NAMES[method[0]])] = method[1].hz
        if pair_chart:
            claim = paper_claim(s.pair.a, s.pair.b)
            chart_choices = ("why", cfg, target, phone, partner, bins, here, None if method is None else method[0])
            bands = [(lo * (1 - F.BAND_TOLERANCE), hi * (1 + F.BAND_TOLERANCE)) for lo, hi in claim.bands] \
                if claim else []
            y = tr("/{b}/ minus /{a}/, bursts (dB)") if s.pair.burst else tr("/{b}/ minus /{a}/ (dB)")
            def build():
                return vx.story_chart(s.pair.hz, s.pair.diff_db, y.format(a=s.pair.a, b=s.pair.b), cells, bands,
                                      tr("the paper's bands"), tr=tr)

            caption = tr("Line: mean level per mel channel of /{b}/ minus /{a}/ ({what}; dB){bands}. Marks: each "
                         "answer's top cells, at their channel.").format(
                a=s.pair.a, b=s.pair.b, what=tr("release bursts") if s.pair.burst else tr("all their frames"),
                bands=tr("; grey: the paper's bands ±{t:.0%}").format(t=F.BAND_TOLERANCE) if bands else "")
        else:
            chart_choices = ("why", cfg, target, phone, partner, bins, here, None if method is None else method[0])

            def build():
                return vx.story_chart(s.map.hz, s.map.diff_db, tr("/{p}/ minus other speech (dB)").format(p=phone),
                                      cells, [(0.0, X.LOW_HZ)], tr("below {low:g} Hz").format(low=X.LOW_HZ), tr=tr)

            caption = tr("Line: mean level per mel channel of /{p}/ frames minus the other speech frames (dB); grey: "
                         "below {low:g} Hz. Marks: each answer's top cells, at their channel.").format(
                p=phone, low=X.LOW_HZ)
        draw(st, chart_choices, build, width="stretch", key=chart_key)  # the spec built once per server
        st.caption(caption)
    return s


STORY_CARDS = ("fig4", *(k for k, c in F.CLAIMS.items() if c.pair and set(c.pair) <= X.STOPS))
"""The Findings cards that show the block: Fig 4 (/s/ on the English phone model, whose map, pair
and trust answers it sits among) and the stop pairs (/b/-/d/: the bursts against the paper's bands)."""


def finding_story(key: str, found: F.Finding | None) -> Story | None:
    """The block under a Findings card (``STORY_CARDS``), with the cards' fixed settings
    (``core.findings.SETTINGS``); nothing when the card has none or its model is not installed."""
    if key not in STORY_CARDS:
        return None
    c = F.CLAIMS[key]
    name = F.SPEECH_MODEL if key == "fig4" else c.models[0]
    if F.model_checksum(models_root(), name) is None:
        return None
    cfg = Settings(model=name, sample_set=F.SETTINGS["sample"], stat=F.SETTINGS["stat"], output=F.SETTINGS["output"])
    a, b = ("s", "sh") if key == "fig4" else c.pair
    return why_these_differ(cfg, a, a, b, F.SETTINGS["bins"], here="fig4" if key == "fig4" else "card",
                            fig4=found if key == "fig4" else None, chart_key=f"why_chart_{key}")


__all__ = ["PAPER_PAIRS", "STORY_CARDS", "Story", "cue_sentence", "finding_story", "method_cells", "paper_claim",
           "partner_of", "story", "trust_ready", "why_these_differ"]

"""Findings: one card per claim of the seed paper, our figure on the shipped models, a verdict from a
stated rule, a small chart and a link to the page that shows it with the exact settings.

Every card is drawn at once from the shipped file (``python -m core findings --write``), before the
sidebar loads its model; the live cards (pairs, Fig 4) are then computed with the other pages' cached
calls and replace their shipped figure in place (instant once cached). Cards computed ahead (deletion curves) say when their
models changed since, and can be computed now on request.
"""

import json

import streamlit as st

import app_state as S
from core import findings as F
from i18n import current_language, error_text, tr

# the cards first (the shipped file needs no model), the sidebar's model loading after them
st.title(tr("Findings"))
st.markdown(
    tr(
        "Each card states one claim of the paper, our figure on the shipped models, and a verdict from the rule "
        "written under it. Settings of every card (whatever the sidebar says): the paper's index, σ of "
        "d posterior / dx, over every validation frame; pairs ranked by score = importance(A) × importance(B) × p_e "
        "(p_e from {bins} bins). The link under a card opens the page that shows it with these settings."
    ).format(bins=F.SETTINGS["bins"])
    + ("" if current_language() == "ja" else " ")  # Japanese sentences follow each other without a space
    + tr(
        "Each verdict comes with the {level} bootstrap interval of the margin of its rule's closest criterion "
        "({b} resamples of the utterances or digits, and of the random order's seeds); when an interval crosses a "
        "threshold that decides the verdict, the verdict reads “within noise”."
    ).format(level=f"{F.LEVEL:.0%}", b=f"{F.N_BOOT:,}"),
    help=tr(S.HELP["score"]),
)

BADGE = {"reproduced": ("green", "✅"), "partly": ("orange", "🟠"), "not reproduced": ("red", "❌"),
         "within noise": ("gray", "❔")}
try:
    shipped = S.shipped_findings()
except F.FindingsError as exc:
    st.error(error_text(exc))
    shipped = None
status = st.empty()
shown: dict[str, F.Finding | None] = {}  # what each card shows in the end (for the download)


def draw(key: str, found: F.Finding | None, source: str, note: str | None = None) -> None:
    """The card's changing part: verdict, figure, source, chart."""
    c = F.CLAIMS[key]
    shown[key] = found
    left, right = st.container(), st.container()  # the chart below the text, the width of the card
    with left:
        if found is None:
            st.info(source)
            return
        colour, icon = BADGE[found.verdict]
        st.badge(tr(found.verdict), color=colour, icon=icon)
        st.markdown(tr("**Ours:** {f}").format(f=F.figure_text(found, tr)))
        noise = F.interval_text(found.values, tr)
        if noise:
            st.markdown(tr("**Uncertainty:** {u}").format(u=noise))
        st.caption(source)
        # always one element here, so a redraw in place leaves no warning of the first draw behind
        if note:
            st.warning(note)
        else:
            st.empty()
    with right:
        st.altair_chart(S.card_chart(key, found), width="stretch", key=f"finding_chart_{key}")
        if c.pair:
            st.caption(
                tr(
                    "The top {n} cells by score (area ∝ score). Grey: the paper's band, ±{tol:.0%}{time}."
                ).format(
                    n=F.TOP_CELLS,
                    tol=F.BAND_TOLERANCE,
                    time=tr(", at offsets within ±{c} frames").format(c=F.CENTRAL_FRAMES)
                    if c.central
                    else "",
                )
            )
        elif not c.units:
            st.caption(S.offsets_caption(S.card_features(c.models[0])))


def shipped_source(key: str) -> tuple[F.Finding | None, str, str | None]:
    """The shipped finding of a card, where it comes from, and a warning if its models changed."""
    if shipped is None or key not in shipped.findings:
        return None, tr("Not computed yet: run `{cmd}`.").format(cmd=F.COMMAND), None
    w = shipped.written[key]
    sums = ", ".join(f"{n} {(w.models.get(n) or '?')[:12]}…" for n in F.CLAIMS[key].models)
    source = tr("Computed ahead by `{cmd}` on {date} (weights SHA-256: {sums}).").format(
        cmd=w.command, date=w.date, sums=sums
    )
    stale = S.stale_models(key)
    note = (
        tr(
            "This result belongs to other models: the weights or validation set of the installed {m} are not those "
            "it was computed on (checksum). Re-run `{cmd}`."
        ).format(m=", ".join(stale), cmd=F.COMMAND)
        if stale
        else tr("This result was computed by another version of the code that computes this card. Re-run `{cmd}`.")
        .format(cmd=F.COMMAND) if S.code_changed(key) else None
    )
    return shipped.findings[key], source, note


def ask_now(key: str) -> None:
    """A card computed ahead on other models: compute it on the installed ones (kept for the session)."""
    st.session_state.setdefault("findings_now", set()).add(key)


LIVE = tr("Computed live just now on the installed models with the pages' own code (cached).")
slots, pending, why_slots = {}, [], {}
for key, c in F.CLAIMS.items():
    with st.container(border=True):
        st.subheader(tr(c.title), anchor=S.card_anchor(key))
        st.markdown(tr("**The paper:** {c}").format(c=tr(c.claim)))
        st.caption(tr("Rule: {r}").format(r=c.rule_text(tr)))
        slots[key] = st.empty()
        missing = S.missing_models(key)
        ready = None if missing else S.live_finding_ready(key)  # computed in this server already
        with slots[key].container():
            if ready is not None:
                draw(key, ready, LIVE)
            else:
                found, source, note = shipped_source(key)
                if missing:
                    note = (
                        tr("The model {m} is not installed here; this is the shipped figure.").format(
                            m=", ".join(missing)
                        )
                        if found
                        else None
                    )
                    source = (
                        source
                        if found
                        else tr("The model {m} is not installed; run `make assets`.").format(
                            m=", ".join(missing)
                        )
                    )
                elif not c.ahead:
                    if found is None or note:  # no shipped figure for these models: nothing to show yet
                        found, note, source = None, None, tr("Computing live on the installed models…")
                    else:
                        source = tr("Shipped figure, being checked live now…")
                    pending.append(key)
                draw(key, found, source, note)
        if c.ahead and not missing and ready is None and (S.stale_models(key) or S.code_changed(key)):
            if key in st.session_state.get("findings_now", ()):
                pending.append(key)  # asked for: computed below, after every card is on screen
            else:
                st.button(
                    tr("Compute this card now on the installed models (a minute or more)"),
                    key=f"now_{key}",
                    on_click=ask_now,
                    args=(key,),
                )
        for link in c.links:
            label = tr(F.PAIR_LINK).format(a=c.pair[0], b=c.pair[1]) if c.pair else tr(link.label)
            st.page_link(link.page, label=label, icon="🔗", query_params=S.card_link_params(link, key))
        if key in S.STORY_CARDS:
            why_slots[key] = st.empty()  # "why these differ", drawn once the live cards are computed

came_back_to = st.query_params.get(S.CARD_PARAM)
if came_back_to in F.CLAIMS:  # a page's "Back to the Findings card" link: show that card, once
    S.scroll_to(S.card_anchor(came_back_to))
    st.query_params.pop(S.CARD_PARAM)
S.sidebar()  # the shared settings (this page's cards use fixed ones); starts the background warm-up
for i, key in enumerate(pending, 1):
    with status.container():
        st.caption(
            tr("Computing live: card {i} of {n} ({t})…").format(
                i=i, n=len(pending), t=tr(F.CLAIMS[key].title)
            )
        )
        found = S.live_finding(key)
    before = shipped.findings.get(key) if shipped is not None else None
    note = None
    if (
        before is not None
        and (before.verdict, before.figure) != (found.verdict, found.figure)
        and not S.stale_models(key)
    ):
        note = tr("The shipped result said: {v}, {f}").format(
            v=tr(before.verdict), f=F.figure_text(before, tr)
        )
    with slots[key].container():
        draw(key, found, LIVE, note)
status.empty()
for key, slot in why_slots.items():
    with slot.container():
        S.finding_story(key, shown.get(key))
rows = [
    {
        "key": k,
        "title": F.CLAIMS[k].title,
        "claim": F.CLAIMS[k].claim,
        "rule": F.CLAIMS[k].rule,
        **({"verdict": f.verdict, "figure": f.figure, "values": F._jsonable(f.values)} if f else {}),
    }
    for k, f in shown.items()
]
st.download_button(
    tr("Download the findings (JSON)"),
    json.dumps(rows, indent=1).encode(),
    file_name="findings.json",
    mime="application/json",
)
S.report_repairs()

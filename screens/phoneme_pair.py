"""Two phonemes side by side: where both outputs depend on the input, and how differently the two
phonemes distribute there. A click on a square (or on a row of the top cells) shows the two
distributions beside the map."""

import streamlit as st

import app_state as S
from core.importance import pairs
from core.viz import maps
from core.viz.format import fmt, nobreak
from i18n import tr

cfg, info = S.page_start("Phoneme pair")
S.findings_back_link()  # opened from a Findings card: the way back to it
fc = info.features
phones = S.phones_of(cfg.model)
a, b = S.pair_choice(phones)

c1, c2 = st.columns(2)
a = S.phone_select(tr("Phoneme A"), "pair_a", "pair_a", phones, "s", container=c1, on_change=S.pair_changed)
b = S.phone_select(tr("Phoneme B"), "pair_b", "pair_b", phones, "sh", container=c2, on_change=S.pair_changed)

suggested = S.suggested_pairs(cfg.model)
st.caption(tr("The paper's pairs and the pairs this model confuses most (click one to compare):"))
for col, (x, y) in zip(st.columns(len(suggested)), suggested, strict=True):
    col.button(f"{x} · {y}", key=f"sugg_{x}_{y}", on_click=S.choose_pair, args=(x, y), width="stretch",
               help=tr("Compare /{x}/ and /{y}/").format(x=x, y=y), type="primary" if (x, y) == (a, b) else "secondary")
if a == b:
    st.info(tr("Choose two different phonemes."))
    S.report_repairs()
    st.stop()

view = S.view_controls(fc, "pair")
table, _ = S.pair_data(cfg, a, b, view.bins)
hollow = st.toggle(tr("Hollow squares: cells not distinguishable from zero"), key="pair_hollow",
                   help=S.hollow_help())
if hollow:
    table = table.assign(solid=S.solid_cells(cfg, (a, b), (a, b)))
cells = pairs.select_cells(table, pairs.RANKS[view.rank], view.extent.time, view.extent.channels, view.top)
if hollow:
    st.caption(S.hollow_note(cells))
ranked = pairs.ranked(cells, view.rank)
picked = pairs.cell_row(table, S.cell_choice(fc))
row = picked if picked is not None else (ranked.iloc[0] if len(ranked) else table.iloc[0])

order = {"score": tr("ordered by score = importance(/{a}/) × importance(/{b}/) × p_e: large *and* different first"),
         "product": tr("ordered by size only, importance(/{a}/) × importance(/{b}/)")}[view.rank].format(a=a, b=b)
st.caption(tr(
    "Square area ∝ importance(/{a}/) × importance(/{b}/) ({stat}); colour = p_e, the probability that the "
    "input's distributions over /{a}/ and /{b}/ frames differ ({bins} bins), scaled to this pair's range. "
    "The table and the cell shown first are {order}. Click a square or a table row to see its distributions."
).format(a=a, b=b, stat=tr(S.STAT_LABELS[cfg.stat]), bins=view.bins, order=order), help=tr(S.HELP["p_e"]))

events = S.cell_events("pair_chart", "pair_table")
map_col, detail_col = st.columns([3, 2])
selected = (int(row.offset_frames), int(row.channel))
S.draw(map_col, ("pair", cfg, a, b, view, hollow, selected), lambda: maps.pair_map(
    cells, fc, a, b, whole=table, extent=view.extent, contrast=view.contrast, selected=selected, tr=tr),
    on_select=events["chart"], selection_mode=maps.PAIR_SELECTION, key="pair_chart", width="stretch")

detail = S.pair_detail(cfg.model, a, b, int(row["input"]), view.bins)
with detail_col:
    st.subheader(tr("Selected input") if picked is not None else
                 tr("Top cell by {r}").format(r=tr("score") if view.rank == "score" else tr("size")))
    st.markdown(tr("**{ms:+.0f} ms, {name}** (frame offset {o:+d}, channel {c})").format(
        ms=row.offset_ms, name=row.channel_name, o=int(row.offset_frames), c=int(row.channel)))
    st.markdown(tr(
        "- overlap **ε = {eps}**, **p_e = {pe}** (0 same, 1 disjoint)\n"
        "- importance /{a}/ = {ia}, /{b}/ = {ib}\n- product {ip}, score {sc}"
    ).format(eps=fmt(detail.eps, "p"), pe=fmt(detail.p_e, "p"), a=a, b=b,
             ia=nobreak(fmt(row.importance_a, "importance")),
             ib=nobreak(fmt(row.importance_b, "importance")),
             ip=nobreak(fmt(row.importance_pair, "product")),
             sc=nobreak(fmt(row.score, "score"))),
        help=tr(S.HELP["p_e"]))
    S.draw(st, ("density", cfg.model, a, b, int(row["input"]), view.bins), lambda: maps.density_chart(
        detail.centres, detail.p_a, detail.p_b, a, b, tr("input value (normalised z)"), tr=tr),
        width="stretch", key="pair_density")
    if picked is not None:
        st.button(tr("Back to the top cell"), on_click=S.set_cell, args=(None,))

S.why_these_differ(cfg, a, a, b, view.bins, here="pair")
st.subheader(tr("Top cells"))
top_rows = pairs.ranked(cells, view.rank, view.rows)
S.shown_cells("pair_table", top_rows)
num = st.column_config.NumberColumn
st.dataframe(
    top_rows[["offset_frames", "offset_ms", "channel_name", "importance_a", "importance_b", "importance_pair", "p_e",
              "score"]],
    hide_index=True, width="stretch", key="pair_table", on_select=events["table"], selection_mode="single-row",
    column_config={
        "offset_frames": num(tr("offset"), format="%+d", help=tr("time offset in frames of {step}").format(step=S.frame_step_text(fc))),
        "offset_ms": num(tr("ms"), format="%+.0f"),
        "channel_name": st.column_config.TextColumn(tr("centre") if fc.kind == "mfbank" else tr("coefficient")),
        "importance_a": num(tr("imp /{p}/").format(p=a), format="%.2e"),
        "importance_b": num(tr("imp /{p}/").format(p=b), format="%.2e"),
        "importance_pair": num(tr("product"), format="%.2e"),
        "p_e": num("p_e", format="%.2f", help=tr(S.HELP["p_e"])),
        "score": num(tr("score"), format="%.2e", help=tr(S.HELP["score"])),
    })
st.download_button(tr("Download the pair map's data (CSV)"), lambda: cells.to_csv(index=False).encode(),
                   file_name=f"pair_{cfg.model}_{a}_{b}.csv", mime="text/csv")
S.report_repairs()

"""Two phonemes side by side: where both outputs depend on the input, and how differently the two
phonemes distribute there. A click on a square shows the two distributions."""

import streamlit as st

import app_state as S
from core import charts
from core.features import channel_names
from i18n import tr

cfg, info = S.page_start("Phoneme pair")
fc = info.features
phones = S.phones_of(cfg.model)

for key, default in (("pair_a", "s"), ("pair_b", "sh")):
    if key not in st.session_state:
        value = st.query_params.get(key, default)
        st.session_state[key] = value if value in phones else default
if st.session_state["pair_a"] == st.session_state["pair_b"] and "w_pair_a" not in st.session_state:
    st.session_state["pair_b"] = "sh" if st.session_state["pair_a"] != "sh" else "s"  # e.g. a bad URL
for key in ("pair_a", "pair_b"):
    if f"w_{key}" not in st.session_state:  # the widget's own state is dropped on a page change
        st.session_state[f"w_{key}"] = st.session_state[key]
    st.query_params[key] = st.session_state[key]


def _choose(a: str, b: str) -> None:
    for key, value in (("pair_a", a), ("pair_b", b)):
        st.session_state[key] = st.session_state[f"w_{key}"] = value
        st.query_params[key] = value


def _from_widgets() -> None:
    _choose(st.session_state["w_pair_a"], st.session_state["w_pair_b"])


c1, c2 = st.columns(2)
a = c1.selectbox(tr("Phoneme A"), phones, format_func=S.phone_label, key="w_pair_a", on_change=_from_widgets)
b = c2.selectbox(tr("Phoneme B"), phones, format_func=S.phone_label, key="w_pair_b", on_change=_from_widgets)

pairs = S.confused_pairs(cfg.model)
if pairs:
    st.caption(tr("The pairs this model confuses most (click one to compare):"))
    for col, (x, y) in zip(st.columns(len(pairs)), pairs, strict=True):
        col.button(f"{x} · {y}", key=f"sugg_{x}_{y}", on_click=_choose, args=(x, y), width="stretch",
                   help=tr("Compare /{x}/ and /{y}/").format(x=x, y=y))
if a == b:
    st.info(tr("Choose two different phonemes."))
    st.stop()

with st.expander(tr("View"), expanded=True):
    v1, v2 = st.columns(2)
    v3, v4, v5 = st.columns(3)
    offsets = list(range(-fc.context, fc.context + 1))
    t_lo, t_hi = v1.select_slider(tr("Time range (frames)"), offsets, value=(offsets[0], offsets[-1]),
                                  format_func=lambda v: f"{v} ({v * fc.winstep * 1000:+.0f} ms)", key="pair_time")
    names = channel_names(fc)
    ch_lo, ch_hi = v2.select_slider(tr("Channel range"), names, value=(names[0], names[-1]), key="pair_chan")
    bins = v3.slider(tr("Histogram bins"), 10, 60, 30, 5, key="pair_bins")
    top = v4.slider(tr("Show the top k % of cells"), 1, 100, 100, key="pair_top")
    k_rows = v5.slider(tr("Top cells in the table"), 5, 50, 10, key="pair_rows")
    scale = 1.0

la, lb = S.label_index(cfg.model, a), S.label_index(cfg.model, b)
labels = None if cfg.sample_set == "all" else [la, lb]
imp_a = S.grad_stats(cfg.model, cfg.output, S.target_of(cfg.model, a)).stat(cfg.stat, labels)[0]
imp_b = S.grad_stats(cfg.model, cfg.output, S.target_of(cfg.model, b)).stat(cfg.stat, labels)[0]
hist = S.histograms(cfg.model, bins)
eps, p_e = hist.overlap(la, lb)
table = charts.pair_table(fc, imp_a, imp_b, p_e, eps)
view = charts.select_cells(table, "importance_pair", (t_lo, t_hi), (names.index(ch_lo), names.index(ch_hi)), top)

st.caption(tr(
    "Square area ∝ importance(/{a}/) × importance(/{b}/) ({stat}); colour = p_e, the probability that the "
    "input's distributions over /{a}/ and /{b}/ frames differ (0 = identical, 1 = disjoint; {bins} bins). "
    "Click a square to see the two distributions; double-click to clear."
).format(a=a, b=b, stat=S.STAT_LABELS[cfg.stat], bins=bins))

event = st.altair_chart(charts.pair_map(view, fc, a, b, scale, size_max=float(table["importance_pair"].max())),
                        on_select="rerun",
                            selection_mode=charts.PAIR_SELECTION, key=f"pair_map_{a}_{b}",
                            width="content")
picked = (event.selection.get(charts.PAIR_SELECTION) or []) if event else []
if picked:
    off, ch = int(picked[0]["offset_frames"]), int(picked[0]["channel"])
    row = table[(table.offset_frames == off) & (table.channel == ch)].iloc[0]
    heading = tr("Selected input")
else:
    row = view.loc[view["importance_pair"].idxmax()] if len(view) else table.iloc[0]
    heading = tr("Largest square (click another to compare)")
detail = hist.detail(la, lb, int(row["input"]))
where = f"{row.offset_ms:+.0f} ms, {row.channel_name}"
st.subheader(heading)
left, right = st.columns([1, 2])
with left:
    st.markdown(tr("**{w}** (frame offset {o:+d}, channel {c})").format(w=where, o=int(row.offset_frames),
                                                                       c=int(row.channel)))
    st.markdown(tr(
        "- overlap **ε = {eps:.2f}**\n- **p_e = {pe:.2f}** (0 same, 1 disjoint)\n"
        "- importance /{a}/ = {ia:.3g}, /{b}/ = {ib:.3g}; product {ip:.3g}"
    ).format(eps=detail.eps, pe=detail.p_e, a=a, b=b, ia=row.importance_a, ib=row.importance_b,
             ip=row.importance_pair))
with right:
    st.altair_chart(charts.density_chart(detail.centres, detail.p_a, detail.p_b, a, b,
                                         tr("input value (normalised)")), width="stretch")

st.subheader(tr("Top cells"))
top_rows = view.nlargest(k_rows, "importance_pair")[
    ["offset_frames", "offset_ms", "channel", "channel_name", "importance_a", "importance_b",
     "importance_pair", "p_e", "eps"]]
num = st.column_config.NumberColumn
st.dataframe(top_rows, hide_index=True, width="stretch", column_config={
    "offset_frames": num(tr("offset (frames)"), format="%+d"),
    "offset_ms": num(tr("offset (ms)"), format="%+.0f"),
    "channel": num(tr("channel")),
    "channel_name": st.column_config.TextColumn(tr("centre") if fc.kind == "mfbank" else tr("coefficient")),
    "importance_a": num(f"imp /{a}/", format="%.3g"),
    "importance_b": num(f"imp /{b}/", format="%.3g"),
    "importance_pair": num(tr("product"), format="%.3g"),
    "p_e": num("p_e", format="%.2f"),
    "eps": num(tr("overlap ε"), format="%.2f"),
})
st.download_button(tr("Download the pair map's data (CSV)"), view.to_csv(index=False).encode(),
                   file_name=f"pair_{cfg.model}_{a}_{b}.csv", mime="text/csv")

"""Importance map of one phoneme: which inputs (time x frequency) its output depends on."""

import streamlit as st

import app_state as S
from core import charts
from core.features import channel_names
from i18n import tr

cfg, info = S.page_start("Importance map")
fc = info.features
phones = S.phones_of(cfg.model)

left, right = st.columns([2, 3])
phone = left.selectbox(tr("Phoneme"), phones, index=S.remember("phone", phones, "s"),
                       format_func=S.phone_label, key="map_phone")
S.keep("phone", phone)
target = phone
if info.targets == "state":
    part = right.radio(tr("Output"), ["all", "S1", "S2", "S3"], horizontal=True, key="map_state",
                       format_func=lambda s: tr("whole phoneme") if s == "all" else s)
    target = phone if part == "all" else f"{phone}_{part}"

with st.expander(tr("View"), expanded=True):
    c1, c2 = st.columns(2)
    c3, c4 = st.columns(2)
    offsets = list(range(-fc.context, fc.context + 1))
    t_lo, t_hi = c1.select_slider(tr("Time range (frames)"), offsets, value=(offsets[0], offsets[-1]),
                                  format_func=lambda v: f"{v} ({v * fc.winstep * 1000:+.0f} ms)", key="map_time")
    names = channel_names(fc)
    ch_lo, ch_hi = c2.select_slider(tr("Channel range"), names, value=(names[0], names[-1]), key="map_chan")
    top = c3.slider(tr("Show the top k % of cells"), 1, 100, 100, key="map_top")
    scale = c4.slider(tr("Square scale"), 0.25, 2.0, 1.0, 0.05, key="map_scale")

stats = S.grad_stats(cfg.model, cfg.output, S.target_of(cfg.model, target))
label = S.label_index(cfg.model, phone)
labels = None if cfg.sample_set == "all" else [label]
importance = stats.stat(cfg.stat, labels)[0]
mean = S.histograms(cfg.model, 30).mean(label)
table = charts.map_table(fc, importance, mean)
view = charts.select_cells(table, "importance", (t_lo, t_hi), (names.index(ch_lo), names.index(ch_hi)), top)

n_frames = int(stats.n.sum() if labels is None else stats.n[labels].sum())
st.caption(tr(
    "Square area ∝ {stat} for output /{t}/ ({out}), over {n:,} validation frames ({set}); "
    "colour = mean of the input over the /{p}/ frames (normalised: blue below average, red above). "
    "Filtering the view keeps every square's size and colour."
).format(stat=S.STAT_LABELS[cfg.stat], t=target, out=S.OUTPUT_LABELS[cfg.output], n=n_frames,
         set=S.SAMPLE_SETS[cfg.sample_set], p=phone))
square = charts.importance_map(view, fc, scale, title=f"/{target}/", size_max=float(table["importance"].max()),
                               color_max=float(table["mean"].abs().max()))
chart = charts.map_with_profiles(square, view, fc)
st.altair_chart(chart, width="content")
st.download_button(tr("Download the map's data (CSV)"), view.to_csv(index=False).encode(),
                   file_name=f"importance_{cfg.model}_{target}_{cfg.stat}.csv", mime="text/csv")

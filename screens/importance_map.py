"""Importance map of one phoneme: which inputs (time x frequency) its output depends on."""

import streamlit as st

import app_state as S
from core.importance import pairs
from core.viz import maps
from i18n import tr

cfg, info = S.page_start("Importance map")
S.findings_back_link()  # opened from a Findings card: the way back to it
fc = info.features
phones = S.phones_of(cfg.model)

left, right = st.columns([2, 3])
phone = S.phone_select(tr("Phoneme"), "phone", "phone", phones, "s", container=left)
target, shown = phone, f"/{phone}/"  # the output's name, and how titles write it ("/s/ S2")
if info.targets == "state":
    parts = ["all", "S1", "S2", "S3"]
    S.choice("map_part", "part", S.one_of(parts), "all", widget="w_map_part")
    part = right.radio(tr("State of the phoneme"), parts, horizontal=True, **S.widget_args("map_part", "part"),
                       format_func=lambda s: tr("whole phoneme") if s == "all" else s)
    S.put("map_part", part, "part")
    target = phone if part == "all" else f"{phone}_{part}"
    shown = f"/{phone}/" if part == "all" else f"/{phone}/ {part}"

view = S.view_controls(fc, "map")
table, n_frames = S.map_data(cfg, target, phone)
hollow = st.toggle(tr("Hollow squares: cells not distinguishable from zero"), key="map_hollow",
                   help=S.hollow_help())
if hollow:
    table = table.assign(solid=S.solid_cells(cfg, (target,), (phone,)))
cells = pairs.select_cells(table, "importance", view.extent.time, view.extent.channels, view.top)
if hollow:
    st.caption(S.hollow_note(cells))

colour_text = {
    "importance": tr("colour = importance too (darker = more important)"),
    "mean": tr("colour = mean of the input over the /{p}/ frames (normalised z: blue below average, red above)"),
    "none": tr("one colour"),
}[view.colour].format(p=phone)
st.caption(tr(
    "Square area ∝ {stat} for output {t} ({out}), over {n:,} validation frames ({set}); {colour}. "
    "Hover a square for its values. The ranges zoom the map; filtering keeps every square's size and colour."
).format(stat=tr(S.STAT_LABELS[cfg.stat]), t=shown, out=tr(S.OUTPUT_LABELS[cfg.output]), n=n_frames,
         set=tr(S.SAMPLE_SETS[cfg.sample_set]), colour=colour_text), help=tr(S.HELP["stat"]) + " " + tr(S.HELP["z"]))

# every chart below is built once per server for these choices (app_state.figures)
key = (cfg, target, phone, view, hollow)
map_col, profile_col = st.columns([4, 1])
S.draw(map_col, ("map", *key), lambda: maps.importance_map(
    cells, fc, view.scale, title=shown, whole=table, colour=view.colour, contrast=view.contrast, extent=view.extent,
    tr=tr), width="stretch", key="map_chart")
S.draw(map_col, ("map_time", *key), lambda: maps.temporal_profile(cells, fc, extent=view.extent, tr=tr),
       width="stretch", key="map_time_profile")
S.draw(profile_col, ("map_channel", *key), lambda: maps.spectral_profile(cells, fc, extent=view.extent, tr=tr),
       width="stretch", key="map_channel_profile")
S.why_these_differ(cfg, target, phone, S.partner_of(phone), view.bins, here="map")
st.download_button(tr("Download the map's data (CSV)"), lambda: cells.to_csv(index=False).encode(),
                   file_name=f"importance_{cfg.model}_{target}_{cfg.stat}.csv", mime="text/csv")
S.report_repairs()

"""Which importance to trust: one target's map from eight methods side by side, and the evidence
about them (deletion / insertion curves, sanity checks, stability), with the method it favours."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

import app_state as S
from core import trust
from core.importance import pairs
from core.viz import maps
from core.viz import trust as tc
from core.viz import units as uc
from i18n import error_text, tr

cfg, info = S.page_start("Which importance to trust")
digit_models = sorted(S.digits_models())
nets = [cfg.model, *digit_models]
S.choice("methods_net", "net", S.one_of(nets), cfg.model, widget="w_methods_net")
if st.session_state["w_methods_net"] not in nets:  # another speech model chosen in the sidebar
    st.session_state["w_methods_net"] = st.session_state["methods_net"] = cfg.model
left, right = st.columns([1, 2])
name = left.radio(
    tr("Network"),
    nets,
    horizontal=True,
    **S.widget_args("methods_net", "net"),
    format_func=lambda n: tr("{n} (speech, sidebar)").format(n=n) if n == cfg.model else n,
)
S.put("methods_net", name, "net")
is_digits = name in digit_models
trust_cfg = trust.config_for("digits" if is_digits else "speech")  # the sizes S.trust_report uses
if is_digits:
    n_digits = S.digits_models()[name].arch["n_classes"]  # the digit model's outputs
    S.choice("methods_digit", "digit", S.number_in(0, n_digits - 1), 3, widget="w_methods_digit")
    target = str(
        right.radio(tr("Digit"), list(range(n_digits)), horizontal=True, **S.widget_args("methods_digit", "digit"))
    )
    S.put("methods_digit", int(target), "digit")
else:
    target = S.phone_select(
        tr("Phoneme"), "methods_phone", "phone", S.phones_of(cfg.model), "s", container=right
    )

try:
    rep = S.trust_report(name, target, cfg.sample_set, cfg.output)
    data = S.trust_frames(name, target, cfg.sample_set)
except trust.TrustError as exc:  # e.g. a validation set with the target in one utterance only
    st.error(tr("This comparison cannot be made: {e}").format(e=error_text(exc)))
    S.report_repairs()
    st.stop()
label = f"'{target}'" if is_digits else f"/{target}/"
if is_digits:
    description = tr("held-out digits of every class")
elif data.description == "frames of every phoneme":
    description = tr("frames of every phoneme")
else:
    description = tr("frames of /{t}/").format(t=target)
unit = tr("digits") if is_digits else tr("utterances")

st.success("**" + tr("Verdict for {t}").format(t=label) + "** — " + rep.verdict.say(tr))
st.caption(
    tr(
        "Maps of {t} ({out}) over {n:,} frames of {u:,} {unit} ({desc}); deletion and insertion curves on {e:,} of its "
        "own frames; sanity checks on {s:,} frames. Intervals: {level} bootstrap over {unit}, not frames."
    ).format(
        level=S.level_text(trust.LEVEL),
        t=label,
        out=tr(S.OUTPUT_LABELS[cfg.output]),
        n=rep.maps.n_frames,
        u=rep.maps.n_clusters,
        unit=unit,
        desc=description,
        e=rep.faith.n_frames,
        s=rep.sanity.n_frames,
    )
)

if not is_digits:  # where this page's answer meets the map's and the pair's
    S.why_these_differ(cfg, target, target, S.partner_of(target), S.DEFAULT_BINS, here="trust", rep=rep)


def _rho(v: float) -> str:
    """A correlation with two decimals, never "-0.00"."""
    return f"{v:.2f}".replace("-0.00", "0.00")


rows = pd.DataFrame([r.to_dict() for r in rep.rows])
shown_names = [tr(n) for n in rows["name"]]
solid_share = rep.cells.solid.mean(axis=1)
summary = pd.DataFrame(
    {
        tr("method"): shown_names,
        tr("deletion AUC ↓"): [
            f"{r.deletion_auc:.3f} [{r.deletion_ci[0]:.3f}, {r.deletion_ci[1]:.3f}]" for r in rep.rows
        ],
        tr("insertion AUC ↑"): [
            f"{r.insertion_auc:.3f} [{r.insertion_ci[0]:.3f}, {r.insertion_ci[1]:.3f}]" for r in rep.rows
        ],
        tr("score ↑"): [f"{r.score:.3f}" for r in rep.rows],
        tr("ρ, layers randomised"): [_rho(v) for v in rows["sanity_cascade"]],
        tr("ρ, shuffled labels"): [_rho(v) for v in rows["sanity_shuffled"]],
        tr("flagged"): ["⚠️" if f else "" for f in rows["flagged"]],
        tr("split-half ρ"): [_rho(v) for v in rows["split_half"]],
        tr("cells ≠ 0"): [f"{v:.0%}" for v in solid_share],
    }
)
# a static table: its headers wrap, so all nine columns fit the page (a dataframe cut the last ones)
st.table(summary, hide_index=True)
st.caption(
    tr(
        "Deletion / insertion AUC: area under the target's mean posterior as each method's top inputs are removed "
        "(lower = faithful) or are the only ones kept (higher = faithful); score = insertion - deletion. ρ: Spearman "
        "rank correlation of the map with the trained network's map when every layer is re-initialised, or for a "
        "twin trained on shuffled labels: a method with ρ ≥ {th} is flagged (its map barely depends on what the "
        "network learned). Split-half ρ: the maps of two random halves of the {unit}. Cells ≠ 0: share of cells "
        "whose bootstrap interval keeps clear of zero."
    ).format(th=trust.SANITY_THRESHOLD, unit=unit)
)
st.download_button(
    tr("Download the summary (CSV)"),
    rows.to_csv(index=False).encode(),
    file_name=f"methods_{name}_{target}.csv",
    mime="text/csv",
)

VIEWS = {
    "maps": tr("Maps"),
    "faithfulness": tr("Faithfulness"),
    "sanity": tr("Sanity checks"),
    "stability": tr("Stability"),
}
S.choice("methods_view", "mview", S.one_of(list(VIEWS)), "maps", widget="w_methods_view")
view = (
    st.segmented_control(
        tr("View"),
        list(VIEWS),
        format_func=VIEWS.get,
        label_visibility="collapsed",
        **S.widget_args("methods_view", "mview"),
    )
    or "maps"
)
S.put("methods_view", view, "mview")

if view == "maps":
    c1, c2 = st.columns(2)
    per_row = c1.radio(tr("Maps per row"), [2, 4], horizontal=True, key="methods_per_row")
    hollow = not is_digits and c2.toggle(
        tr("Hollow squares: cells not distinguishable from zero"),
        key="methods_hollow",
        help=S.hollow_help(),
    )
    ref = rep.maps.map("std")
    if is_digits:
        names = [
            f"{tr(trust.METHOD_NAMES[m])} (ρ {trust.spearman(rep.maps.map(m), ref):.2f})"
            for m in rep.maps.methods
        ]
        st.altair_chart(
            uc.image_grid(
                rep.cells.value.reshape(-1, *S.digits_data(name)[1].shape[-2:]),
                names=names,
                columns=per_row,
                cell=6,
                symmetric=False,
                scheme="orangered",
                tr=tr,
            ),
            width="content",
        )
    else:
        fc = info.features
        mean = S.class_mean(cfg.model, target)
        for start in range(0, len(rep.maps.methods), per_row):
            cols = st.columns(per_row)
            for col, j in zip(cols, range(start, min(start + per_row, len(rep.maps.methods))), strict=False):
                m = rep.maps.methods[j]
                # random's map is a signed mean of noise: drawn by its size
                table = pairs.map_table(fc, np.abs(rep.cells.value[j]), mean)
                if hollow:
                    table = table.assign(solid=rep.cells.solid[j])
                rho = trust.spearman(rep.cells.value[j], ref)
                title = alt.Title(
                    tr(trust.METHOD_NAMES[m]), subtitle=tr("ρ with σ of dy/dx: {r:.2f}").format(r=rho)
                )
                col.altair_chart(
                    maps.importance_map(table, fc, title=title, whole=table, tr=tr),
                    width="stretch",
                    key=f"methods_map_{m}",
                )
    st.caption(
        tr(
            "Each map is scaled to its own largest value (area and colour). ρ: Spearman rank correlation with the "
            "paper's index (σ of dy/dx) over the same frames. SmoothGrad, Integrated Gradients and gradient × input "
            "are averaged as mean |attribution|; first-layer |weights| is the same for every target. Random: noise "
            "drawn independently for every frame and input, averaged with its sign (drawn by its size)."
        )
    )
    cells = pd.concat(
        [
            pd.DataFrame(getattr(rep.cells, k).T, columns=[f"{m}{suffix}" for m in rep.maps.methods])
            for k, suffix in (("value", ""), ("lo", "_lo"), ("hi", "_hi"))
        ]
        + [
            pd.DataFrame(rep.cells.solid.T, columns=[f"{m}_distinguishable_from_0" for m in rep.maps.methods])
        ],
        axis=1,
    )
    st.download_button(
        tr("Download the maps with their {level} intervals (CSV)").format(level=S.level_text(trust.LEVEL)),
        cells.to_csv(index_label="input").encode(),
        file_name=f"method_maps_{name}_{target}.csv",
        mime="text/csv",
    )

if view == "faithfulness":
    measure = st.radio(
        tr("Measure"),
        list(trust.MEASURES),
        horizontal=True,
        key="methods_measure",
        format_func=lambda k: tr(trust.MEASURES[k]),
    )
    table = rep.faith.table()
    c1, c2 = st.columns(2)
    c1.altair_chart(tc.curves_chart(table, "deletion", measure, tr=tr), width="stretch")
    c2.altair_chart(tc.curves_chart(table, "insertion", measure, tr=tr), width="stretch")
    st.caption(
        tr(
            "Deletion: the top-ranked inputs of each method are replaced by their mean over the sample's frames; a "
            "faithful map makes the target's output fall fast. Insertion: only the top-ranked inputs keep their "
            "values; a faithful map makes it rise fast. Random (dashed) is the baseline: one fixed random order of "
            "the inputs (the ranking of its noise map, seeded), the same for every frame."
        )
    )
    st.download_button(
        tr("Download the curves (CSV)"),
        table.to_csv(index=False).encode(),
        file_name=f"method_curves_{name}_{target}.csv",
        mime="text/csv",
    )

if view == "sanity":
    st.altair_chart(tc.sanity_chart(rep.sanity, tr=tr), width="stretch")
    st.caption(
        tr(
            "Adebayo et al. (2018): a map that explains the network must change when the network's weights are "
            "re-initialised as training initialises them (the top layer, then the top 2, 4, ... down to every layer) and for "
            "a twin of the same architecture trained for {e} epochs on {n:,} frames of every class with shuffled "
            "labels (trained here, on the fly). Correlations over {s:,} frames. Dashed line: the flag threshold "
            "ρ = {th}."
        ).format(
            e=rep.sanity.twin_epochs,
            n=len(data.twin_frames),
            s=rep.sanity.n_frames,
            th=trust.SANITY_THRESHOLD,
        )
    )
    st.download_button(
        tr("Download the correlations (CSV)"),
        tc.sanity_table(rep.sanity).to_csv(index=False).encode(),
        file_name=f"method_sanity_{name}_{target}.csv",
        mime="text/csv",
    )

if view == "stability":
    st.altair_chart(tc.stability_chart(rows, digits=is_digits, tr=tr), width="stretch")
    width = rep.cells.relative_width()
    st.dataframe(
        pd.DataFrame(
            {
                tr("method"): shown_names,
                tr("split-half ρ"): [_rho(v) for v in rows["split_half"]],
                tr("median interval width / value"): np.round(width, 2),
                tr("cells ≠ 0"): [f"{v:.0%}" for v in solid_share],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    st.caption(
        tr(
            "Each cell's interval comes from {b} resamples of the {unit} (never of single frames: neighbouring frames "
            "are alike). Split-half ρ is averaged over {h} random halvings. First-layer |weights| does not depend on "
            "the frames, so it is perfectly stable and says nothing about the network. Random is noise drawn "
            "independently for every frame and input: its split-half ρ and its cells ≠ 0 are what chance gives."
        ).format(unit=unit, b=f"{trust_cfg.n_boot:,}", h=f"{trust_cfg.n_splits:,}")
    )
S.report_repairs()

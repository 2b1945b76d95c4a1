"""Units and pruning (speech): how much the outputs depend on each input and hidden unit, and what
happens to the recognition rate when units are deleted, least important first or most important
first."""

import streamlit as st

import app_state as S
from core.viz import units as uc
from i18n import tr

cfg, info = S.page_start("Units and pruning")
S.findings_back_link()  # opened from a Findings card: the way back to it
st.markdown(tr(
    "The importance of a unit is the same index as for an input: **Imp(l, i)** = the sum over all "
    "outputs of the variation of the gradient of the output with respect to unit i of layer l. "
    "Units with small Imp can be deleted with little loss; units with large Imp cannot. Deleting "
    "units in both orders, and in random order, shows whether the index is right."
), help=tr(S.HELP["imp"]))

imp = S.unit_importance_layers(cfg.model, cfg.stat, cfg.output)
hidden = {layer: v for layer, v in imp.items() if layer > 0}
st.subheader(tr("How important is each hidden unit?"))
st.altair_chart(uc.unit_bars(hidden, tr=tr), width="content")
st.caption(tr("Imp(l, i) = Σ over the {n} outputs y of the {stat} of dy/dh_i over the frames (output: {out}); "
              "units of each layer sorted from the most important down; the area of a panel is the layer's total. "
              "The sample-set setting does not apply on this page: Imp is measured on a fixed set of frames of "
              "every phoneme (named below the curves).").format(
    n=info.n_classes, stat=tr(S.STAT_NAMES[cfg.stat]), out=tr(S.OUTPUT_LABELS[cfg.output])), help=tr(S.HELP["imp"]))

st.subheader(tr("Delete units and watch the recognition rate"))
UNIT_CHOICES = {"input": tr("input units"), "hidden": tr("hidden units, all layers"),
                "layer": tr("hidden units of one layer")}
c1, c2 = st.columns([2, 3])
S.choice("prune_units", "prune_units", S.one_of(list(UNIT_CHOICES)), "input", widget="w_prune_units")
choice = c1.radio(tr("Units"), list(UNIT_CHOICES), format_func=UNIT_CHOICES.get,
                  **S.widget_args("prune_units", "prune_units"))
S.put("prune_units", choice, "prune_units")
layers = [str(v) for v in sorted(hidden)]
layer = None
if choice == "layer":
    S.choice("prune_layer", "prune_layer", S.one_of(layers), layers[-1], widget="w_prune_layer")
    layer = int(c2.selectbox(tr("Layer"), layers, **S.widget_args("prune_layer", "prune_layer")))
    S.put("prune_layer", str(layer), "prune_layer")
units = "input" if choice == "input" else "hidden"
available = [o for o in uc.ORDER_NAMES if units == "input" or o != "variance"]
orders = st.multiselect(tr("Orders"), available, default=list(S.DEFAULT_ORDERS),
                        format_func=lambda o: tr(uc.ORDER_NAMES[o]), key=f"prune_orders_{units}", help=tr(S.HELP["orders"]))
if not orders:
    st.info(tr("Choose at least one order."))
    st.stop()
orders = S.orders_of(units, orders)
curve = S.prune_curve(cfg.model, units, layer, orders, cfg.stat, cfg.output)

inspect = list(orders)
k_default = curve.k[min(len(curve.k) - 1, round(0.4 * (len(curve.k) - 1)))]
s1, s2 = st.columns([3, 2])
k = s1.select_slider(tr("Delete k units"), options=list(curve.k), value=k_default, key=f"prune_k_{choice}_{layer}",
                     format_func=lambda v: f"{v} ({v / curve.n_units:.0%})")
order = s2.radio(tr("Pruned model to inspect"), inspect, horizontal=False, index=0, key="prune_order",
                 format_func=lambda o: tr("random order (seed {s})").format(s=S.INSPECT_SEED) if o == "random" else tr(uc.ORDER_NAMES[o]))

what = tr("hidden units of layer {l}").format(l=layer) if layer else UNIT_CHOICES[choice]
st.altair_chart(uc.curve_chart(curve.table(), curve.full_accuracy, marker_k=k, title=what,
                               x_title=tr("units deleted (of {n})").format(n=curve.n_units), tr=tr),
                width="stretch")
i = curve.point(k)
right, d1 = st.columns(2)  # two columns, each readable at 1024 px with the sidebar open
with right:
    st.markdown(tr("**With {k} of {n} {what} deleted** ({f:.0%}), frame accuracy on {m:,} held-out frames:").format(
        k=k, n=curve.n_units, what=what, f=k / curve.n_units, m=curve.n_frames))
    rows = [{tr("order"): tr(uc.ORDER_NAMES[o]), tr("accuracy"): uc.accuracy_text(curve.curves[o][i]),
             tr("change"): f"{100 * (curve.curves[o][i] - curve.full_accuracy):+.1f}"} for o in orders]
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption(tr("Full model: {a}. Change in percentage points.").format(a=uc.accuracy_text(curve.full_accuracy)))
    if choice == "hidden":
        st.caption(tr("k is shared out as the same fraction of every hidden layer. Imp(l, i) is measured with every "
                      "other unit in place; deleting units in all layers at once changes what the upper layers "
                      "receive, so this curve need not follow the per-layer ones (compare them with \"hidden "
                      "units of one layer\")."))

p = S.pruned_model(cfg.model, units, layer, order, k, cfg.stat, cfg.output)
with d1:
    st.markdown(tr("**The pruned network** ({o})").format(o=tr(uc.ORDER_NAMES[order])))
    st.dataframe(S.cost_rows(p, "frame"), hide_index=True, width="stretch")
    st.caption(tr("The weights of deleted units are cut out of the matrices; a deleted hidden unit's mean "
                  "activation is folded into the next layer's bias, a deleted input is replaced by its mean.")
               + " " + S.cost_caption(p, "frame"))
    st.download_button(tr("Download the pruned model (zip)"), lambda: S.model_zip(p, f"{cfg.model}_{units}{layer or ''}_{order}_{k}"),
                       file_name=f"{cfg.model}_{units}_{order}_{k}.zip", mime="application/zip", key="prune_dl")
st.altair_chart(uc.damage_bars(curve.damage(order, k), title=tr("Phonemes that lose most (recall)"), tr=tr),
               width="stretch")

if units == "input":
    st.altair_chart(uc.kept_inputs_map(info.features, p.keep[0], imp[0],
                                       title=tr("Inputs kept (squares, area ∝ Imp(0, i)) and deleted (+)"), tr=tr),
                    width="stretch")

st.download_button(tr("Download the curves (CSV)"), curve.table().to_csv(index=False).encode(),
                   file_name=f"pruning_{cfg.model}_{units}{layer or ''}.csv", mime="text/csv")
st.caption(tr("Curves measured on {n:,} held-out frames ({rule}); importance on {s}.").format(
    n=curve.n_frames, rule=S.record_text(curve.settings.get("eval", "")),
    s=S.record_text(curve.settings.get("stats", ""))))

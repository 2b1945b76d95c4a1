"""The handwritten-digit CNN: its filters, what they respond to, which of them matter, and what
happens when filters are deleted (with and without retraining the fully connected layers)."""

import numpy as np
import streamlit as st

import app_state as S
from core.viz import units as uc
from i18n import tr

name, info, cfg = S.digits_page_start("Digit CNN")
S.findings_back_link()  # opened from a Findings card: the way back to it
net, _ = S.digits_model(name)
ds, _ = S.digits_data(name)
acc = info.metrics.get("heldout_accuracy")
shape = S.digit_shape(net, ds.images)  # every size the page states, from the loaded network and its digits
st.markdown(S.digit_intro_text(shape, uc.accuracy_text(acc) if acc is not None else "?", len(ds.labels)),
            help=tr(S.HELP["sigma"]))

VIEWS = {"filters": tr("Filters and their importance"), "digit": tr("One digit"), "prune": tr("Deleting filters")}
S.choice("cnn_view", "cnn_view", S.one_of(list(VIEWS)), "filters", widget="w_cnn_view")
view = st.segmented_control(tr("View"), list(VIEWS), format_func=VIEWS.get, label_visibility="collapsed",
                            **S.widget_args("cnn_view", "cnn_view")) or "filters"
S.put("cnn_view", view, "cnn_view")

if view in ("filters", "prune"):
    imp = S.unit_importance_layers(name, cfg.stat, cfg.output)
if view == "filters":
    st.caption(S.digit_filters_caption(shape))
    w1 = S.digit_conv1_weights(name)
    st.altair_chart(uc.image_grid(w1, names=[f"f{i}" for i in range(len(w1))], columns=8, cell=9, tr=tr),
                    width="content")
    c1, c2 = st.columns(2)
    c1.altair_chart(uc.filter_bars(imp[1], title=tr("conv1: importance of each filter"), tr=tr), width="stretch")
    c2.altair_chart(uc.filter_bars(imp[2], title=tr("conv2: importance of each filter"), tr=tr), width="stretch")
    st.caption(tr("Importance = {stat} ({out}), summed over the {k} outputs and the positions of the "
                  "filter's map, over {subset} (the ranking the deletion curves use).").format(
        k=shape["outputs"], stat=tr(S.STAT_LABELS[cfg.stat]), out=tr(S.OUTPUT_LABELS[cfg.output]),
        subset=S.record_text(S.pruning_subsets(name).get("stats", ""))))

if view == "digit":
    digits = list(range(shape["outputs"]))
    S.choice("cnn_digit", "digit", S.number_in(0, shape["outputs"] - 1), 3, widget="w_cnn_digit")
    d = st.radio(tr("Digit"), digits, horizontal=True, **S.widget_args("cnn_digit", "digit"))
    S.put("cnn_digit", d, "digit")
    idx = np.flatnonzero(ds.labels == d)
    i = st.slider(tr("Example (held-out image of this digit)"), 1, len(idx), 1, key="cnn_example")
    grad, pred, post = S.digit_saliency(name, int(idx[i - 1]), cfg.output)
    imap = S.digit_importance_map(name, cfg.output, cfg.stat, d)
    p1, p2, p3 = st.columns(3)
    p1.altair_chart(uc.image_grid(ds.images[idx[i - 1]][None] / 255.0, names=[tr("the image")], cell=6,
                                  symmetric=False, tr=tr), width="content")
    p2.altair_chart(uc.image_grid(grad[None], names=[tr("dy/dx of '{p}' at this image").format(p=pred)], cell=6, tr=tr),
                    width="content")
    p3.altair_chart(uc.image_grid(imap[None], names=[tr("importance for '{d}' over all digits").format(d=d)],
                                  cell=6, symmetric=False, scheme="orangered", tr=tr), width="content")
    st.caption(tr("The network says **{p}** ({q:.0%}). Middle: the gradient of that output at this very image "
                  "(red: more ink here raises it). Right: the paper's index for output '{d}', the variation of "
                  "that gradient over all {n:,} held-out digits.").format(p=pred, q=float(post[pred]), d=d,
                                                                           n=len(ds.labels)))
    maps = S.digit_mean_maps(name, d)
    st.markdown(tr("**Mean feature maps for '{d}'** (after the ReLU; each scaled to its own maximum)").format(d=d))
    st.altair_chart(uc.image_grid(maps[1], names=[f"conv1 f{j}" for j in range(len(maps[1]))], columns=6, cell=3,
                                  symmetric=False, tr=tr), width="content")
    st.altair_chart(uc.image_grid(maps[2], names=[f"conv2 f{j}" for j in range(len(maps[2]))], columns=6, cell=5,
                                  symmetric=False, tr=tr), width="content")

if view == "prune":
    st.markdown(tr(
        "Delete filters one by one, least important first or most important first (or at random, or by the "
        "size of their weights), and measure the accuracy on the held-out digits. After each deletion the "
        "**fully connected layers are retrained** (the convolutions stay as they are); the right-hand chart "
        "shows the same without retraining."))
    c1, c2 = st.columns([1, 3])
    conv = c1.radio(tr("Filters of"), [2, 1], format_func=lambda v: f"conv{v}", key="cnn_conv")
    available = [o for o in uc.ORDER_NAMES if o != "variance"]
    orders = c2.multiselect(tr("Orders"), available, default=list(S.DEFAULT_ORDERS),
                            format_func=lambda o: tr(uc.ORDER_NAMES[o]), key="cnn_orders", help=tr(S.HELP["orders"]))
    if not orders:
        st.info(tr("Choose at least one order."))
        st.stop()
    orders = S.orders_of("filters", orders)
    curve = S.prune_curve(name, "filters", conv, orders, cfg.stat, cfg.output, retrain=True)
    plain = S.prune_curve(name, "filters", conv, orders, cfg.stat, cfg.output, retrain=False)
    s1, s2 = st.columns([3, 2])
    k = s1.select_slider(tr("Delete k filters"), options=list(curve.k), value=curve.k[len(curve.k) // 2],
                         key=f"cnn_k_{conv}", format_func=lambda v: tr("{k} of {n}").format(k=v, n=curve.n_units))
    order = s2.radio(tr("Pruned model to inspect"), orders, format_func=lambda o: tr(uc.ORDER_NAMES[o]), key="cnn_order")
    g1, g2 = st.columns(2)
    g1.altair_chart(uc.curve_chart(curve.table(), curve.full_accuracy, marker_k=k,
                                   title=tr("with FC-only retraining"), x_title=tr("filters deleted"), tr=tr),
                    width="stretch")
    g2.altair_chart(uc.curve_chart(plain.table(), plain.full_accuracy, marker_k=k,
                                   title=tr("without retraining"), x_title=tr("filters deleted"), tr=tr),
                    width="stretch")
    rt = curve.settings.get("retrain") or {}
    st.caption(tr("Retraining starts from the pruned network's weights and sees the digits without the shifts the "
                  "original training used, so with only a few filters deleted it can score a little below the "
                  "untouched curve; its benefit shows as more filters go."))
    st.caption(tr("Retraining: fc1 and fc2 only, {e} epochs of Adam (lr {lr}, batch {b}, seed {s}) on {t}; "
                  "accuracy on {n:,} held-out digits.").format(
        e=rt.get("epochs"), lr=rt.get("lr"), b=rt.get("batch_size"), s=rt.get("seed"),
        t=S.record_text(curve.settings.get("train", "")), n=curve.n_frames))
    i = curve.point(k)
    p = S.pruned_model(name, "filters", conv, order, k, cfg.stat, cfg.output)
    # two tables side by side, then the chart: in three columns the tables were cut (Japanese most)
    d1, d2 = st.columns(2)
    with d1:
        st.markdown(tr("**With {k} of {n} conv{c} filters deleted**").format(k=k, n=curve.n_units, c=conv))
        st.dataframe([{tr("order"): tr(uc.ORDER_NAMES[o]), tr("retrained"): uc.accuracy_text(curve.curves[o][i]),
                       tr("not retrained"): uc.accuracy_text(plain.curves[o][i])} for o in orders],
                     hide_index=True, width="stretch")
        st.caption(tr("Full model: {a}.").format(a=uc.accuracy_text(curve.full_accuracy)))
    with d2:
        st.markdown(tr("**The pruned network** ({o})").format(o=tr(uc.ORDER_NAMES[order])))
        st.dataframe(S.cost_rows(p, "digit"), hide_index=True, width="stretch")
        st.caption(S.cost_caption(p, "digit"))
        st.download_button(tr("Download the pruned, retrained model (zip)"),
                           lambda: S.retrained_zip(name, p, f"{name}_conv{conv}_{order}_{k}"),
                           file_name=f"{name}_conv{conv}_{order}_{k}.zip", mime="application/zip", key="cnn_dl")
    d3, d4 = st.columns([1, 2])
    with d3:
        # the heading as text, like its neighbours': a chart title is cut with "…" in a narrow column
        st.markdown("**" + tr("Digits that lose most") + "**")
        st.altair_chart(uc.damage_bars(curve.damage(order, k), unit="digit", tr=tr), width="stretch")
    gone = [int(j) for j in (~p.keep[conv]).nonzero()[0]]
    with d4:  # the heading as text too: as a chart title it was cut in Japanese at 1024 px
        st.markdown("**" + tr("conv{c}: importance of each filter, deleted ones grey").format(c=conv) + "**")
        st.altair_chart(uc.filter_bars(imp[conv], highlight=gone, tr=tr), width="stretch")
    st.download_button(tr("Download the curves (CSV)"),
                       (curve.table().assign(retrained=True).to_csv(index=False)
                        + plain.table().assign(retrained=False).to_csv(index=False, header=False)).encode(),
                       file_name=f"pruning_{name}_conv{conv}.csv", mime="text/csv")

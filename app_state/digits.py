"""The digit CNN: model, data, saliency and mean maps (shared, cached, read-only)."""

from __future__ import annotations

import numpy as np
import streamlit as st

from app_state.cache import _memo
from app_state.labels import OUTPUT_LABELS, STAT_LABELS
from app_state.resources import Settings, model, models_root
from app_state.session import _select, warmup_panel
from core import pruning
from core.activations import class_mean_activations, predict_proba
from core.importance import (
    OUTPUTS,
    GradStats,
    attributions,
    layer_gradient_stats,
)
from core.models import ModelInfo, list_models, load_model
from core.train import (
    digits_validation,
)
from i18n import error_text, tr

# ---------------------------------------------------------------------------------------------
# The digit CNN (shared, cached, read-only)


@st.cache_resource(show_spinner=False)
def _digits_models(root: str) -> dict[str, ModelInfo]:
    return {m.name: m for m in list_models(root) if m.kind == "digits"}


def digits_models() -> dict[str, ModelInfo]:
    """Digit models by name (metadata only)."""
    return _digits_models(models_root())


@st.cache_resource(show_spinner=False)
def _digits_model(root: str, name: str):
    net, info = load_model(_digits_models(root)[name].path)
    net.requires_grad_(False)
    return net, info


def digits_model(name: str):
    """(model, info) of a digits model, shared read-only by every session."""
    return _digits_model(models_root(), name)


@st.cache_resource(show_spinner=False)
def _digits_data(root: str, name: str):
    _, info = _digits_model(root, name)
    ds = digits_validation(info)
    x = info.preprocess(ds.images)
    for a in (ds.images, ds.labels, x):
        a.setflags(write=False)
    return ds, x


def digits_data(name: str):
    """(held-out DigitSet with pixels 0..255, the same as the network's normalised input)."""
    return _digits_data(models_root(), name)


def digit_pixel_stats(root: str, name: str, net, x, labels, output: str) -> GradStats:
    """Pixel-gradient statistics of every digit's output over the held-out digits; computed once per
    (models folder, model, output) for every session and kept on disk (the warm-up calls this from
    its thread: no Streamlit call here)."""
    return _memo("digit_stats").get(
        (root, name, output),
        lambda: layer_gradient_stats(net, x, labels, None, layers=(0,), output=output, n_labels=10)[0])


def digit_class_means(root: str, name: str, net, x, labels) -> dict[int, np.ndarray]:
    """{conv layer: (digits, filters, H, W)} mean feature maps per digit, once per model (on disk)."""
    return _memo("digit_means").get((root, name), lambda: class_mean_activations(net, x, labels, (1, 2)))


def pruning_subsets(name: str) -> dict:
    """How core.pruning chose the frames / digits of a model (evaluation, statistics, training)."""
    _, info = any_model(name)
    return dict(pruning.prune_data(info).settings)


def digit_importance_map(name: str, output: str, stat: str, digit: int) -> np.ndarray:
    """(H, W) importance of every pixel (the digits' image shape) for the output of ``digit`` over all
    held-out digits."""
    net, _ = digits_model(name)
    ds, x = digits_data(name)
    with st.spinner(tr("Computing gradients over the held-out digits…")):
        s = digit_pixel_stats(models_root(), name, net, x, ds.labels, output)
    return s.stat(stat)[s.target_index(digit)].reshape(x.shape[-2:])


def digit_mean_maps(name: str, digit: int) -> dict[int, np.ndarray]:
    """{conv layer: (filters, H, W)} mean feature maps (after ReLU) over held-out images of ``digit``."""
    net, _ = digits_model(name)
    ds, x = digits_data(name)
    return {layer: m[digit] for layer, m in digit_class_means(models_root(), name, net, x, ds.labels).items()}


@st.cache_data(show_spinner=False, max_entries=64)
def digit_saliency(name: str, index: int, output: str) -> tuple[np.ndarray, int, np.ndarray]:
    """(gradient of the predicted digit's output w.r.t. the pixels (H, W), predicted digit,
    posteriors (outputs,)) for held-out image ``index``."""
    net, _ = digits_model(name)
    _, x = digits_data(name)
    xi = np.array(x[index : index + 1])
    post = predict_proba(net, xi)[0]
    pred = int(post.argmax())
    g = attributions(net, xi, [pred], method="gradient", output=output)[0, 0].reshape(xi.shape[-2:])
    return g, pred, post


def digits_page_start(title: str) -> tuple[str, ModelInfo, Settings | None]:
    """The digit pages begin here: a sidebar with the digits model and the shared importance and
    output settings; stops after one message when no digits model is installed."""
    models = digits_models()
    st.title(tr(title))
    if not models:
        st.error(tr("No digits model is installed in assets/models; run `make assets`."))
        st.stop()
    names = sorted(models)
    with st.sidebar:
        st.header(tr("Settings"))
        m = _select(tr("Digits model"), names, "settings_digits_model", "digits_model", names[0], str)
        k = _select(
            tr("Importance"), list(STAT_LABELS), "settings_stat", "stat", "std", lambda k: tr(STAT_LABELS[k])
        )
        o = _select(
            tr("Output"),
            list(OUTPUTS),
            "settings_output",
            "output",
            "posterior",
            lambda k: tr(OUTPUT_LABELS[k]),
        )
    warmup_panel()
    st.query_params.update({"digits_model": m, "stat": k, "output": o})
    try:
        digits_model(m)
        digits_data(m)
    except ValueError as exc:
        st.error(tr("The model {m} cannot be used: {e}").format(m=m, e=error_text(exc)))
        st.stop()
    return m, digits_model(m)[1], Settings(model=m, sample_set="all", stat=k, output=o)


def digit_conv1_weights(name: str) -> np.ndarray:
    """(c1, 5, 5) first-layer filter weights of a digits model (a copy)."""
    return digits_model(name)[0].conv1.weight.detach().numpy()[:, 0].copy()


def any_model(name: str):
    """(model, info) of a speech or digits model, shared read-only."""
    return digits_model(name) if name in digits_models() else model(name)

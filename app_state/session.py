"""Session state and the URL, the sidebar and the opening of every page."""

from __future__ import annotations

import streamlit as st

from app_state.labels import OUTPUT_LABELS, SAMPLE_SETS, STAT_LABELS, phone_labels
from app_state.resources import (
    DEFAULT_MODEL,
    JAPANESE_DEFAULT_MODEL,
    Settings,
    model,
    speech_models,
    validation,
)
from app_state.texts import accuracy_caption, real_speech_text
from app_state.warmup import warmup
from core.importance import (
    OUTPUTS,
)
from core.models import ModelInfo
from i18n import LANG_KEY, N_, error_text, tr

# ---------------------------------------------------------------------------------------------
# Session state and the URL
#
# Every choice a user makes lives in ``st.session_state[key]`` (so it survives page changes, which
# drop widgets' own state) and in the URL as ``?param=value`` (so a link restores the view). A URL
# value that cannot be used is replaced by the default once, and the replacement is reported in one
# toast per run (``report_repairs``).


def _repair(param: str, bad: str, used) -> None:
    st.session_state.setdefault("_repairs", []).append(f"{param}={bad} → {used}")


def report_repairs() -> None:
    """One toast naming every URL value replaced in this session so far and not yet reported."""
    repairs = st.session_state.pop("_repairs", None)
    if repairs:
        st.toast(
            tr("This link had values that cannot be used here; changed: {r}").format(r=", ".join(repairs)),
            icon="🔗",
        )


def choice(key: str, param: str, parse, default, *, widget: str | None = None):
    """The session's value of ``key``: set once from the URL's ``param`` (``parse(text)`` returns the
    value or raises ValueError) or ``default``; an unusable URL value is reported (``report_repairs``).
    ``widget``: the key of the widget that shows it; it is (re)initialised from the value."""
    if key not in st.session_state:
        text = st.query_params.get(param)
        value = default
        if text is not None:
            try:
                value = parse(text)
            except (ValueError, TypeError):
                _repair(
                    param, text, default if not isinstance(default, tuple) else ",".join(map(str, default))
                )
        st.session_state[key] = value
    else:
        text = st.query_params.get(param)
        if text is not None and text != _as_text(st.session_state[key]):
            # every run writes the session's values into the URL, so a different value here comes from a
            # link followed inside the session (st.page_link with query_params): it wins if it is usable
            try:
                st.session_state[key] = parse(text)
            except (ValueError, TypeError):
                pass
    if widget is not None and (
        widget not in st.session_state or st.session_state[widget] != st.session_state[key]
    ):
        # a page change drops or resets a widget's own state; the session value is the truth (a
        # widget's on_change copies the user's choice there before the script runs)
        st.session_state[widget] = st.session_state[key]
    return st.session_state[key]


def one_of(options) -> callable:
    """A parser accepting only ``options`` (strings)."""

    def parse(text: str) -> str:
        if text not in options:
            raise ValueError(text)
        return text

    return parse


def number_in(lo: float, hi: float, kind=int) -> callable:
    """A parser of one number of ``kind`` within [lo, hi]."""

    def parse(text: str):
        v = kind(text)
        if not lo <= v <= hi:
            raise ValueError(text)
        return v

    return parse


def pair_in(lo: int, hi: int) -> callable:
    """A parser of 'a,b' (integers lo <= a <= b <= hi), for ranges."""

    def parse(text: str) -> tuple[int, int]:
        a, b = (int(v) for v in text.split(","))
        if not lo <= a <= b <= hi:
            raise ValueError(text)
        return a, b

    return parse


def _as_text(value) -> str:
    """A value as the URL writes it (ranges and cells as 'a,b')."""
    return ",".join(str(v) for v in value) if isinstance(value, tuple) else str(value)


def put(key: str, value, param: str | None = None) -> None:
    """Store a choice under ``key`` and write it into the URL (``param``; ranges and cells as 'a,b')."""
    st.session_state[key] = value
    if param is not None:
        st.query_params[param] = _as_text(value)


def _from_widget(key: str, widget: str, param: str) -> None:
    put(key, st.session_state[widget], param)


def widget_args(key: str, param: str) -> dict:
    """Keyword arguments wiring a widget (key ``w_<key>``) to the session value and the URL."""
    return {"key": f"w_{key}", "on_change": _from_widget, "args": (key, f"w_{key}", param)}


def _select(label: str, options: list[str], key: str, param: str, default: str, fmt, help=None) -> str:
    choice(key, param, one_of(options), default, widget=f"w_{key}")
    if st.session_state[f"w_{key}"] not in options:
        st.session_state[f"w_{key}"] = st.session_state[key] = default
    st.selectbox(label, options, format_func=fmt, help=help, **widget_args(key, param))
    return st.session_state[key]


HELP = {
    "stat": N_("How the importance of an input is measured from the gradient dy/dx of the output over the "
    "validation frames: σ (standard deviation over frames, the paper's index: how much the "
    "sensitivity varies), mean |dy/dx| or the root mean square."),
    "output": N_("Which output y is differentiated: the posterior (softmax probability, the paper's choice), "
    "the logit (the value before the softmax) or the log posterior."),
    "sample": N_("The frames the statistic is taken over: every validation frame, or only those of the "
    "phonemes shown."),
    "p_e": N_("p_e = 2(1-ε)/(2-ε): the probability that the input's distributions over the two phonemes' frames "
    "differ (0 = identical, 1 = disjoint); ε is their overlap (the area under both densities)."),
    "z": N_("Inputs are normalised per channel (z = (value - mean) / std over the training frames): 0 is the "
    "average over all frames, +1 one standard deviation above."),
    "score": N_("score = importance(A) × importance(B) × p_e: large for inputs both outputs depend on *and* whose "
    "values differ between the two phonemes' frames (p_e near 1), i.e. the inputs the network can use to tell "
    "the two apart."),
    "sigma": N_("σ of dy/dx: the standard deviation, over many frames, of the derivative of an output y with respect "
    "to an input x. Near a decision boundary the derivative swings from frame to frame; an input the "
    "network ignores has a derivative that stays near 0. Large σ = the output depends on that input."),
    "logit": N_("Logit: an output's value before the softmax; the posterior is exp(logit) divided by the sum of "
    "exp over all outputs."),
    "posterior": N_("Posterior: the softmax output, the network's probability that the frame is this phoneme (0 to 1)."),
    "log_posterior": N_("Log posterior: the logarithm of the posterior (logit minus the log of the softmax's "
    "denominator); its gradient does not vanish when the posterior is near 0 or 1."),
    "eps": N_("ε (overlap): the area shared by the input's two densities (one per phoneme), "
    "∫ min(p_A, p_B); 1 = identical, 0 = no overlap."),
    "imp": N_("Imp(l, i): the importance of unit i of layer l (layer 0 = the inputs) = the sum over all outputs j "
    "of σ of dy_j/dh_i, the variation of the gradient of each output with respect to the unit."),
    "orders": N_("Pruning orders: which units are deleted first. Least / most important first (by Imp); at random "
    "(the band spans several seeds); smallest L1 norm of the unit's weights first (the common "
    "criterion); smallest Taylor score first (mean |unit value × gradient of the training loss|); "
    "for inputs also smallest variance first."),
}
"""Help texts of the technical terms, shown where they appear (widgets' help, captions) and in the
home page's glossary."""


def sidebar() -> Settings | None:
    """The shared sidebar (every page): model, sample set, statistic, output.

    Returns None (after an st.error) when no speech model is installed.
    """
    models = speech_models()
    if not models:
        st.sidebar.error(tr("No speech model is installed in assets/models; run `make assets`."))
        return None
    # Japanese users start on the Japanese model (the paper's language); a model in the address wins
    names = sorted(models, key=lambda n: (n != DEFAULT_MODEL, n))  # the same options in either language
    default = (JAPANESE_DEFAULT_MODEL if st.session_state.get(LANG_KEY) == "ja" and JAPANESE_DEFAULT_MODEL in models
               else names[0])
    with st.sidebar:
        st.header(tr("Settings"))
        m = _select(
            tr("Model"),
            names,
            "settings_model",
            "model",
            default,
            # the features only where the name does not say them (a long name was cut in the sidebar)
            lambda n: n if models[n].features.kind in n.lower() else f"{n} ({models[n].features.kind.upper()})",
        )
        st.caption(accuracy_caption(models[m]), help=real_speech_text(models[m]))
        s = _select(
            tr("Sample set"),
            list(SAMPLE_SETS),
            "settings_sample",
            "sample",
            "all",
            lambda k: tr(SAMPLE_SETS[k]),
            help=tr(HELP["sample"]),
        )
        k = _select(
            tr("Importance"),
            list(STAT_LABELS),
            "settings_stat",
            "stat",
            "std",
            lambda k: tr(STAT_LABELS[k]),
            help=tr(HELP["stat"]),
        )
        o = _select(
            tr("Output"),
            list(OUTPUTS),
            "settings_output",
            "output",
            "posterior",
            lambda k: tr(OUTPUT_LABELS[k]),
            help=tr(HELP["output"]),
        )
    # the address always shows the current settings (also after a page change or a bad value)
    st.query_params.update({"model": m, "sample": s, "stat": k, "output": o})
    try:  # a damaged model or validation file is one clear message, not a traceback
        model(m)
        validation(m)
    except ValueError as exc:
        st.error(tr("The model {m} cannot be used: {e}").format(m=m, e=error_text(exc)))
        return None
    warmup_panel()
    return Settings(model=m, sample_set=s, stat=k, output=o)


def _warmup_text(w) -> str:
    if w.error:
        return tr("Background preparation stopped ({e}); maps are computed when asked for.").format(e=error_text(w.error))
    if w.finished is not None:
        return tr("✓ Importance maps of every phoneme of {m} ready ({s:.0f} s).").format(
            m=w.name, s=w.seconds
        )
    what = {"histograms": tr("histograms"), "units": tr("units and filters"),
            "findings": tr("the Findings page")}.get(w.current, w.current)
    return tr(
        "Preparing the importance maps of {m} in the background: step {i} of {n} ({what}). "
        "Pages work meanwhile; a phoneme not ready yet is computed when you open it."
    ).format(m=w.name, i=min(w.done + 1, w.total), n=w.total, what=what)


@st.fragment(run_every=2.0)
def _warmup_live(w) -> None:
    if w.finished is None:
        st.progress(w.done / w.total, text=_warmup_text(w))
    else:
        st.caption(_warmup_text(w))


def warmup_panel() -> None:
    """Start the background warm-up (once per server) and show its progress in the sidebar:
    refreshed every 2 s while it runs, a one-line caption once it is done."""
    w = warmup()
    if w is None:
        return
    with st.sidebar:
        if w.finished is None:
            _warmup_live(w)
        else:
            st.caption(_warmup_text(w))


def page_start(title: str) -> tuple[Settings, ModelInfo]:
    """Every analysis page begins here: the shared sidebar, the title, and the chosen model's
    metadata; the page stops (after the sidebar's one error message) when no model can be used."""
    cfg = sidebar()
    st.title(tr(title))
    if cfg is None:
        report_repairs()
        st.stop()
    return cfg, model(cfg.model)[1]


def resend_if_relabelled(widget: str, labels: tuple[str, ...]) -> None:
    """Send a select box's value to the browser again when its options' texts changed since the last
    run (another model: /s/ is 's  (/s/ as in 'sun')' for English, 's サ  (...)' for Japanese). The
    browser keeps the *text* of the option it showed until the server sends a value, so without this
    the box goes on showing the previous model's label. Call before the widget is drawn."""
    mark = f"_labels_{widget}"
    if st.session_state.get(mark, labels) != labels and widget in st.session_state:
        st.session_state[widget] = st.session_state[widget]
    st.session_state[mark] = labels


def phone_select(
    label: str, key: str, param: str, phones: list[str], default: str, container=st, on_change=None
) -> str:
    """A phoneme select box whose choice survives page changes and is in the URL (``param``).
    ``on_change``: called after the choice is stored."""
    choice(key, param, one_of(phones), default, widget=f"w_{key}")
    if st.session_state[f"w_{key}"] not in phones:  # e.g. another model
        st.session_state[f"w_{key}"] = st.session_state[key] = default if default in phones else phones[0]

    def changed() -> None:
        _from_widget(key, f"w_{key}", param)
        if on_change is not None:
            on_change()

    model = st.session_state.get("settings_model")  # the model's phone set
    labels = phone_labels(phones, model)
    resend_if_relabelled(f"w_{key}", tuple(labels.values()))
    container.selectbox(label, phones, format_func=lambda p: labels.get(p, p), key=f"w_{key}", on_change=changed)
    st.query_params[param] = st.session_state[key]
    return st.session_state[key]


def choose_pair(a: str, b: str) -> None:
    """Show phonemes a and b (a suggestion's button): both select boxes, the URL, no clicked cell."""
    for key, value in (("pair_a", a), ("pair_b", b)):
        st.session_state[key] = st.session_state[f"w_{key}"] = value
        st.query_params[key] = value
    set_cell(None)


def pair_changed() -> None:
    """A new phoneme in a pair's select box: the detail goes back to the top-ranked cell."""
    set_cell(None)


def pair_choice(phones: list[str]) -> tuple[str, str]:
    """The session's pair (from the URL on a first visit, default /s/ vs /sh/); a link naming the same
    phoneme twice is repaired to /s/ vs /sh/ (or /sh/ vs /s/) and reported."""
    before = (st.session_state.get("pair_a"), st.session_state.get("pair_b"))
    a = choice("pair_a", "pair_a", one_of(phones), "s")
    b = choice("pair_b", "pair_b", one_of(phones), "sh")
    if before[0] is not None and (a, b) != before and st.query_params.get("cell") is None:
        set_cell(None)  # a link to another pair (e.g. home's "start here"): back to its top cell
    if a == b and "w_pair_a" not in st.session_state:  # a link, not the user's own choice
        b = "sh" if a != "sh" else "s"
        _repair("pair_b", a, b)
        put("pair_b", b, "pair_b")
    return a, b


def set_cell(cell: tuple[int, int] | None) -> None:
    """Choose a cell of the pair map (None: back to the top-ranked one)."""
    st.session_state["pair_cell"] = cell
    if cell is None:
        st.query_params.pop("cell", None)
    else:
        put("pair_cell", cell, "cell")

"""Home: what dnnlens shows, where to start, how to read a map, the voices, the models, a glossary."""

import streamlit as st

import app_state as S
from core.viz.units import accuracy_text
from i18n import N_, current_language, tr

cfg = S.sidebar()
st.title(tr("dnnlens: what a deep neural network looks at"))
speech = S.speech_models()
main = speech[cfg.model].features if cfg is not None else None  # the model the pages open with
if main is not None:
    st.markdown(S.network_input_text(main, [m.features for m in speech.values()]))
st.markdown(tr(
    "dnnlens measures it with the **variation of the gradient** (σ of dy/dx): how much the output for a "
    "phoneme changes when one input changes, and how much that sensitivity varies across thousands of real "
    "frames. An input the network ignores has a gradient that barely moves; an input near a decision "
    "boundary has one that swings. The map of this variation over time and frequency shows what the "
    "network looks at."
), help=tr(S.HELP["sigma"]))

st.subheader(tr("Start here"))
model_name = cfg.model if cfg is not None else None  # the start-here cards quote this model's card
START = [
    ("screens/phoneme_pair.py", "⚖️", tr("1. /s/ against /sh/"), {"pair_a": "s", "pair_b": "sh"},
     tr("Two hisses made at different places in the mouth. The squares both large and red are the inputs both "
        "outputs depend on and where the two phonemes differ; click one to see the two distributions.")
     + S.quoted_finding(S.card_for("s_sh", model_name), model_name)),
    ("screens/phoneme_pair.py", "⚖️", tr("2. /b/ against /d/"), {"pair_a": "b", "pair_b": "d"},
     tr("Two stops with the same manner and voicing, closed at the lips and behind the teeth: look where the "
        "large red squares lie in time and frequency.") + S.quoted_finding(S.card_for("b_d", model_name), model_name)),
    ("screens/importance_map.py", "🗺️", tr("3. The importance map of /s/"), {"phone": "s"},
     tr("Which of the {d:,} inputs the output of one phoneme depends on; try {examples}.").format(
         d=main.input_dim if main is not None else 0,
         examples=S.map_examples(S.phones_of(cfg.model) if cfg is not None else []))),
    ("screens/units_pruning.py", "✂️", tr("4. Units and pruning"), None,
     tr("The same index for hidden units: delete units least important first, most important first or at "
        "random, and compare the recognition rate.")),
    ("screens/digit_cnn.py", "🔢", tr("5. Digit CNN"), None,
     tr("The index for the filters of a handwritten-digit network, and what deleting them costs.")),
]
for page, icon, label, params, what in START:  # the link above its text: a side column cut long labels
    st.page_link(page, label=label, icon=icon, query_params=params)
    st.markdown(what)

st.subheader(tr("How to read a map"))
st.markdown(tr(
    "Each square is one input: its column is the time offset from the frame being classified, its row "
    "the frequency band. **Area** = how much the phoneme's output depends on that input. By default the "
    "**colour** shows the same importance (darker = more important), so the most important inputs stand "
    "out; the map's *Colour* setting can show instead the **class mean**, the paper's picture: what the "
    "input usually looks like for the phoneme (normalised z; red above its average over all frames, blue below)."
), help=tr(S.HELP["z"]))
st.markdown(tr(
    "On the **Phoneme pair** page the area is the product of the two phonemes' importances and the colour "
    "is **p_e**, how differently the two phonemes distribute at that input; a click on a square shows the "
    "two distributions and their overlap **ε**."
), help=tr(S.HELP["p_e"]))
st.image(S.picture("how_to_read"), width=620)

st.subheader(tr("The voices"))
english = [m for m in speech.values() if m.phone_set.language == "English"]
english = sorted(english, key=lambda m: m.name != S.DEFAULT_MODEL)  # the default model's voices first
japanese = [m for m in speech.values() if m.phone_set.language == "Japanese"]
if english:
    st.markdown(S.english_voices_text(english[0], S.validation_voices(english[0].name)))
if japanese:
    st.markdown(S.japanese_voices_text(japanese[0]))

st.subheader(tr("The models"))
models = S.all_models()
# two cards a row: four side by side leave a card two or three characters a line at 1024 px
cols = [c for k in range(0, len(models), 2) for c in st.columns(2)]
for col, info in zip(cols, models, strict=False):
    with col.container(border=True):
        st.markdown(f"**{info.name}**")
        st.markdown(S.model_description(info) if current_language() != "en" else (info.description or ""))
        data, acc = info.data or {}, info.metrics.get("heldout_accuracy")
        acc_text = accuracy_text(acc) if acc is not None else "?"
        if info.kind == "speech":
            st.markdown(tr(
                "- trained on {u:,} synthesised utterances ({f:,} frames), voices {v}\n"
                "- {a} frame accuracy on {h:,} held-out frames (the pages use {n:,} of them)"
            ).format(u=data.get("train_utterances", 0), f=data.get("train_frames", 0),
                     v=S.voices_text(data.get("voices", [])), a=acc_text, h=info.metrics.get("heldout_frames", 0),
                     n=S.validation_size(info.name)) + "\n- " + S.real_speech_text(info))
            if info.name == S.DEFAULT_MODEL:
                st.caption(tr("The default model of the map, pair and units pages (choose another in the sidebar)."))
        else:
            st.markdown(tr("- {a} accuracy on {h:,} held-out digits").format(
                a=acc_text, h=info.metrics.get("heldout_images", 0)))
            st.page_link("screens/digit_cnn.py", label=tr("Its filters and their pruning: Digit CNN"), icon="🔢")

with st.expander(tr("Glossary")):
    for term, key in [(N_("σ of dy/dx"), "sigma"), (N_("posterior"), "posterior"), (N_("logit"), "logit"),
                      (N_("log posterior"), "log_posterior"), (N_("normalised z"), "z"), ("ε", "eps"), ("p_e", "p_e"),
                      (N_("score"), "score"), ("Imp(l, i)", "imp"), (N_("pruning orders"), "orders")]:
        name, text = tr(term), tr(S.HELP[key])
        # a definition that starts with its term ("Posterior: ...") names it once, in bold
        st.markdown(f"**{text[:len(name)]}**{text[len(name):]}" if text.lower().startswith(name.lower())
                    else f"**{name}**: {text}")
S.report_repairs()

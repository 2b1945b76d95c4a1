"""Home: what dnnlens shows, how to read a map, and the shipped models."""

from pathlib import Path

import streamlit as st

import app_state as S
from i18n import tr

S.sidebar()
st.title(tr("dnnlens: what a deep neural network looks at"))
st.markdown(tr(
    "A speech network decides, every 10 ms, which phoneme is being spoken. It sees 35 frames: "
    "170 ms before and after the frame, each 40 mel frequency bands (MFBANK; 1,400 numbers) or 13 "
    "cepstral coefficients (MFCC; 455 numbers). Which of these numbers does its answer depend on?"
))
st.markdown(tr(
    "dnnlens measures it with the **variation of the gradient**: how much the output for a phoneme "
    "changes when one input changes, and how much that sensitivity varies across thousands of real "
    "frames. An input the network ignores has a gradient that barely moves; an input near a decision "
    "boundary has one that swings. The map of this variation over time and frequency shows what the "
    "network looks at."
))

st.subheader(tr("How to read a map"))
st.markdown(tr(
    "Each square is one input: its column is the time offset from the frame being classified, its row "
    "the frequency band. **Area** = how much the phoneme's output depends on that input; **colour** = "
    "what that input usually looks like for the phoneme (red: above its average over all frames, "
    "blue: below). "
    "On the **Phoneme pair** page the colour shows instead how differently two phonemes distribute "
    "there, and a click on a square shows the two distributions."
))
st.image(str(Path(__file__).resolve().parents[1] / "assets" / "images" / "how_to_read.png"), width=620)

st.subheader(tr("The models"))
models = S.all_models()
for col, info in zip(st.columns(max(1, len(models))), models, strict=False):
    with col.container(border=True):
        st.markdown(f"**{info.name}**")
        st.markdown(info.description or "")
        data, acc = info.data or {}, info.metrics.get("heldout_accuracy")
        acc_text = f"{acc:.1%}" if acc is not None else "?"
        if info.kind == "speech":
            st.markdown(tr(
                "- trained on {u:,} synthesised utterances ({f:,} frames), voices {v}\n"
                "- {a} frame accuracy on {h:,} held-out frames (the pages use {n:,} of them)"
            ).format(u=data.get("train_utterances", 0), f=data.get("train_frames", 0),
                     v=", ".join(data.get("voices", [])), a=acc_text, h=info.metrics.get("heldout_frames", 0),
                     n=S.validation_size(info.name)))
        else:
            st.markdown(tr("- {a} accuracy on {h:,} held-out digits").format(
                a=acc_text, h=info.metrics.get("heldout_images", 0)))

st.subheader(tr("Coming next"))
st.markdown(tr(
    "- the same index for hidden units and for the filters of a handwritten-digit CNN, with live "
    "pruning curves;\n"
    "- your own recording, run through the same network."
))

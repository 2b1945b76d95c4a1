"""Home: what dnnlens shows, how to read it, and what is coming."""

import streamlit as st

import app_state as S
from i18n import tr

S.sidebar()

st.title(tr("dnnlens: what a deep neural network looks at"))
st.markdown(
    tr(
        "A speech network decides, every 10 ms, which phoneme is being spoken. It sees 35 frames "
        "of a spectrogram: 170 ms before and after the frame, 40 frequency bands each. Which of "
        "these 1,400 numbers does its answer depend on?"
    )
)
st.markdown(
    tr(
        "dnnlens measures it with the **variation of the gradient**: how much the output for a "
        "phoneme changes when one input changes, and how much that sensitivity varies across "
        "thousands of real frames. An input the network ignores has a gradient that barely moves; "
        "an input near a decision boundary has one that swings. The map of this variation over time "
        "and frequency shows what the network looks at."
    )
)
st.subheader(tr("Coming next"))
st.markdown(
    tr(
        "- an importance map over time × frequency for every phoneme;\n"
        "- two phonemes side by side (/s/ vs /sh/, /b/ vs /d/): where both outputs depend on the "
        "input, and how differently the two phonemes distribute there;\n"
        "- the same index for hidden units and for the filters of a handwritten-digit CNN, with "
        "live pruning curves;\n"
        "- your own recording, run through the same network."
    )
)

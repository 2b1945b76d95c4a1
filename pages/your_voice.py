"""Your voice: a recording -> what the network hears in it, its alignment, the gradient at one frame."""

import numpy as np
import streamlit as st

import app_state as S
from core import voice_charts as vc
from core.align import AlignError, agreement
from core.audio import SAMPLE_RATE, AudioError, wav_bytes
from i18n import tr

cfg, info = S.page_start("Your voice")
japanese = info.phone_set.name == "ja"  # pocketsphinx has no Japanese model: the network aligns alone
st.info(tr(
    "The network was trained on **synthetic speech** (Open JTalk), not on real speakers: on your voice its "
    "posteriors may be wrong. pocketsphinx has no Japanese model, so the alignment shown is the network's own "
    "(Viterbi on its posteriors, the transcript read by pyopenjtalk).") if japanese else tr(
    "The network was trained on **synthetic voices** (Festival), not on real speakers: on your voice its "
    "posteriors may be wrong. The figures below say how far to trust them — the share of frames where the "
    "network's best phoneme agrees with the alignment by pocketsphinx (trained on real speech), and the mean "
    "posterior the network gives the aligned phoneme."))

# --- input -------------------------------------------------------------------------------------
sources = {"sample": tr("a shipped sample"), "upload": tr("upload a file"), "record": tr("record")}
source = st.radio(tr("Recording"), list(sources), format_func=sources.get, horizontal=True, key="w_voice_source")
samples = S.voice_samples(info.phone_set.name)
default_text = ""
src = None
if source == "sample":
    name = st.selectbox(tr("Sample"), list(samples), key="w_voice_sample",
                        format_func=lambda f: f"{f} — “{samples[f]}”")
    with open(S.voice_sample_path(name), "rb") as fh:
        src = fh.read()
    default_text = samples[name]
elif source == "upload":
    src = st.file_uploader(tr("WAV, FLAC or OGG, at most 30 s"), type=["wav", "flac", "ogg"], key="w_voice_upload")
else:
    src = st.audio_input(tr("Record (16 kHz)"), sample_rate=SAMPLE_RATE, key="w_voice_record")
if src is None:
    st.caption(tr("Choose or record a recording to see what the network hears in it."))
    st.stop()
try:
    x, key = S.voice_audio(src)
except AudioError as exc:
    st.error(str(exc))
    st.stop()

a = S.voice_analysis(cfg.model, key, x)
st.audio(wav_bytes(x), format="audio/wav")
text = st.text_input(tr("Transcript (Japanese text; leave empty to see only what the network decodes)") if japanese
                     else tr("Transcript (English words; leave empty to see only what the network decodes)"),
                     value=default_text, key=f"w_voice_text_{source}_{key}")

# --- alignment ---------------------------------------------------------------------------------
alignments = {}
if text.strip() and japanese:
    try:
        alignments["network"] = S.voice_alignment(cfg.model, key, x, text, "network")
    except AlignError as exc:
        st.error(str(exc))
elif text.strip():
    try:
        alignments["pocketsphinx"] = S.voice_alignment(cfg.model, key, x, text, "pocketsphinx")
    except AlignError as exc:
        st.error(str(exc))
    if alignments:
        try:
            alignments["network"] = S.voice_alignment(cfg.model, key, x, text, "network")
        except AlignError as exc:
            st.warning(tr("The network's own alignment failed: {e}").format(e=exc))

m1, m2, m3 = st.columns(3)
m1.metric(tr("Duration"), f"{a.duration:.2f} s")
if "pocketsphinx" in alignments:
    share, mean_p = agreement(a.posteriors, alignments["pocketsphinx"].phones, a.phones)
    m2.metric(tr("Frames where the network agrees with pocketsphinx"), f"{share:.0%}",
              help=tr("Share of 10 ms frames whose most probable phoneme is the one pocketsphinx aligned there."))
    m3.metric(tr("Mean posterior of the aligned phoneme"), f"{mean_p:.2f}",
              help=tr("Average over all frames of the network's posterior for the phoneme pocketsphinx aligned."))
elif japanese:
    m2.caption(tr("No Japanese aligner independent of the network (pocketsphinx has no Japanese model)."))
else:
    m2.caption(tr("Type the transcript to measure how far the network can be trusted on this recording."))

# --- time cursor -------------------------------------------------------------------------------
speech = [d.segment for d in a.decoded if d.segment.phone != "sil"] or [a.decoded[0].segment]
longest = max(speech, key=lambda s: s.duration)
n_frames = len(a.posteriors)
t = st.slider(tr("Time cursor (s)"), 0.0, float(round(a.duration, 2)), float(round((longest.start + longest.end) / 2, 2)),
              step=0.01, key=f"w_voice_time_{key}")
frame = int(np.clip(round((t - 0.0125) / 0.01), 0, n_frames - 1))

# --- what the network hears --------------------------------------------------------------------
tracks = {tr("decoded"): [d.segment for d in a.decoded]}
for name, ali in alignments.items():
    tracks[name] = list(ali.phones)
bounds = [s.start for s in alignments["pocketsphinx"].phones[1:]] if "pocketsphinx" in alignments else []
post_table = vc.posterior_table(a.posteriors, a.phones, a.duration)
chart = vc.stacked(
    vc.spectrogram_chart(vc.spectrogram_table(a.logmel, a.duration), a.duration, cursor=t, boundaries=bounds),
    vc.posterior_chart(post_table, a.duration, cursor=t),
    vc.tracks_chart(vc.tracks_table(tracks), a.duration, cursor=t),
)
st.altair_chart(chart, width="content", key="voice_chart")
st.caption(tr("Decoded by the network (frame argmax, repeats merged, runs under 30 ms smoothed): {seq}").format(
    seq=" ".join(d.segment.phone for d in a.decoded if d.segment.phone != "sil")))

d1, d2, d3 = st.columns(3)
d1.download_button(tr("Posteriors (CSV)"), post_table.to_csv(index=False).encode(), file_name="posteriors.csv",
                   mime="text/csv")
if alignments:
    which = d2.radio(tr("Alignment to download"), list(alignments), horizontal=True, key="w_voice_which")
    segs = tuple(alignments[which].phones)
    d3.download_button(tr("Download .lab"), S.voice_labels(segs, "lab"), file_name=f"{which}.lab",
                       mime="text/plain", key="voice_lab")
    d3.download_button(tr("Download TextGrid"), S.voice_labels(segs, "textgrid"), file_name=f"{which}.TextGrid",
                       mime="text/plain", key="voice_textgrid")

# --- one frame ---------------------------------------------------------------------------------
st.subheader(tr("The frame at {t:.2f} s").format(t=t))
best = a.phones[int(np.argmax(a.posteriors[frame]))]
options = ["predicted"] + list(a.phones)
chosen = st.selectbox(tr("Gradient of the posterior of"), options, key="w_voice_phone",
                      format_func=lambda p: tr("the predicted phoneme (/{p}/)").format(p=best) if p == "predicted"
                      else f"/{p}/ ({a.posteriors[frame, a.phones.index(p)]:.2f})")
phone = best if chosen == "predicted" else chosen
window, grad = S.voice_window(cfg.model, key, x, frame, phone)
left, right = st.columns([3, 2])
left.altair_chart(vc.window_chart(vc.window_table(window, grad, info.features),
                                  f"d posterior(/{phone}/) / d input, frame {frame}"), key="voice_window")
top = np.argsort(a.posteriors[frame])[::-1][:5]
right.markdown(tr("**Posteriors at this frame**") + "\n\n" + "\n".join(
    f"- /{a.phones[k]}/: {a.posteriors[frame, k]:.2f}" for k in top))
centre = int(round((frame * 0.01 + 0.0125) * SAMPLE_RATE))
half = int(0.175 * SAMPLE_RATE)
right.caption(tr("The 350 ms the network sees for this frame (its 35-frame input window):"))
right.audio(wav_bytes(x[max(0, centre - half): centre + half]), format="audio/wav")
right.download_button(tr("Input window and gradient (CSV)"),
                      vc.window_table(window, grad, info.features).to_csv(index=False).encode(),
                      file_name=f"window_{frame}_{phone}.csv", mime="text/csv")
S.report_repairs()

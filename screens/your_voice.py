"""Your voice: a recording -> what the network hears in it, its alignment, the gradient at one frame."""

from functools import partial

import numpy as np
import streamlit as st

import app_state as S
from core.audio import MAX_SECONDS, SAMPLE_RATE, UPLOAD_TYPES, AudioError, wav_bytes
from core.data.real import held_out_by_recipe, trained_sources, vtln_by_default, vtln_evidence
from core.importance import pairs
from core.phone_errors import phone_errors, phone_sequence
from core.viz import maps
from core.viz import voice as vc
from core.viz.units import accuracy_text
from core.voice.adapt import FEW_RECORDINGS
from core.voice.align import MISMATCH_SHARE, AlignError, agreement, silent_speech_share
from core.voice.align.readings_ja import latin_words
from core.voice.compare import CompareError
from core.voice.vtln import CHOICE_STRIDE, CLEAR_GAIN, MIN_WEIGHT, WARPS, WEIGHT_SHARPNESS
from i18n import error_text, tr

cfg, info = S.page_start("Your voice")
japanese = info.phone_set.name == "ja"  # pocketsphinx has no Japanese model: the network aligns alone
st.info(S.voice_page_intro(info, japanese, trained_sources(info)))
st.caption(S.real_speech_text(info))

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
    src = st.file_uploader(tr("WAV, FLAC, OGG, MP3 or AIFF, at most {s:g} s").format(s=MAX_SECONDS),
                           type=UPLOAD_TYPES, key="w_voice_upload")
else:
    src = st.audio_input(tr("Record ({khz:g} kHz)").format(khz=SAMPLE_RATE / 1000), sample_rate=SAMPLE_RATE, key="w_voice_record")
if src is None:
    st.caption(tr("Choose or record a recording to see what the network hears in it."))
    st.stop()
try:
    x, key, cut = S.voice_audio(src)
except AudioError as exc:
    st.error(error_text(exc))
    st.stop()

st.audio(wav_bytes(x), format="audio/wav")
if cut > 0:
    st.caption(tr("{s:.2f} s of digital silence (samples exactly zero) at the ends were left out: they hold no "
                  "sound, but would move every figure below.").format(s=cut))
if (rate := S.voice_native_rate(src)) < SAMPLE_RATE:  # e.g. a telephone recording: the top channels are empty
    st.warning(tr("This recording was made at {rate:,} Hz, so it holds no sound above {top:g} kHz, where the network "
                  "(trained on {trained:g} kHz speech) hears much of /s/, /sh/ and /f/: expect more errors.").format(
        trained=info.features.samplerate / 1000, rate=rate, top=rate / 2000))
text = st.text_input(tr("Transcript (Japanese text; leave empty to see only what the network decodes)") if japanese
                     else tr("Transcript (English words; leave empty to see only what the network decodes)"),
                     value=default_text, key=f"w_voice_text_{source}_{key}")
evidence, vtln_default = vtln_evidence(info), vtln_by_default(info)
vtln = st.toggle(tr("Normalise the vocal tract length (VTLN)"), value=vtln_default, key="w_voice_vtln", help=tr(
    "Warps the frequency axis of your recording's features so that its formants fall where the training voices "
    "had theirs. The network hears your recording under warps from {lo:.2f} to {hi:.2f} and its posteriors are "
    "averaged, weighted towards the warps under which it is the most confident — no transcript needed. It helps "
    "most with voices unlike the training ones, such as women's and children's.").format(lo=min(WARPS), hi=max(WARPS)))
vtln_text = (tr("VTLN is {state} by default for this model: on each real-speech source held out in turn (the same "
                "recipe trained without it), agreement with pocketsphinx was {a} without VTLN and {b} with it.")
             if held_out_by_recipe(info) else
             tr("VTLN is {state} by default for this model: on the real-speech recordings it was not trained on, "
                "its agreement with pocketsphinx was {a} without VTLN and {b} with it."))
st.caption(vtln_text.format(state=tr("on") if vtln_default else tr("off"), a=accuracy_text(evidence[0]),
                            b=accuracy_text(evidence[1])) if evidence else tr(
    "VTLN is off by default for this model: no figure on real speech it was not trained on shows that it helps."))
adapted = S.voice_adapted(cfg.model)  # this session's adapted copy, if any (made in the expander below)
mine = adapted is not None and not adapted[2].unchanged and st.toggle(
    tr("Show my adapted copy of the network"), value=True, key="w_voice_mine",
    help=tr("Every figure below (posteriors, decoded phones, the network's alignment, the frame's gradient, the "
            "pair map on your frames) comes from your adapted copy when this is on, from the shared model when off."))
a = S.voice_analysis(cfg.model, key, x, vtln, adapted=mine)

# --- alignment ---------------------------------------------------------------------------------
alignments = {}
if text.strip() and japanese and latin_words(text):  # read letter by letter: almost never what was said
    st.warning(tr("The transcript has Latin letters ({words}): the Japanese model reads them letter by letter "
                  "(ABC as エービーシー), so the alignment expects those sounds. Write what was said in kana or "
                  "kanji.").format(words=", ".join(latin_words(text))))
if text.strip() and japanese:
    try:
        alignments["network"] = S.voice_alignment(cfg.model, key, x, text, "network", vtln, adapted=mine)
    except AlignError as exc:
        st.error(error_text(exc))
elif text.strip():
    try:
        alignments["pocketsphinx"] = S.voice_alignment(cfg.model, key, x, text, "pocketsphinx")
    except AlignError as exc:
        st.error(error_text(exc))
    if alignments and (silent := silent_speech_share(x, alignments["pocketsphinx"])) >= MISMATCH_SHARE:
        st.warning(tr("pocketsphinx's alignment puts {p:.0%} of the speech in silence: does the transcript say exactly "
                      "what was recorded? With the wrong words the alignment, and every figure compared with it, "
                      "means nothing.").format(p=silent))
    if alignments:
        try:
            alignments["network"] = S.voice_alignment(cfg.model, key, x, text, "network", vtln, adapted=mine)
        except AlignError as exc:
            st.warning(tr("The network's own alignment failed: {e}").format(e=error_text(exc)))

m1, m2, m3 = st.columns(3)
m1.metric(tr("Duration"), f"{a.duration:.2f} s")
if "pocketsphinx" in alignments:
    share, mean_p = agreement(a.posteriors, alignments["pocketsphinx"].phones, a.phones)
    with_vtln = a.warp_choice is not None  # averaged over warps, even when the most confident is x1.00
    share0, mean_p0 = (agreement(S.voice_analysis(cfg.model, key, x, adapted=mine).posteriors,
                                 alignments["pocketsphinx"].phones, a.phones) if with_vtln else (share, mean_p))
    m2.metric(tr("Agreement with pocketsphinx"), f"{share:.0%}",
              delta=S.points_delta(100 * (share - share0), with_vtln=True) if with_vtln else None,
              help=tr("Share of {step} frames whose most probable phoneme is the one pocketsphinx aligned there.").format(
                  step=S.frame_step_text(info.features)))
    m3.metric(tr("Aligned phoneme's posterior"), f"{mean_p:.2f}",
              delta=tr("{d} with VTLN").format(d=f"{mean_p - mean_p0:+.2f}") if with_vtln else None,
              help=tr("Average over all frames of the network's posterior for the phoneme pocketsphinx aligned."))
elif japanese:
    m2.caption(tr("No Japanese aligner independent of the network (pocketsphinx has no Japanese model)."))
else:
    m2.caption(tr("Type the transcript to measure how far the network can be trusted on this recording."))

if adapted is not None:  # both networks' figures side by side; the one on recordings not fitted on first
    report = adapted[2]
    st.markdown(tr("**Your adapted copy** ({n} recording(s)) beside the shared model — figures below: {which}.").format(
        n=report.fit_recordings, which=tr("your adapted copy") if mine else tr("the shared model")))
    f1, f2, f3 = st.columns(3)
    if report.folds:
        f1.metric(tr("Your held-back recordings"), f"{report.check_after:.0%}",
                  S.points_delta(100 * (report.check_after - report.check_before)),
                  help=tr("Each of your recordings held back once: the share of its speech frames the copy fitted on "
                          "the others labels as pocketsphinx does, against the shared model's {b:.0%}.").format(
                      b=report.check_before))
    else:
        f1.caption(tr("On recordings it was not fitted on: nothing to measure (see below)."))
    if "pocketsphinx" in alignments:
        other = S.voice_analysis(cfg.model, key, x, vtln, adapted=not mine).posteriors
        share_other = agreement(other, alignments["pocketsphinx"].phones, a.phones)[0]
        shared_share, mine_share = (share_other, share) if mine else (share, share_other)
        f2.metric(tr("This recording, shared model"), f"{shared_share:.0%}")
        f3.metric(tr("This recording, your copy"), f"{mine_share:.0%}", S.points_delta(100 * (mine_share - shared_share)),
                  help=tr("This recording was one of those adapted on: optimistic.")
                  if key in S.voice_adaptation_set() else tr("This recording was not adapted on: a fair test."))
    if report.verdict(tr) is not None:
        st.info(report.verdict(tr))

ch = a.warp_choice
if ch is None:  # the same elements either way, so that switching VTLN keeps the expanders below as they were
    st.caption(tr("VTLN off: the network reads your recording as it is."))
else:
    gain = ch.best_confidence - ch.confidence_at_one
    st.caption(tr("VTLN: warp ×{w:.2f} — each filterbank channel reads your recording at {w:.2f} times its "
                  "frequency, {what}. The network's confidence (mean top posterior) {c0:.2f} → {c:.2f}.").format(
        w=ch.warp, c=ch.best_confidence, c0=ch.confidence_at_one,
        what=(tr("as for formants about {p:.0%} higher than the training voices'").format(p=ch.warp - 1)
              if ch.warp > 1 else tr("as for formants about {p:.0%} lower than the training voices'").format(
                  p=1 - ch.warp) if ch.warp < 1 else tr("i.e. no warp: the training voices' frequencies")))
        + ("" if ch.warp == 1.0 else " " + tr(
            "One recording gives only a rough estimate of your vocal tract: on real speakers, one recording's "
            "warp seldom matched the warp chosen from the same speaker's other recordings."))
        + ("" if ch.warp == 1.0 or gain >= CLEAR_GAIN else " " + tr(
            "Here the gain is small (under {g:g}): the network is almost as confident without the warp, and on "
            "real voices such warps lowered the share of frames read right more often than they raised it.").format(
                g=CLEAR_GAIN)) + " " + tr(
            "The posteriors and figures on this page average the network's posteriors over all the warps, "
            "weighted towards the most confident, so they can change even when the chosen warp is ×1.00."))
with st.expander(tr("How the warp was chosen")):
    if ch is None:
        st.caption(tr("Switch VTLN on to see the network's confidence under each warp."))
    else:
        st.altair_chart(vc.warp_chart(ch, tr=tr), key="voice_warp_chart")
        st.caption(tr("For each warp, the features of the whole recording are computed again with the filterbank "
                      "warped, and the network classifies one frame in {k}. The posteriors below (and the "
                      "network's alignment) are the average of the network's posteriors under the warps, each "
                      "weighted by e^({b:g} × its mean top posterior); warps with under {w:g} % of the weight are "
                      "left out. The frame's input and gradient and the comparison with the corpus use the most "
                      "confident warp (red). The spectrogram shows your recording unwarped; the adaptation "
                      "below chooses its own starting warp with the transcript's labels.").format(
                          k=CHOICE_STRIDE, b=WEIGHT_SHARPNESS, w=round(100 * MIN_WEIGHT, 6)))

# --- adapting to this voice (session only) -----------------------------------------------------
with st.expander(tr("Adapt the network to your voice")):
    st.markdown(tr(
        "Fine-tunes **a copy** of the network, kept in your session only (the shared model and other users "
        "are not affected), on your aligned recordings: a {c} × {c} map of the input channels (starting "
        "from the best vocal-tract-length warp) and a scale for each hidden unit (`core/voice/adapt.py`). Add "
        "recordings with their transcripts, then adapt. With {m} or more, each is held back in turn and the copy "
        "is kept only if it labels the held-back ones better; with fewer, nothing can be checked and the "
        "copy stays the shared model. Once adapted, the switch at the top shows every figure from your "
        "copy.").format(c=info.features.n_channels, m=FEW_RECORDINGS + 1) + " " + tr(
        "Passing this check is no guarantee: on real voices, some copies that passed it after being fitted on ten "
        "recordings labelled the same speaker's other recordings worse than the shared model (`docs/MODELS.md`, "
        "`Does the check protect?`)."))
    chosen = S.voice_adaptation_set()
    # the labels: pocketsphinx's alignment; Japanese has none but the network's own forced alignment
    labels_by = "pocketsphinx" if "pocketsphinx" in alignments else ("network" if japanese and "network" in alignments
                                                                    else None)
    if labels_by == "network":
        st.caption(tr("Japanese: the labels are the network's own alignment of your transcript (pocketsphinx has "
                      "no Japanese model): the copy learns from labels its original made, so expect less."))
    b1, b2, b3 = st.columns(3)
    if labels_by is not None:
        b1.button(tr("Add this recording"), disabled=key in chosen, key="voice_adapt_add",
                  on_click=S.voice_add_for_adaptation,
                  args=(key, x, tuple(alignments[labels_by].phones), " ".join(text.split())[:40]))
    else:
        b1.caption(tr("Type the transcript first: adaptation needs the alignment."))
    b3.button(tr("Clear"), key="voice_adapt_clear", on_click=S.voice_clear_adaptation, disabled=not chosen)
    st.caption(tr("Recordings to adapt on: {n}").format(n=len(chosen)) + (
        " — " + "; ".join(f"“{v[2]}”" for v in chosen.values()) if chosen else ""))
    b2.button(tr("Adapt to my voice"), key="voice_adapt_run", disabled=not chosen, type="primary",
              on_click=S.voice_adapt, args=(cfg.model,))
    if S.voice_adapt_error() is not None:
        st.error(error_text(S.voice_adapt_error()))
    if adapted is not None:
        st.caption(adapted[2].line(tr))

# --- time cursor -------------------------------------------------------------------------------
speech = [d.segment for d in a.decoded if d.segment.phone != "sil"] or [a.decoded[0].segment]
longest = max(speech, key=lambda s: s.duration)
n_frames = len(a.posteriors)
t = st.slider(tr("Time cursor (s)"), 0.0, float(round(a.duration, 2)), float(round((longest.start + longest.end) / 2, 2)),
              step=0.01, key=f"w_voice_time_{key}")
frame = int(np.clip(info.features.frame_at(t), 0, n_frames - 1))

# --- what the network hears --------------------------------------------------------------------
tracks = {tr("decoded"): [d.segment for d in a.decoded]}
for name, ali in alignments.items():
    tracks[tr("network") if name == "network" else name] = list(ali.phones)
bounds = [s.start for s in alignments["pocketsphinx"].phones[1:]] if "pocketsphinx" in alignments else []
post_table = vc.posterior_table(a.posteriors, a.phones, a.duration, info.features)
# three panels on one time axis, each as wide as the column (the same 70 px y axis: they line up)
# each built once per server for what it is drawn from (app_state.figures: keyed by the data itself, so a
# student moving the cursor back, or another with the same recording, gets it at once)
S.draw(st, ("voice_spec", S.digest(a.logmel, a.duration, t, bounds)), lambda: vc.panel(vc.spectrogram_chart(
    vc.spectrogram_table(a.logmel, a.duration), a.duration, cursor=t, boundaries=bounds, tr=tr), "container"),
       width="stretch", key="voice_chart", selection_mode=vc.TIME_SELECTION,
       on_select=partial(S.voice_time_from_chart, "voice_chart", f"w_voice_time_{key}", a.duration))
S.draw(st, ("voice_post", S.digest(a.posteriors, a.phones, a.duration, t)), lambda: vc.panel(
    vc.posterior_chart(post_table, a.duration, cursor=t, tr=tr), "container"), width="stretch", key="voice_posteriors")
S.draw(st, ("voice_tracks", S.digest(tracks, a.duration, t)), lambda: vc.panel(
    vc.tracks_chart(vc.tracks_table(tracks), a.duration, cursor=t, tr=tr), "container"), width="stretch",
       key="voice_tracks")
st.caption(tr("Decoded by the network (frame argmax, repeats merged, runs under {ms:g} ms smoothed): {seq}").format(
    ms=S.shortest_run_ms(info.features),
    seq=" ".join(d.segment.phone for d in a.decoded if d.segment.phone != "sil")))
if "pocketsphinx" in alignments:  # the transcript's phones beside the decoded ones
    errors = phone_errors(phone_sequence(alignments["pocketsphinx"].phones, info.phone_set.silence),
                          phone_sequence((d.segment for d in a.decoded), info.phone_set.silence))
    st.caption(tr("The transcript's phones (as pocketsphinx aligned them) against the decoded ones: phone error rate "
                  "{per:.0%} ({s} substituted, {d} missing, {i} inserted, of {n}).").format(
        per=errors.per, s=errors.substitutions, d=errors.deletions, i=errors.insertions, n=errors.n_expected))
    st.html(S.phone_error_html(errors))

d1, d2, d3 = st.columns(3)
d1.download_button(tr("Posteriors (CSV)"), lambda: post_table.to_csv(index=False).encode(), file_name="posteriors.csv",
                   mime="text/csv")
if alignments:
    which = d2.radio(tr("Alignment to download"), list(alignments), horizontal=True, key="w_voice_which",
                     format_func=lambda n: tr("network") if n == "network" else n)
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
window, grad = S.voice_window(cfg.model, key, x, frame, phone, a.warp, adapted=mine)
left, right = st.columns([3, 2])
left.altair_chart(vc.window_chart(vc.window_table(window, grad, info.features),
                                  tr("d posterior(/{p}/) / d input, frame {f}").format(p=phone, f=frame), tr=tr),
                  key="voice_window")
top = np.argsort(a.posteriors[frame])[::-1][:5]
right.markdown(tr("**Posteriors at this frame**") + "\n\n" + "\n".join(
    f"- /{a.phones[k]}/: {a.posteriors[frame, k]:.2f}" for k in top))
centre = int(round(info.features.frame_time(frame) * SAMPLE_RATE))
half = int(round(info.features.window_seconds / 2 * SAMPLE_RATE))
right.caption(tr("The {ms:g} ms the network sees for this frame (its {n}-frame input window):").format(
    ms=round(info.features.window_seconds * 1000, 3), n=info.features.n_context_frames))
right.audio(wav_bytes(x[max(0, centre - half): centre + half]), format="audio/wav")
right.download_button(tr("Window and gradient (CSV)"),
                      lambda: vc.window_table(window, grad, info.features).to_csv(index=False).encode(),
                      file_name=f"window_{frame}_{phone}.csv", mime="text/csv")

# --- compare with the corpus -------------------------------------------------------------------
st.subheader(tr("Your phonemes and the corpus"))
# the frames of each phoneme: pocketsphinx's alignment, or the network's own for Japanese (no other aligner)
by = "pocketsphinx" if "pocketsphinx" in alignments else ("network" if japanese and "network" in alignments else None)
if by is None:
    st.caption(tr("Type the transcript above: the comparison takes your frames of each phoneme from the "
                  "network's own alignment (pocketsphinx has no Japanese model).") if japanese else
               tr("Type the transcript above: the comparison takes your frames of each phoneme from "
                  "pocketsphinx's alignment."))
    S.report_repairs()
    st.stop()
sf = S.voice_frames(cfg.model, key, x, alignments[by], a.warp)
counts = sf.counts()
st.caption((tr("Frames ({step}) of each phoneme in your recording, from the network's own alignment (pocketsphinx "
               "has no Japanese model; the network labels its own frames, so the comparison is optimistic): {c}")
            if by == "network" else
            tr("Frames ({step}) of each phoneme in your recording, from pocketsphinx's alignment: {c}")).format(
    step=S.frame_step_text(info.features),
    c=", ".join(f"/{p}/ {n}" for p, n in counts.items())))
present = [p for p in S.phones_of(cfg.model) if counts.get(p)]
da, db = S.voice_default_pair(counts)
c1, c2 = st.columns(2)
pa = c1.selectbox(tr("Phoneme A"), present, index=present.index(da) if da in present else 0, key=f"w_vcmp_a_{key}")
pb = c2.selectbox(tr("Phoneme B"), present, index=present.index(db) if db in present else min(1, len(present) - 1),
                  key=f"w_vcmp_b_{key}")
if pa == pb:
    st.info(tr("Choose two different phonemes."))
    S.report_repairs()
    st.stop()
fc = info.features
corpus_table, _ = S.pair_data(cfg, pa, pb, S.DEFAULT_BINS)
top = pairs.ranked(corpus_table, "score", 1).iloc[0]
c3, c4 = st.columns(2)
offset = c3.select_slider(tr("Time offset (frames of {step})").format(step=S.frame_step_text(fc)), list(range(-fc.context, fc.context + 1)),
                          value=int(top.offset_frames), key=f"w_vcmp_off_{key}_{pa}_{pb}")
channel = c4.select_slider(tr("Channel"), list(range(fc.n_channels)), value=int(top.channel),
                           format_func=lambda c: corpus_table.channel_name.iloc[c], key=f"w_vcmp_ch_{key}_{pa}_{pb}")
row = pairs.cell_row(corpus_table, (offset, channel))
st.caption(tr("The input starts at the corpus's top cell by score for /{a}/ vs /{b}/ ({ms:+.0f} ms, {name}); "
              "move the sliders to look at another.").format(a=pa, b=pb, ms=top.offset_ms, name=top.channel_name)
           + ("" if a.warp == 1.0 else " " + tr("With VTLN ×{w:.2f}, a channel named f Hz read your recording at about "
                                                "{w:.2f} × f.").format(w=a.warp)))
# one above the other, each as wide as the page: the pair map is readable (over 300 px) at 1024 px too
detail = S.voice_corpus_detail(cfg, pa, pb, int(row["input"]))
st.altair_chart(vc.student_densities(detail, sf.values(pa, row["input"]), sf.values(pb, row["input"]), pa, pb,
                                     tr("input (z) at {ms:+.0f} ms, {name}").format(
                                         ms=row.offset_ms, name=row.channel_name), tr=tr),
                width="stretch", key="voice_densities")
st.caption(tr("Your /{a}/: {na} frames, your /{b}/: {nb} frames.").format(
    a=pa, b=pb, na=counts.get(pa, 0), nb=counts.get(pb, 0)))
try:
    pair_mine = S.voice_pair(cfg, key, (" ".join(text.split()), by, a.warp), sf, pa, pb, adapted=mine)
except CompareError as exc:
    st.info(error_text(exc))
else:
    st.markdown(tr("**The pair map on your frames** ({n} frames of /{a}/ and /{b}/ as the sample set)").format(
        n=counts.get(pa, 0) + counts.get(pb, 0), a=pa, b=pb))
    st.altair_chart(maps.pair_map(pair_mine, fc, pa, pb, selected=(offset, channel), tr=tr), width="stretch",
                    key="voice_pair_map")
    st.caption(tr("Size = importance(/{a}/) × importance(/{b}/) over your frames, colour = p_e from your "
                  "frames' histograms; few frames make both noisy. Compare with the Phoneme pair page "
                  "(the corpus).").format(a=pa, b=pb))
    st.page_link("screens/phoneme_pair.py", label=tr("/{a}/ against /{b}/ on the corpus: Phoneme pair").format(a=pa, b=pb),
                 icon="⚖️", query_params={"pair_a": pa, "pair_b": pb})
S.report_repairs()

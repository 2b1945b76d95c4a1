"""Sentences of the pages that state a figure: every number in them comes from the models'
metadata or from core (issue 26: no page types a figure that a model or the code can change)."""

from __future__ import annotations

import functools
import re

from app_state.labels import LANGUAGE_NAMES
from core.features import FeatureConfig
from core.models import ModelInfo
from core.models.info import STATE_SUFFIXES
from i18n import N_, current_language, tr


def front_text(cfg: FeatureConfig) -> str:
    """One front end as the Home page names it: '40 mel frequency bands (MFBANK; 1,400 numbers)'."""
    if cfg.kind == "mfbank":
        return tr("{c} mel frequency bands (MFBANK; {d:,} numbers)").format(c=cfg.n_channels, d=cfg.input_dim)
    return tr("{c} cepstral coefficients (MFCC; {d:,} numbers)").format(c=cfg.n_channels, d=cfg.input_dim)


def network_input_text(main: FeatureConfig, others: list[FeatureConfig]) -> str:
    """Home's opening sentences: how often the network decides, how many frames it sees, how far
    back and ahead, and how many numbers a frame holds, for ``main`` (the default model's front
    end) and every other front end of the installed models with the same framing."""
    fronts = [main] + [o for o in others if (o.kind, o.n_channels) != (main.kind, main.n_channels)
                       and (o.context, o.winstep) == (main.context, main.winstep)]
    seen, parts = set(), []
    for f in fronts:
        if (f.kind, f.n_channels) not in seen:
            seen.add((f.kind, f.n_channels))
            parts.append(front_text(f))
    return tr(
        "A speech network decides, every {step:g} ms, which phoneme is being spoken. It sees {n} frames: "
        "{ctx:g} ms before and after the frame, each {fronts}. Which of these numbers does its answer depend on?"
    ).format(step=main.winstep * 1000, n=main.n_context_frames, ctx=round(main.context * main.winstep * 1000, 3),
             fronts=tr(" or ").join(parts))


def model_description(info: ModelInfo) -> str:
    """A model's one-line description built from its architecture, in the interface language (the
    ``description`` saved in model.json is English)."""
    a = info.arch
    if info.kind == "speech":
        template = (N_("{lang} state classifier ({s} states per phoneme) on {f} features: {l} hidden layers × {w} "
                       "units, {act}") if info.targets == "state" else
                    N_("{lang} phoneme classifier on {f} features: {l} hidden layers × {w} units, {act}"))
        return tr(template).format(
            lang=tr(LANGUAGE_NAMES.get(info.phone_set.language, info.phone_set.language)), s=len(STATE_SUFFIXES),
            f=info.features.kind.upper(), l=a.get("n_hidden", "?"), w=a.get("width", "?"),
            act=a.get("activation", "?"))
    return tr("Digit CNN: {k} convolutions with {c1} and {c2} filters, a fully connected layer of {h}").format(
        k=size_text(_digit_kernel()), c1=a.get("c1", "?"), c2=a.get("c2", "?"), h=a.get("hidden", "?"))


_VOICE_SETTING = re.compile(r"(.+)_a\d+_fm[+-]\d+")  # core.data.synth.openjtalk's voice names, e.g. mei_normal_a55_fm-2


def voices_text(voices: list[str]) -> str:
    """A model card's voices, short: each voice once, with how many settings (all-pass constant and
    pitch shift) it was used with, e.g. 'mei_normal (9 settings)'; English voices as they are."""
    counts: dict[str, int] = {}
    for v in voices:
        m = _VOICE_SETTING.fullmatch(v)
        base = m.group(1) if m else v
        counts[base] = counts.get(base, 0) + (1 if m else 0)
    return ", ".join(tr("{v} ({n} settings)").format(v=v, n=n) if n > 1 else v for v, n in counts.items())


def accuracy_caption(info: ModelInfo) -> str:
    """The sidebar's short line under the model: frame accuracy on held-out synthetic frames and
    agreement on real speech it was not trained on (``core.data.real.held_out_sources``: for a model
    trained on every real source, the same recipe with each held out; ``real_speech_text`` says
    more)."""
    from core.data.real import held_out_sources, pooled
    from core.viz.units import accuracy_text

    syn = info.metrics.get("heldout_accuracy")
    real = pooled(held_out_sources(info))
    if not real:  # e.g. a Japanese model: the real-speech set is English
        return tr("Frames right: {s} held-out synthetic; real speech not measured").format(
            s=accuracy_text(syn) if syn is not None else "?")
    return tr("Frames right: {s} held-out synthetic, {r} real speech (held out)").format(
        s=accuracy_text(syn) if syn is not None else "?", r=accuracy_text(real["agreement"]))


def real_speech_text(info: ModelInfo) -> str:
    """A speech model's figure on real speech, in one line for its cards (sidebar, Home, Your voice):
    agreement with pocketsphinx's alignment on the non-silence frames of the real-speech set
    (``core.data.real``; stored by ``python -m core evaluate NAME --real --write``), plain and with
    VTLN, the recordings and sources it is over, and how many of those sources the model was trained
    on (then not held out). A model without the figure, or of another language, says so."""
    from core.data.real import pooled
    from core.viz.units import accuracy_text

    real = info.metrics.get("real_speech") or {}
    if info.phone_set.language != "English":
        return tr("Real speech: the real-speech set is English; not measured for this model.")
    if not real.get("overall"):
        return tr("Real speech: not measured (`python -m core evaluate {m} --real --write`).").format(m=info.name)
    o, trained = real["overall"], [s for s in real.get("trained_on", []) if s in real.get("per_source", {})]
    text = tr("On real speech ({r} recordings of {k} sources from Debian's packages): {a} of the non-silence frames "
              "agree with pocketsphinx's alignment ({v} with VTLN).").format(
        r=o["recordings"], k=len(real.get("per_source", {})), a=accuracy_text(o["agreement"]),
        v=accuracy_text(o["agreement_vtln"]))
    if trained:
        text += " " + tr("{n} of those sources were in its training data (not held out).").format(n=len(trained))
    held = (info.metrics.get("real_speech_heldout") or {}).get("per_source") or {}
    if trained and (p := pooled(held)):
        text += " " + tr("Each source held out in turn (the same recipe trained without it): {a} ({v} with VTLN).").format(
            a=accuracy_text(p["agreement"]), v=accuracy_text(p["agreement_vtln"]))
    return text


MAP_EXAMPLES = ("iy", "aa", "m", "a", "i", "o", "N")
"""Phonemes Home suggests trying on the importance map (the first three the model has)."""


def map_examples(phones: list[str]) -> str:
    """'/iy/, /aa/ or /m/': the phonemes of ``MAP_EXAMPLES`` the model has, at most three."""
    have = [f"/{p}/" for p in MAP_EXAMPLES if p in phones][:3]
    if len(have) < 2:
        return "".join(have)
    return ", ".join(have[:-1]) + tr(" or ") + have[-1]


PROGRAM_NAMES = {"festival": "Festival", "flite": "flite", "espeak": "eSpeak NG"}


def _ja() -> bool:
    return current_language() == "ja"


def _names(voices) -> str:
    """'**kal**, **ked** and **slt**' (the last joined by the interface's "and")."""
    bold = [f"**{v}**" for v in voices]
    comma = "、" if _ja() else ", "
    return bold[0] if len(bold) == 1 else comma.join(bold[:-1]) + tr(" and ") + bold[-1]


def english_voices_text(info: ModelInfo, validation_voices: int) -> str:
    """Home's "The voices" for an English model, from its metadata (``data.voices``, ``data.real``,
    the features' normalisation) and ``core.data.synth``'s catalogue of voices; ``validation_voices``:
    the voices of the validation set the pages analyse. A model whose voices the catalogue does not
    know (an imported corpus) is described as recorded speech, never as synthetic."""
    from core.data.synth import VOICES, summarize_voices

    data = info.data or {}
    v = summarize_voices(data.get("voices", []))
    if not v.synthetic:
        return tr("{m} was trained on {u:,} utterances of {n} speakers (corpus {c}): recordings, not synthetic "
                  "speech.").format(m=info.name, u=data.get("train_utterances", 0), n=len(v.other) or "?",
                                    c=data.get("corpus", "?"))
    fest = v.by_program.get("festival", ())
    bullets = []
    if diphone := [x for x in fest if VOICES[x][2] == "diphone"]:
        bullets.append(tr("{names} (Festival): *diphone* voices (recorded snippets of speech joined together)").format(
            names=_names(diphone)))
    if hts := [x for x in fest if VOICES[x][2] == "hts"]:
        bullets.append(tr("{names} (Festival): an *HTS statistical* voice (speech generated from a model trained on "
                          "the recordings of one speaker)").format(names=_names(hts)))
    if flite := v.by_program.get("flite", ()):
        bullets.append(tr("{names} (flite): recorded speakers' voices through flite's own engine").format(
            names=_names(flite)))
    if v.formant_voices:
        bullets.append(tr("{n} **eSpeak NG** voices ({f} female, {m} male): a *formant* synthesiser, whose sound is "
                          "computed from resonances rather than recorded (its phoneme timings are its own, a little "
                          "less exact)").format(n=v.formant_voices, f=v.formant_female,
                                                m=v.formant_voices - v.formant_female))
    programs = [PROGRAM_NAMES[p] for p in v.by_program]
    n_voices = sum(len(x) for x in v.by_program.values())
    text = tr("The English speech models were trained on sentences synthesised by {programs}, so that every "
              "phoneme's start and end are known. {n} voices take turns, one sentence each:").format(
        programs=_names(programs).replace("**", ""), n=n_voices)
    end, sp = ("", "") if _ja() else (";", " ")  # Japanese: no list punctuation, no space between sentences
    text += "\n" + f"{end}\n".join(f"- {b}" for b in bullets) + ("" if _ja() else ".")
    text += "\n\n"
    if v.recorded_speakers:
        text += tr("Behind the Festival and flite voices are {s} recorded speakers, {f} of them female.").format(
            s=v.recorded_speakers, f=v.female_speakers) + sp
    lo, hi = v.warp
    text += tr("Each sentence gets its own speaking rate and pitch, and every recording is played slightly faster or "
               "slower (k = {lo:.2f}-{hi:.2f}), which moves pitch and formants together as for a smaller or larger "
               "speaker.").format(lo=lo, hi=hi)
    if info.features.utt_norm == "cmn":
        text += sp + tr("Every channel is taken relative to its mean over the recording (per-utterance mean "
                         "normalisation), so that a new voice or microphone matters less.")
    elif info.features.utt_norm == "cmvn":
        text += sp + tr("Every channel is taken relative to its mean and spread over the recording (per-utterance "
                         "mean and variance normalisation), so that a new voice or microphone matters less.")
    if real := data.get("real"):
        text += sp + tr("{n} short recordings of real speakers from Debian's packages were mixed in ({w:.0%} of each "
                         "epoch).").format(n=real.get("utterances", 0), w=float(real.get("weight", 0)))
    text += sp + tr("The held-out frames the pages analyse come from sentences the networks never saw, in {n} "
                     "voices.").format(n=validation_voices)
    return text


def japanese_voices_text(info: ModelInfo) -> str:
    """Home's sentence on the Japanese model's voices (Open JTalk voices and their settings)."""
    return tr("The Japanese model was trained on sentences spoken by Open JTalk, voices {v}: a setting is a value "
              "of its all-pass constant and its pitch shift.").format(v=voices_text((info.data or {}).get("voices", [])))


def training_voices_short(info: ModelInfo) -> str:
    """'Festival and flite: 5 recorded speakers, 1 of them female; eSpeak NG: 10 formant-synthesised
    voices' from the model's metadata (empty when its voices are not the catalogue's)."""
    from core.data.synth import summarize_voices

    v = summarize_voices((info.data or {}).get("voices", []))
    parts = []
    if v.recorded_speakers:
        programs = [PROGRAM_NAMES[p] for p in ("festival", "flite") if p in v.by_program]
        parts.append(tr("{programs}: {s} recorded speakers, {f} of them female").format(
            programs=tr(" and ").join(programs), s=v.recorded_speakers, f=v.female_speakers))
    if v.formant_voices:
        parts.append(tr("eSpeak NG: {e} formant-synthesised voices").format(e=v.formant_voices))
    return "; ".join(parts) if v.synthetic else ""


def voice_page_intro(info: ModelInfo, japanese: bool, real_sources) -> str:
    """Your voice's first box: what the network was trained on (from its metadata: synthetic voices,
    real recordings mixed in, or an imported corpus of recordings) and how far to trust it."""
    data = info.data or {}
    voices = data.get("voices", [])
    trust = tr("The figures below say how far to trust them — the share of frames where the network's best phoneme "
               "agrees with the alignment by pocketsphinx (trained on real speech), and the mean posterior the network "
               "gives the aligned phoneme.")
    if japanese:
        if voices and all(_VOICE_SETTING.fullmatch(v) for v in voices):
            return tr("The network was trained on **synthetic speech** (Open JTalk), not on real speakers: on your voice "
                      "its posteriors may be wrong. pocketsphinx has no Japanese model, so the alignment shown is the "
                      "network's own (Viterbi on its posteriors, the transcript read by pyopenjtalk).")
        return tr("The network was trained on recordings (corpus {c}); on a voice it never heard its posteriors may "
                  "still be wrong. pocketsphinx has no Japanese model, so the alignment shown is the network's own "
                  "(Viterbi on its posteriors, the transcript read by pyopenjtalk).").format(c=data.get("corpus", "?"))
    sp = "" if _ja() else " "  # Japanese sentences follow each other without a space
    who = training_voices_short(info)
    if not who:
        return tr("The network was trained on recordings (corpus {c}); on a voice it never heard its posteriors may "
                  "still be wrong.").format(c=data.get("corpus", "?")) + sp + trust
    if not real_sources:
        return tr("The network was trained on **synthetic voices** ({who}), not on real speakers: on your voice its "
                  "posteriors may be wrong.").format(who=who) + sp + trust
    return tr("The network was trained on **synthetic voices** ({who}) and on {n} short recordings of a few real "
              "speakers ({k} sources from Debian's packages): on a voice it never heard its posteriors may still be "
              "wrong.").format(who=who, n=(data.get("real") or {}).get("utterances", "?"), k=len(real_sources)) + sp + trust


_COUNT_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
                "twelve")


def count_word(n: int) -> str:
    """A small count inside an English sentence in words ('two', 'ten'), otherwise (a larger count,
    or another interface language, whose sentence writes digits) in digits."""
    n = int(n)
    return _COUNT_WORDS[n] if current_language() == "en" and 0 <= n < len(_COUNT_WORDS) else f"{n:,}"


def size_text(shape) -> str:
    """'28 × 28' of a (height, width)."""
    return " × ".join(str(int(s)) for s in shape)


def digit_shape(net, images) -> dict:
    """What the Digit CNN page states of a digit network, read from the loaded network itself and
    the digits it reads: ``image`` (height, width), ``kernel`` (the first convolution's), ``c1`` and
    ``c2`` (filters of the two convolutions), ``fc`` (fully connected layers), ``outputs``."""
    from torch import nn

    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    fcs = [m for m in net.modules() if isinstance(m, nn.Linear)]
    return {"image": tuple(int(s) for s in images.shape[-2:]), "kernel": tuple(int(k) for k in convs[0].kernel_size),
            "c1": convs[0].out_channels, "c2": convs[-1].out_channels, "fc": len(fcs),
            "outputs": fcs[-1].out_features}


def digit_intro_text(shape: dict, acc: str, n: int) -> str:
    """The Digit CNN page's opening paragraph (``shape``: ``digit_shape``)."""
    return tr(
        "A small convolutional network reads {image} handwritten digits: {c1} filters of {kernel} pixels, "
        "pooling, {c2} filters over those maps, pooling, then {fc} fully connected layers. It classifies "
        "{acc} of {n:,} held-out digits correctly. The importance of a filter is the same index as for "
        "speech: the variation (σ) over many digits of the gradient of each output with respect "
        "to the filter's feature map, summed over the {k} outputs and over the map's positions."
    ).format(image=size_text(shape["image"]), c1=shape["c1"], kernel=size_text(shape["kernel"]), c2=shape["c2"],
             fc=count_word(shape["fc"]), acc=acc, n=n, k=count_word(shape["outputs"]))


def digit_filters_caption(shape: dict) -> str:
    """The caption of the first-layer filters' grid."""
    return tr("First-layer filters ({kernel} weights; red positive, blue negative, each scaled to its own "
              "largest weight).").format(kernel=size_text(shape["kernel"]))


@functools.lru_cache(maxsize=1)
def _digit_kernel() -> tuple[int, int]:
    """The kernel of the digit CNN's convolutions as core builds them (its architecture in
    model.json has no kernel size)."""
    from core.models.networks import DigitCNN

    return tuple(int(k) for k in DigitCNN(1, 1, 1).conv1.kernel_size)


def frame_step_text(cfg: FeatureConfig) -> str:
    """'10 ms': the frame step of a model's features."""
    return f"{round(cfg.winstep * 1000, 3):g} ms"


def shortest_run_ms(cfg: FeatureConfig) -> float:
    """The shortest run of frames the decoding keeps (``core.voice.align.MIN_FRAMES`` frames of the
    model's step), in ms: shorter runs are given to a neighbour."""
    from core.voice.align import MIN_FRAMES

    return round(MIN_FRAMES * cfg.winstep * 1000, 3)


def card_features(model: str) -> FeatureConfig:
    """The features of a Findings card's model as installed (metadata only), or core's default
    features when it is not installed (the shipped file was computed on the shipped model, whose
    features are the default)."""
    from app_state.resources import speech_models

    info = speech_models().get(model)
    return info.features if info is not None else FeatureConfig()


def offsets_caption(cfg: FeatureConfig) -> str:
    """Fig 4's card caption: the shares are summed over the model's time offsets (2 x context + 1)."""
    return tr("Share of each output's importance per mel channel (summed over the {n} time offsets).").format(
        n=cfg.n_context_frames)


def hollow_help() -> str:
    """The help of the 'hollow cells' switch, with the comparison's resamples and interval level."""
    from app_state.methods import HOLLOW_HELP, TRUST_CFG
    from core.trust import LEVEL, Z95

    return tr(HOLLOW_HELP).format(n=f"{TRUST_CFG.n_boot:,}", z=f"{Z95:.2f}", level=level_text(LEVEL))


def level_text(level: float) -> str:
    """'95 %' of 0.95."""
    return f"{100 * level:g} %"

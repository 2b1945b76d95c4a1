"""Synthesis of the English corpus with Festival, flite and eSpeak NG (``python -m core synth``).

- Sentences: ``core.data.synth.sentences_en.make_sentences`` (frequent words, biased towards rare phonemes).
- Utterance ``n`` is spoken by ``voices[n % len(voices)]`` (default ``DEFAULT_VOICES``: the seven
  voices with a recorded speaker; the ten eSpeak NG voices ``ESPEAK_VOICES`` on request). Festival: kal, ked (male diphone voices, 16 kHz), slt (female HTS voice, 32 kHz).
  flite (Debian's ``flite`` program): flite_awb (Scottish English male), flite_rms (US male),
  flite_slt (US female, the same ARCTIC speaker as Festival's slt but flite's own clustergen
  engine), flite_kal16 (the kal diphones through flite's engine); ``SPEAKERS`` records which voices
  share a recorded speaker. Each utterance has its own speaking rate, pitch and "speaker size":
  diphone voices ``Duration_Stretch`` 0.9-1.35 and an f0 mean of 85-135 Hz (std 10-24 Hz); slt
  ``-r`` (speed) 1/1.2-1/0.85 (Festival's HTS module ignores the other hts_engine options such
  as ``-fm`` and ``-a``: their output is byte-identical); flite ``--setf duration_stretch=``
  0.85-1.25 and ``--setf int_f0_target_mean=`` 85-135 Hz (150-210 Hz for flite_slt). Then every
  voice is warped: the waveform is resampled to 16 kHz (``scipy.signal.resample_poly``) as if it
  had been recorded at ``k`` times its rate, k = 1 + pct / 100 for a whole pct drawn from
  ``WARP_PCT`` of its kind (diphone 0.95-1.05, flite 0.94-1.05, slt 0.92-1.04), which multiplies pitch and formants by k and divides durations, and the label
  times, by k.
- eSpeak NG (``core.data.synth.espeak``, Debian's ``espeak-ng``): a formant synthesiser without a recorded
  speaker, ten voices ``espeak_*`` (US, Scottish and southern British accents; five male (one
  through the Klatt engine), five female); rate 175/stretch words per minute (stretch 0.85-1.25),
  eSpeak's pitch 30-70 and pitch range 30-80 (its 0-100 scales), warp k = 0.94-1.05 as above.
  Labels come from its phoneme events (``core.data.synth.espeak`` gives the rules); ``SPEAKERS`` names them
  all ``espeak``.
- Labels are the synthesiser's own segment end times (Festival's ``utt.save.segs``, flite's
  ``-psdur`` output), so the timing is exact; phones are mapped through ``core.phones.to_phone``
  (Festival's radio phone set, which flite shares). flite's last end time can pass the audio's end
  by up to ~0.1 s: ends are clipped to the audio (``flite._flite_segments``).
- Festival utterances are synthesised in batches of one voice, one Festival process per batch
  (``festival -b`` on one Scheme file); flite runs one process per utterance (about 50 ms each);
  ``workers`` batches at a time. The batches depend only on the utterance numbers, so the same seed
  gives byte-identical files with any number of workers.
- A voice whose program or voice is not installed is refused before anything is written, with one
  sentence naming the Debian package (``flite -lv`` lists flite's voices).

Output in ``out_dir``: ``<id>.wav`` (16 kHz mono 16-bit PCM), ``<id>.lab`` (``core.phones``

Japanese corpora are made by ``openjtalk`` (Open JTalk, ``synth --lang ja``).

Where each piece lives: ``plan.py`` (the voices, each utterance's text, rate, pitch and speaker
warp), ``festival.py``, ``flite.py``, ``espeak.py`` (one engine each: its batch runner and, for
eSpeak NG, the library binding), ``run.py`` (``synthesize``, ``synthesize_texts``: checking the
programs, batching, the manifest), ``openjtalk.py`` (Japanese), ``sentences_en.py`` and
``sentences_ja.py`` (the texts).
"""

from core.data.synth.flite import flite_voices
from core.data.synth.plan import (
    APT_PACKAGES,
    BATCH_SIZE,
    DEFAULT_VOICES,
    ENGINES,
    ESPEAK_PITCH,
    ESPEAK_RANGE,
    ESPEAK_VOICES,
    ESPEAK_WPM,
    FLITE_F0,
    FLITE_F0_MALE,
    FEMALE_VOICES,
    SPEAKERS,
    VOICES,
    WARP_PCT,
    VoiceSummary,
    summarize_voices,
)
from core.data.synth.run import synthesize, synthesize_texts

__all__ = [
    "APT_PACKAGES",
    "BATCH_SIZE",
    "DEFAULT_VOICES",
    "ENGINES",
    "ESPEAK_PITCH",
    "ESPEAK_RANGE",
    "ESPEAK_VOICES",
    "ESPEAK_WPM",
    "FLITE_F0",
    "FLITE_F0_MALE",
    "FEMALE_VOICES",
    "SPEAKERS",
    "VOICES",
    "WARP_PCT",
    "VoiceSummary",
    "summarize_voices",
    "flite_voices",
    "synthesize",
    "synthesize_texts",
]

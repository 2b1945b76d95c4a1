#!/usr/bin/env bash
# Regenerate everything under assets/ that the dashboard ships (`make assets`):
# the corpora (data/, not committed), the validation sets, the three models, the samples and
# the home page picture. Deterministic for the seeds below; about 20-30 minutes on 2 cores.
# The commands and the figures they gave are in docs/MODELS.md.
# The seven-voice recipe (flite voices, --utt-norm, --augment) is measured by bench/voices.py but
# not shipped yet: its commands are in docs/MODELS.md, "Retraining on all seven voices".
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

[ -f data/corpus_en_train/manifest.csv ] || $PY -m core synth --lang en --voices kal,ked,slt --utts 1800 --out data/corpus_en_train --seed 1
[ -f data/corpus_en_valid/manifest.csv ] || $PY -m core synth --lang en --voices kal,ked,slt --utts 400 --out data/corpus_en_valid --seed 2

for kind in mfbank mfcc; do
  $PY -m core export-validation --corpus data/corpus_en_valid --features $kind \
      --out assets/validation/en_$kind.npz --min-frames 40000
  $PY -m core train speech --corpus data/corpus_en_train --valid-corpus data/corpus_en_valid \
      --features $kind --epochs 4 --batch-size 512 --lr 1e-3 --seed 0 --max-minutes 19 \
      --validation validation/en_$kind.npz --out assets/models/speech_en_$kind
done
$PY -m core train digits --out assets/models/digits_cnn
$PY scripts/make_samples.py
$PY scripts/make_home_image.py
for m in speech_en_mfbank speech_en_mfcc digits_cnn; do
  printf '%s: ' "$m"
  $PY -m core evaluate "$m" --validation --json | $PY -c "import json, sys; print(json.load(sys.stdin)['accuracy'])"
done
du -sh assets

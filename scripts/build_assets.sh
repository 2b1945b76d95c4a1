#!/usr/bin/env bash
# Regenerate everything under assets/ that the dashboard ships (`make assets`):
# the corpora (data/, not committed), the validation sets, the four models, the samples and
# the home page picture. Deterministic for the seeds below; about four hours on 2 cores.
# The commands and the figures they gave are in docs/MODELS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python

# English: seven voices with a recorded speaker (three Festival, four flite) and ten eSpeak NG
# voices (packages-dev.txt), per-utterance mean normalisation (CMN), 8 epochs, no training-time
# augmentation (docs/MODELS.md says why). The two synthesised corpora are joined by links.
[ -f data/corpus_en7_train/manifest.csv ] || $PY -m core synth --lang en --utts 2100 --out data/corpus_en7_train --seed 11
[ -f data/corpus_en7_valid/manifest.csv ] || $PY -m core synth --lang en --utts 700 --out data/corpus_en7_valid --seed 12
ESPEAK=espeak_m1,espeak_m3,espeak_m7,espeak_klatt,espeak_f1,espeak_f2,espeak_annie,espeak_nyc_f3,espeak_sc_m2,espeak_gb_f4
[ -f data/corpus_espeak_train/manifest.csv ] || $PY -m core synth --lang en --voices $ESPEAK --utts 1000 --out data/corpus_espeak_train --seed 13
[ -f data/corpus_espeak_valid/manifest.csv ] || $PY -m core synth --lang en --voices $ESPEAK --utts 200 --out data/corpus_espeak_valid --seed 14
for part in train valid; do
  [ -f data/corpus_en7e_$part/manifest.csv ] || $PY -m core join-corpus data/corpus_en7_$part data/corpus_espeak_$part --out data/corpus_en7e_$part
done

for kind in mfbank mfcc; do
  $PY -m core export-validation --corpus data/corpus_en7e_valid --features $kind --utt-norm cmn \
      --out assets/validation/en_$kind.npz --min-frames 50000
done
# real speech (Debian's ktuberling-data, klettres-data, alsa-utils; labelled by pocketsphinx): mixed into
# the English models' training (--real, 10 % of each epoch's samples), and their figures on it go into
# their model.json (the cards show them beside the synthetic one)
for pkg in ktuberling-data klettres-data alsa-utils; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || {
    if [ "$(id -u)" = 0 ]; then apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
    else echo "build_assets: install $pkg (sudo apt-get install $pkg) for the real-speech figures"; exit 1; fi; }
done
[ -f data/real_en/manifest.csv ] || $PY -m core real-voices build --out data/real_en
for kind in mfbank mfcc; do
  $PY -m core train speech --corpus data/corpus_en7e_train --valid-corpus data/corpus_en7e_valid \
      --features $kind --utt-norm cmn --epochs 8 --batch-size 512 --lr 1e-3 --seed 0 \
      --real data/real_en --real-weight 0.1 \
      --max-minutes 60 --threads 1 --validation validation/en_$kind.npz --out assets/models/speech_en_$kind
done
# the same recipe with 3 states per phoneme (123 outputs): the Findings page's Fig 4 (/s/ in its state S2)
$PY -m core train speech --corpus data/corpus_en7e_train --valid-corpus data/corpus_en7e_valid \
    --features mfbank --utt-norm cmn --targets state --epochs 8 --batch-size 512 --lr 1e-3 \
    --real data/real_en --real-weight 0.1 \
    --seed 0 --max-minutes 60 --threads 1 --validation validation/en_mfbank.npz --out assets/models/speech_en_mfbank_states
# Japanese (Open JTalk, packages-dev.txt): corpora, validation set, model. The corpora are small because
# synthesis on the shared machine ran at 8-50 utterances a minute (docs/MODELS.md, "Japanese").
[ -f data/corpus_ja_train/manifest.csv ] || $PY -m core synth --lang ja --utts 400 --out data/corpus_ja_train --seed 1
[ -f data/corpus_ja_valid/manifest.csv ] || $PY -m core synth --lang ja --utts 140 --out data/corpus_ja_valid --seed 2
$PY -m core export-validation --corpus data/corpus_ja_valid --features mfbank \
    --out assets/validation/ja_mfbank.npz --min-frames 30000
OMP_NUM_THREADS=1 $PY -m core train speech --corpus data/corpus_ja_train --valid-corpus data/corpus_ja_valid \
    --features mfbank --width 256 --layers 4 --activation relu --epochs 4 --batch-size 512 --lr 1e-3 \
    --seed 0 --threads 1 --validation validation/ja_mfbank.npz --out assets/models/speech_ja_mfbank
$PY -m core train digits --out assets/models/digits_cnn
$PY scripts/make_samples.py
$PY scripts/make_home_image.py
for m in speech_en_mfbank speech_en_mfcc speech_en_mfbank_states speech_ja_mfbank digits_cnn; do
  printf '%s: ' "$m"
  $PY -m core evaluate "$m" --validation --json | $PY -c "import json, sys; print(json.load(sys.stdin)['accuracy'])"
done
for m in speech_en_mfbank speech_en_mfcc speech_en_mfbank_states; do
  $PY -m core evaluate "$m" --real data/real_en --write
done
# what the same recipe gives on a real source it never heard: each source held out in turn (about two
# hours on one core); the figures go into speech_en_mfbank's model.json (its cards quote them)
$PY bench/real.py --utt-norm cmn --weight 0.1 --max-frames 0 --epochs 8 --threads 1 \
    --save data/bench_real_full --write-heldout speech_en_mfbank > data/bench_real_full.json
# the Findings page's cards, with the models' checksums (re-run after retraining any model)
$PY -m core findings --write
du -sh assets

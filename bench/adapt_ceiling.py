"""How much adapting to a real voice *could* gain: the best epoch count chosen on the test recordings
themselves (an oracle, so an upper bound of any stopping rule), per number of fitted recordings;
one JSON object.

    nice .venv/bin/python bench/adapt_ceiling.py --real ktuberling_en \
        --base data/bench_real_full/without_ktuberling_en --n-list 10,20,30,52 --seeds 0,1,2

For each n and seed: n recordings of SOURCE in the real-speech set (``--real-dir``, default
data/real_en; a seeded choice, as ``bench/adapt.py --real``) are fitted with the product's
``core.voice.adapt.adapt`` for a fixed number of epochs e = 1 .. ``--max-epochs`` (``folds=0``: no
check, so every e is run as asked), for each variant of ``--variants``: parts joined by '+', then
'@name=value' for any AdaptConfig number, e.g. ``input+lhuc`` (the product's parts and settings),
``all@lr=3e-4`` (every weight). After each, plain agreement (argmax = the pocketsphinx label, on
non-silence frames, as ``core.data.real.score_recording``) on every *other* recording of the
source. Per variant: ``gains`` (after - before, per e), ``best`` (the largest, the oracle's) and
``best_epoch``. The product's own run (cross-validated epochs and check, ``AdaptConfig()``; with
``--product-warps`` other starting warps, recorded as ``product_warps``) is ``product``, with its
check's own figure ``check_gain`` (held-back speech frames right after minus before, over the
folds) and per recording ``held_back`` ((frames, right before, right after at the check's best
epoch)); ``--variants ""`` runs the product alone. ``load_avg_1min``: how busy the 2-core machine
was.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.audio import load_audio  # noqa: E402
from core.data import read_manifest  # noqa: E402
from core.models import load_model  # noqa: E402
from core.models.inference import network_inputs  # noqa: E402
from core.phones import frame_labels, read_lab  # noqa: E402
from core.voice.adapt import AdaptConfig, adapt  # noqa: E402


def _variant(text: str) -> AdaptConfig:
    parts, *opts = text.split("@")
    kw = {k: float(v) if "." in v or "e" in v else int(v) for k, v in (o.split("=") for o in opts)}
    return dataclasses.replace(AdaptConfig(parts=tuple(parts.split("+"))), **kw)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--real", default="ktuberling_en")
    ap.add_argument("--real-dir", default=str(ROOT / "data" / "real_en"))
    ap.add_argument("--base", required=True, help="a model not trained on SOURCE (its leave-one-out model)")
    ap.add_argument("--n-list", default="10,20,30")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--max-epochs", type=int, default=12)
    ap.add_argument("--variants", default="input+lhuc,all@lr=3e-4,all@lr=3e-4@kl=0")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--product-warps", help="the product's starting warps instead of AdaptConfig's (e.g. 1.0: "
                                            "the input map starts at the identity)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    folder = Path(args.real_dir)
    rows = [r for r in read_manifest(folder) if r["voice"] == args.real]
    recs = [(load_audio(folder / f"{r['id']}.wav", max_seconds=1e9), read_lab(folder / f"{r['id']}.lab")) for r in rows]
    net, info = load_model(args.base)
    phones = list(info.phones)
    index = np.array([phones.index(p) if p in phones else -1 for p in info.phone_set.phones])
    inputs, labels = [], []
    for audio, segs in recs:  # an adapted copy keeps the features and normaliser: inputs computed once
        x = network_inputs(info, audio)
        inputs.append(torch.from_numpy(x))
        labels.append(index[frame_labels(segs, len(x), phone_set=info.phone_set).astype(np.int64)])
    sil = phones.index(info.phone_set.silence)

    def agreement(model, test) -> float:
        right = total = 0
        with torch.no_grad():
            for i in test:
                pred = info.phone_probs(torch.softmax(model(inputs[i]), 1).numpy()).argmax(1)
                speech = labels[i] != sil
                right += int((pred == labels[i])[speech].sum())
                total += int(speech.sum())
        return right / max(total, 1)

    out = {"source": args.real, "recordings": len(recs), "base": str(args.base), "product_warps": args.product_warps,
           "runs": []}
    t0 = time.monotonic()
    for seed in [int(s) for s in args.seeds.split(",")]:
        order = np.random.default_rng(seed).permutation(len(recs))
        for n in [int(k) for k in args.n_list.split(",")]:
            fit, test = order[:n], order[n:]
            before = agreement(net, test)
            run = {"n": n, "seed": seed, "measured_on": len(test), "before": round(before, 4), "variants": {}}
            product = AdaptConfig() if args.product_warps is None else AdaptConfig(
                warps=tuple(float(w) for w in args.product_warps.split(",")))
            new, _, rep = adapt(net, info, [recs[i] for i in fit], product)
            run["product"] = {"gain": round(agreement(new, test) - before, 4), "kept_epoch": rep.best_epoch,
                              "reverted": rep.reverted, "warp": rep.warp,
                              "check_gain": round(rep.check_after - rep.check_before, 4),
                              "held_back": rep.held_back}
            for text in filter(None, args.variants.split(",")):
                cfg = _variant(text)
                gains = []
                for e in range(1, args.max_epochs + 1):
                    new, _, _ = adapt(net, info, [recs[i] for i in fit],
                                      dataclasses.replace(cfg, folds=0, epochs_unchecked=e))
                    gains.append(round(agreement(new, test) - before, 4))
                run["variants"][text] = {"gains": gains, "best": max(gains), "best_epoch": int(np.argmax(gains)) + 1}
            print(json.dumps(run), file=sys.stderr, flush=True)
            out["runs"].append(run)
    out["seconds"] = round(time.monotonic() - t0, 1)
    out["load_avg_1min"] = round(os.getloadavg()[0], 2)
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The Findings: verdict rules on constructed inputs, the builders on constructed tables and curves,
the shipped file and its checksums, the cheap cards recomputed on the shipped models, the command
line and the page (AppTest on tiny models)."""

from __future__ import annotations

import functools
import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import findings as F
from core.features import FeatureConfig, input_meaning, mel_centres_hz
from core.viz import maps as charts
from tests.tolerance import close, gradient_rtol

ROOT = Path(__file__).resolve().parents[1]
FC = FeatureConfig()


# --- the rules ------------------------------------------------------------------------------------


def test_in_bands_widens_each_interval_by_the_tolerance():
    hz = np.array([2699.0, 2701.0, 4399.0, 4401.0, 899.0, 1000.0, 1101.0, 1349.0, 1351.0])
    got = F.in_bands(hz, [(3000.0, 4000.0)])
    assert got.tolist() == [False, True, True, False, False, False, False, False, False]
    got = F.in_bands(hz, [(1000.0, 1000.0), (1500.0, 1600.0)])
    assert got.tolist() == [False, False, False, False, False, True, False, False, True]


@pytest.mark.parametrize(
    "offsets,hz,central,verdict",
    [
        ([0] * 10, [3000.0] * 10, True, "reproduced"),
        ([0] * 5 + [9] * 5, [3000.0] * 5 + [500.0] * 5, True, "reproduced"),  # exactly half each
        ([9] * 10, [3000.0] * 10, True, "partly"),  # band right, time wrong
        ([0] * 10, [500.0] * 10, True, "partly"),  # time right, band wrong
        ([9] * 10, [3000.0] * 2 + [500.0] * 8, True, "partly"),  # a fifth in the band
        ([9] * 10, [3000.0] * 1 + [500.0] * 9, True, "not reproduced"),
        ([9] * 10, [3000.0] * 10, False, "reproduced"),  # time not named: not judged
        ([0] * 10, [3000.0] * 4 + [500.0] * 6, False, "partly"),
        ([0] * 10, [500.0] * 10, False, "not reproduced"),
    ],
)
def test_band_verdict(offsets, hz, central, verdict):
    got, values = F.band_verdict(offsets, hz, [(3000.0, 4000.0)], central)
    assert got == verdict
    assert values["in_band"] == pytest.approx(np.mean(F.in_bands(np.array(hz), [(3000.0, 4000.0)])))


def test_band_verdict_refuses_mismatched_inputs():
    with pytest.raises(F.FindingsError, match="same, non-zero"):
        F.band_verdict([0, 1], [3000.0], [(3000.0, 4000.0)], True)


@pytest.mark.parametrize(
    "asc,rnd,desc,verdict",
    [
        (0.8, 0.5, 0.2, "reproduced"),
        (0.8, 0.8 - F.MARGIN, 0.8 - 2 * F.MARGIN, "reproduced"),  # exactly the margin
        (0.8, 0.79, 0.2, "partly"),  # random not below by the margin
        (0.5, 0.8, 0.2, "partly"),  # random best: least-first still beats most-first
        (0.2, 0.5, 0.8, "not reproduced"),
        (0.5, 0.5, 0.5, "not reproduced"),
    ],
)
def test_order_verdict(asc, rnd, desc, verdict):
    curves = {
        "imp_asc": [0.9, asc, 2 * asc - 0.9],
        "random": [0.9, rnd, 2 * rnd - 0.9],
        "imp_desc": [0.9, desc, 2 * desc - 0.9],
    }
    got, values = F.order_verdict(curves)
    assert got == verdict
    assert values["mean_imp_asc"] == pytest.approx(np.mean(curves["imp_asc"]))


def test_order_verdict_needs_the_three_orders():
    with pytest.raises(F.FindingsError, match="missing random"):
        F.order_verdict({"imp_asc": [1.0], "imp_desc": [0.5]})


def _map(offset_of_mass: int, channel: int) -> np.ndarray:
    """An importance vector with its mass on the 3 x 7 cells around (offset, channel) and a flat
    floor elsewhere."""
    m = input_meaning(FC)
    imp = np.full(FC.input_dim, 1e-3)
    imp[(np.abs(m["offset_frames"] - offset_of_mass) <= 1) & (np.abs(m["channel"] - channel) <= 3)] = 1.0
    return imp


@pytest.mark.parametrize(
    "s_at,sh_at,verdict",
    [
        ((0, 35), (0, 27), "reproduced"),  # central, /s/ higher
        ((12, 35), (0, 27), "partly"),  # higher but not central
        ((0, 20), (0, 27), "partly"),  # central but lower
        ((12, 20), (0, 27), "not reproduced"),
    ],
)
def test_map_verdict(s_at, sh_at, verdict):
    m = input_meaning(FC)
    got, values = F.map_verdict(m["offset_frames"], m["hz"], _map(*s_at), _map(*sh_at))
    assert got == verdict
    near = np.abs(m["offset_frames"]) <= F.MAP_CENTRAL_FRAMES
    assert values["flat_share"] == pytest.approx(near.mean())


# --- the builders ---------------------------------------------------------------------------------


def _pair_table(channel: int, offset: int):
    """A pair table whose largest scores sit at offset +- 1, channel +- 2 (15 cells), p_e 0.9 there and
    0.1 elsewhere."""
    m = input_meaning(FC)
    imp = np.full(FC.input_dim, 0.01)
    where = (np.abs(m["offset_frames"] - offset) <= 1) & (np.abs(m["channel"] - channel) <= 2)
    imp[where] = 1.0
    p_e = np.where(where, 0.9, 0.1)
    return charts.pair_table(FC, imp, imp, p_e, 1 - p_e)


def test_pair_finding_reads_the_top_cells_by_score():
    c = F.CLAIMS["s_sh"]
    f = F.pair_finding(c, _pair_table(channel=28, offset=0))  # 3,461 Hz, the central frames
    assert f.verdict == "reproduced"
    centres = mel_centres_hz(FC)
    assert set(f.values["top_hz"]) <= set(np.round(centres[26:31]))
    assert set(f.values["top_offsets"]) <= {-1, 0, 1}
    assert len(f.chart) == F.TOP_CELLS
    lo, hi = min(f.values["top_hz"]), max(f.values["top_hz"])
    assert lo >= round(centres[26]) and hi <= round(centres[30]) and f"{lo:,.0f} to {hi:,.0f} Hz" in f.figure
    assert F.pair_finding(c, _pair_table(channel=8, offset=10)).verdict == "not reproduced"


def test_curve_finding_from_a_curve_dict():
    d = {
        "k": [0, 5, 10],
        "fraction": [0, 0.5, 1.0],
        "units": 10,
        "frames": 100,
        "full_accuracy": 0.9,
        "unit_kind": "input",
        "random_band": [[0.9, 0.4, 0.1], [0.9, 0.6, 0.1]],
        "curves": {"imp_asc": [0.9, 0.8, 0.1], "imp_desc": [0.9, 0.2, 0.1], "random": [0.9, 0.5, 0.1]},
    }
    f = F.curve_finding(F.CLAIMS["fig8"], d)
    assert f.verdict == "reproduced"
    assert f.values["at_half"] == {"imp_asc": 0.8, "imp_desc": 0.2, "random": 0.5}
    assert "with 5 of 10 input units deleted: 0.800 / 0.500 / 0.200" in f.figure
    flipped = {
        **d,
        "curves": {"imp_asc": [0.9, 0.2, 0.1], "imp_desc": [0.9, 0.8, 0.1], "random": [0.9, 0.5, 0.1]},
    }
    f9 = F.curve_finding(F.CLAIMS["fig9"], flipped, per_layer={1: d, 2: flipped})
    assert f9.verdict == "not reproduced"  # the verdict is the all-layer curve's
    assert f9.values["per_layer"]["1"]["verdict"] == "reproduced"
    assert "reproduced in 1 of 2 layers, partly in 0, not in 1." in f9.figure
    rnd = [r for r in f.chart if r["order"] == "random"]
    assert [(r["lo"], r["hi"]) for r in rnd] == [(0.9, 0.9), (0.4, 0.6), (0.1, 0.1)]


# --- the shipped file -----------------------------------------------------------------------------


def _copy_model(src: Path, dst: Path, sha: str | None = None) -> None:
    dst.mkdir(parents=True)
    meta = json.loads((src / "model.json").read_text())
    if sha is not None:
        meta["weights_sha256"] = sha
    (dst / "model.json").write_text(json.dumps(meta))


def test_shipped_file_round_trip_and_stale_models(tmp_path):
    models = tmp_path / "models"
    _copy_model(ROOT / "assets/models/digits_cnn", models / F.DIGITS_MODEL)
    d = {
        "k": [0, 1],
        "fraction": [0, 1.0],
        "units": 1,
        "frames": 10,
        "full_accuracy": 0.9,
        "unit_kind": "filters",
        "random_band": None,
        "curves": {"imp_asc": [0.9, 0.1], "imp_desc": [0.9, 0.1], "random": [0.9, 0.1]},
    }
    found = {"fig13": F.curve_finding(F.CLAIMS["fig13"], d)}
    path = F.write_shipped(found, models, tmp_path / "f.json", date="2026-01-01 00:00 UTC")
    back = F.read_shipped(path)
    assert back.findings["fig13"] == found["fig13"] and back.written["fig13"].date == "2026-01-01 00:00 UTC"
    assert back.written["fig13"].command == F.COMMAND
    assert F.stale_models(back, "fig13", models) == []
    shutil.rmtree(models / F.DIGITS_MODEL)
    _copy_model(ROOT / "assets/models/digits_cnn", models / F.DIGITS_MODEL, sha="0" * 64)  # retrained
    assert F.stale_models(back, "fig13", models) == [F.DIGITS_MODEL]
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(F.FindingsError, match="cannot be read"):
        F.read_shipped(tmp_path / "bad.json")


def test_every_card_is_shipped_for_the_shipped_models():
    shipped = F.read_shipped()
    assert shipped is not None and set(shipped.findings) == set(F.CLAIMS)
    for key in F.CLAIMS:
        assert F.stale_models(shipped, key) == [], key
        assert shipped.findings[key].verdict in F.VERDICTS


LIVE = [k for k, c in F.CLAIMS.items() if not c.ahead]


@functools.cache
def card_rtol(key: str) -> float:
    """The tolerance of a live card's figures recomputed on another processor: its speech model's
    float32 gradients (tests/tolerance.py), two of them multiplied (the pair score imp_a·imp_b·p_e;
    Fig 4's share is a ratio of sums of one map, also two factors)."""
    from core.models import MODELS_DIR, load_model

    net, _ = load_model(MODELS_DIR / F.CLAIMS[key].models[0])
    return gradient_rtol(net, factors=2)


@pytest.fixture(scope="module")
def live_now() -> dict:
    return F.compute(LIVE)


def _close_values(now: dict, before: dict, rtol: float) -> list[str]:
    """The names of ``now``'s values not within ``rtol`` of ``before``'s. The margins and the
    bootstrap intervals (figure minus threshold: a difference of O(1) shares or accuracies, or Hz)
    are held to ``rtol`` of 1 as well (absolute): relative to a margin near 0 it would be too tight."""
    return [name for name, v in now.items()
            if not close(v, before[name], rtol, rtol if name in ("margins", "uncertainty") else 0.0)]


@pytest.mark.shipped
def test_cheap_cards_recomputed_equal_the_shipped_ones(live_now):
    """Numbers within the float32 tolerance of the arithmetic; verdicts (with their seeded bootstrap
    intervals), figure texts and every non-float value exactly (the next test shows they do not
    move within that tolerance)."""
    assert LIVE == ["s_sh_ja", "s_sh", "b_d_ja", "b_d", "fig4"]
    shipped = F.read_shipped()
    for k in LIVE:
        now = live_now[k]
        assert (now.verdict, now.figure) == (shipped.findings[k].verdict, shipped.findings[k].figure), k
        assert now.values.keys() == shipped.findings[k].values.keys(), k
        assert "uncertainty" in now.values and now.values["uncertainty"]["n_boot"] == F.N_BOOT, k
        assert _close_values(now.values, shipped.findings[k].values, card_rtol(k)) == [], k


@pytest.mark.shipped
def test_cheap_cards_text_and_verdicts_do_not_move_within_the_tolerance(live_now, monkeypatch):
    """Every importance map the cards are drawn from, moved by the tolerance of one float32 gradient
    statistic (a seeded random sign per cell, as another processor's rounding would): the verdicts,
    the figure texts and the non-float values (which cells, how many in a band) stay the same, and the
    numbers stay within the cards' tolerance. So comparing those exactly with the shipped file is
    safe on any processor. The moved cards are computed without a bootstrap and take the intervals
    of the unmoved ones (``adopt_uncertainty``, what the page does with the shipped intervals)."""
    compute = importlib.import_module("core.findings.compute")  # the module (F.compute is its function)
    real = compute._Speech.importance
    monkeypatch.setattr(compute._Speech, "pair_resamples", lambda self, claim: None)
    monkeypatch.setattr(compute._Speech, "map_resamples", lambda self: None)
    rng = np.random.default_rng(0)

    def moved(self, target):
        imp = real(self, target)
        rtol = gradient_rtol(self.net) * (1 - 1e-9)  # the tolerance, to the last bit
        return imp * (1 + rtol * rng.choice([-1.0, 1.0], size=imp.shape))

    monkeypatch.setattr(compute._Speech, "importance", moved)
    again = F.compute(LIVE)
    for k in LIVE:
        assert "uncertainty" not in again[k].values
        a, b = F.adopt_uncertainty(again[k], live_now[k]), live_now[k]
        assert (a.verdict, a.figure) == (b.verdict, b.figure), k
        assert _close_values(a.values, b.values, card_rtol(k)) == [], k


# --- the command line -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def findings_models(tiny_models_dir, tmp_path_factory) -> Path:
    """The tiny models under the names the cards use (the 3-state one as speech_en_mfbank_states)."""
    root = tmp_path_factory.mktemp("findings_models")
    for name, src in (
        (F.SPEECH_MODEL, "speech_en_mfbank"),
        (F.STATES_MODEL, "speech_en_states"),
        (F.DIGITS_MODEL, "digits_cnn"),
    ):
        (root / name).symlink_to(tiny_models_dir / src, target_is_directory=True)
    return root


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", "findings", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_json_live_cards_and_shipped_curves(findings_models):
    r = cli("--json", "--cards", "s_sh,fig4,fig8", "--models", str(findings_models), "--threads", "1")
    assert r.returncode == 0, r.stderr
    rows = {row["key"]: row for row in json.loads(r.stdout)}
    expect = F.compute(["s_sh", "fig4"], findings_models)
    for k in ("s_sh", "fig4"):
        assert (rows[k]["verdict"], rows[k]["figure"]) == (expect[k].verdict, expect[k].figure)
        assert rows[k]["source"] == "computed now"
    shipped = F.read_shipped()
    assert rows["fig8"]["figure"] == shipped.findings["fig8"].figure
    assert rows["fig8"]["source"].endswith(f"models changed: {F.SPEECH_MODEL}")


@pytest.mark.parametrize(
    "args,message",
    [
        (("--cards", "fig99"), "unknown card 'fig99'"),
        (("--models", "/nonexistent", "--cards", "s_sh"), "needs the model speech_en_mfbank"),
    ],
)
def test_cli_bad_input_is_one_line(args, message):
    r = cli(*args)
    assert r.returncode == 2
    assert r.stderr.startswith("error: ") and message in r.stderr and len(r.stderr.strip().splitlines()) == 1


# --- the page -------------------------------------------------------------------------------------


def test_findings_page(findings_models, monkeypatch):
    monkeypatch.setenv("DNNLENS_MODELS", str(findings_models))
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    at.run()
    # Home quotes no result: the shipped one belongs to other models, none computed here yet
    assert "This model (the Findings page)" not in " ".join(m.value for m in at.markdown)
    at.switch_page("screens/findings.py").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Findings"
    assert [h.value for h in at.subheader] == [c.title for c in F.CLAIMS.values()]
    text = " ".join(m.value for m in at.markdown)
    expect = F.compute(["s_sh", "b_d", "fig4"], findings_models)  # the live cards: the pages' numbers
    for k, f in expect.items():
        assert f"**Ours:** {f.figure}" in text, k
        assert f"**Uncertainty:** {F.interval_text(f.values)}" in text, k  # bootstrapped now: other models
    shipped = F.read_shipped()
    for k in ("fig8", "fig9", "fig13"):  # computed ahead on other models: shown, and said so
        assert f"**Ours:** {shipped.findings[k].figure}" in text
    warnings = [w.value for w in at.warning]
    assert sum("belongs to other models" in w for w in warnings) == 3
    links = [(ln.proto.page, ln.proto.query_string) for ln in at.get("page_link")]
    assert (
        "phoneme_pair",
        "model=speech_en_mfbank&sample=all&stat=std&output=posterior&pair_a=s&pair_b=sh&rank=score&bins=30&from=findings&card=s_sh&lang=en",
    ) in links
    assert (
        "importance_map",
        "model=speech_en_mfbank_states&sample=all&stat=std&output=posterior&phone=s&part=S2&from=findings&card=fig4&lang=en",
    ) in links
    assert (
        "units_pruning",
        "model=speech_en_mfbank&sample=all&stat=std&output=posterior&prune_units=hidden&from=findings&card=fig9&lang=en",
    ) in links
    assert (
        "digit_cnn", "digits_model=digits_cnn&cnn_view=prune&stat=std&output=posterior&from=findings&card=fig13&lang=en"
    ) in links
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    verdicts = [  # the Japanese cards: their model is not installed here, the shipped figure is shown
        shipped.findings["s_sh_ja"].verdict, expect["s_sh"].verdict,
        shipped.findings["b_d_ja"].verdict, expect["b_d"].verdict,
        *(shipped.findings[k].verdict for k in ("fig8_ja", "fig9_ja", "fig8", "fig9", "fig13")),
        expect["fig4"].verdict,
    ]
    assert sum("The model speech_ja_mfbank is not installed here; this is the shipped figure." in w
               for w in warnings) == 4
    assert [b.split(" ", 1)[1].rstrip("]") for b in badges] == verdicts
    assert [b.proto.label for b in at.get("download_button")] == ["Download the findings (JSON)"]
    at.run()  # a second run: every live card from the cache, same page
    assert " ".join(m.value for m in at.markdown) == text
    # a card computed ahead on other models can be computed now on the installed ones
    at.button(key="now_fig8").click().run()
    assert not at.exception, [e.message for e in at.exception]
    now = F.compute(["fig8"], findings_models)["fig8"]
    assert f"**Ours:** {now.figure}" in " ".join(m.value for m in at.markdown)
    assert sum("belongs to other models" in w.value for w in at.warning) == 2
    at.run()  # and it stays
    assert f"**Ours:** {now.figure}" in " ".join(m.value for m in at.markdown)

    # now Home quotes the pair cards computed live on these models
    at.switch_page("screens/home.py").run()
    home = " ".join(m.value for m in at.markdown)
    for k in ("s_sh", "b_d"):
        assert f"This model (the Findings page): {expect[k].figure} Against the paper: {expect[k].verdict}." in home


def test_home_quotes_the_shipped_findings_of_the_shipped_models(monkeypatch):
    """Home's "start here" says what the shipped models show for /s/-/sh/ and /b/-/d/: the shipped
    file's figures (they belong to the installed models), never a result typed into the page."""
    monkeypatch.delenv("DNNLENS_MODELS", raising=False)
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    home = " ".join(m.value for m in at.markdown)
    shipped = F.read_shipped()
    for k in ("s_sh", "b_d"):
        f = shipped.findings[k]
        assert f"This model (the Findings page): {f.figure} Against the paper: {f.verdict}." in home


# ---------------------------------------------------------------------------------------------
# The shipped file against the code and the models (issue 26): staleness covers the code and the
# validation sets, and the curve cards are recomputed and compared


def _finding(verdict="partly", figure="Top 10 cells", x=0.5) -> F.Finding:
    return F.Finding("s_sh", verdict, figure, {"share": x, "cells": [1, 2]}, ({"hz": 2000.0, "in": True},))


def test_differences_name_a_changed_verdict_figure_or_number_beyond_the_tolerance():
    rel, abs_ = F.CHECK_TOLERANCE
    shipped = F.Shipped({"s_sh": _finding()}, {})
    assert F.differences(shipped, {"s_sh": _finding()}) == []
    assert F.differences(shipped, {"s_sh": _finding(x=0.5 + abs_ / 2)}) == []  # one frame's flip: within
    assert F.differences(shipped, {"s_sh": _finding(x=0.5 + 10 * abs_)})[0].startswith("s_sh: same verdict")
    assert "shipped 'partly'" in F.differences(shipped, {"s_sh": _finding(verdict="reproduced")})[0]
    assert "shipped" in F.differences(shipped, {"s_sh": _finding(figure="other")})[0]
    assert F.differences(F.Shipped({}, {}), {"s_sh": _finding()}) == ["s_sh: not in the shipped file"]


def test_the_code_fingerprint_covers_every_module_a_card_reaches(monkeypatch, tmp_path):
    """A card's code is its starting modules and all they import, read from the source: another
    version of any of them (here core.data.frames, which reads the validation frames) makes the
    card stale; the charts' code (core.viz) is no part of it."""
    from core import imports

    mods = set(F.code_modules("fig8"))
    assert {"core.train.validation", "core.data.frames", "core.models.store", "core.torch_utils",
            "core.train.loop", "core.findings.rules"} <= mods
    assert not any(m.startswith(("core.viz", "core.commands")) for m in mods)
    before = {k: F.code_fingerprint(k) for k in ("fig8", "s_sh")}
    real = imports.modules()
    for name, changes in (("core.data.frames", True), ("core.viz.maps", False)):
        other = tmp_path / f"{name}.py"
        other.write_text(real[name].read_text() + "\n# another version\n")
        monkeypatch.setattr(imports, "modules", lambda name=name, other=other: {**real, name: other})
        assert (F.code_fingerprint("fig8") != before["fig8"]) is changes, name
        assert (F.code_fingerprint("s_sh") != before["s_sh"]) is changes, name
    # the phone tables the phone sets are read from are part of that code: the same core/phones with
    # another en.tsv makes the cards stale
    import shutil

    folder = tmp_path / "phones"
    shutil.copytree(real["core.phones.sets"].parent, folder)
    moved = {n: folder / p.name for n, p in real.items() if p.parent == real["core.phones.sets"].parent}
    monkeypatch.setattr(imports, "modules", lambda: {**real, **moved})
    assert "core.phones.sets" in mods and F.code_fingerprint("fig8") == before["fig8"]
    (folder / "en.tsv").write_text((folder / "en.tsv").read_text() + "# another table\n")
    assert F.code_fingerprint("fig8") != before["fig8"] and F.code_fingerprint("s_sh") != before["s_sh"]


def test_the_shipped_file_was_written_by_this_code_on_these_models_and_validation_sets():
    """Re-run `python -m core findings --write` after changing a module of
    ``core.findings.code_modules`` (most of core), a model or a validation set (the Findings page would say the
    card is stale)."""
    shipped = F.read_shipped()
    stale = {k: F.stale_models(shipped, k) for k in F.CLAIMS}
    assert not {k: v for k, v in stale.items() if v}
    assert [k for k in F.CLAIMS if F.code_changed(shipped, k)] == []


def test_a_changed_validation_set_makes_a_card_stale(tmp_path):
    root = tmp_path / "models"
    shutil.copytree(ROOT / "assets" / "models" / F.SPEECH_MODEL, root / F.SPEECH_MODEL)
    meta = json.loads((root / F.SPEECH_MODEL / "model.json").read_text())
    val = tmp_path / "val.npz"
    shutil.copy(ROOT / "assets" / "validation" / "en_mfbank.npz", val)
    meta["validation"] = str(val)
    (root / F.SPEECH_MODEL / "model.json").write_text(json.dumps(meta))
    shipped = F.read_shipped()
    assert F.stale_models(shipped, "s_sh", root) == []  # the same bytes elsewhere: not stale
    with open(val, "ab") as fh:
        fh.write(b"\0")  # another validation set
    assert F.stale_models(shipped, "s_sh", root) == [F.SPEECH_MODEL]


def test_the_curve_cards_recomputed_now_equal_the_shipped_ones():
    """fig8, fig9 and fig13, and fig8 and fig9 on the Japanese model (computed ahead: the page shows
    the shipped file), recomputed from the shipped models by `findings --check` (about a minute and a
    half on two cores)."""
    r = subprocess.run([sys.executable, "-m", "core", "findings", "--check", "--cards",
                        "fig8,fig9,fig13,fig8_ja,fig9_ja"],
                       cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "5 of 5 cards as shipped" in r.stderr

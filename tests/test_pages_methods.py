"""The method page ("Which importance to trust") and the hollow-cell option of the map and pair pages
through AppTest, on the tiny real models; what the page shows compared with core.trust; and the
`compare-methods` command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core import trust
from core.cli import main
from core.importance import gradient_stats
from core.models import load_model
from core.train import load_validation
from tests.test_pages import ROOT, TIMEOUT, no_errors, run_page
from tests.test_pages_units import chart_specs


def _core_report(models, name="speech_en_mfbank", target="s"):
    net, info = load_model(models / name)
    data = trust.speech_data(info, load_validation(info), target, "all", trust.config_for("speech"))
    return trust.compare(net, data, trust.config_for("speech"))


def test_method_page_shows_the_core_verdict_and_every_view(tiny_models):
    at = run_page("screens/methods.py")
    no_errors(at)
    assert at.title[0].value == "Which importance to trust"
    rep = _core_report(tiny_models)
    verdict = at.success[0].value
    assert verdict.startswith("**Verdict for /s/**") and rep.verdict.text in verdict
    table = at.table[0].value
    assert list(table.columns)[-2:] == ["split-half ρ", "cells ≠ 0"]
    assert "-0.00" not in {str(v) for v in table.to_numpy().ravel()}  # correlations as two decimals, no minus zero
    assert list(table.iloc[:, 0]) == [trust.METHOD_NAMES[m] for m in trust.TRUST_METHODS]
    assert list(table["flagged"]) == ["⚠️" if r.flagged else "" for r in rep.rows]
    assert table.iloc[-1]["flagged"] == "⚠️"  # random's map never changes
    maps = [s for s in chart_specs(at) if s.get("mark", {}).get("type") == "square"]
    assert len(maps) == 8
    for view in ("faithfulness", "sanity", "stability"):
        at.segmented_control(key="w_methods_view").set_value(view).run()
        no_errors(at)
        assert at.query_params["mview"] == view
        assert chart_specs(at)
    at.segmented_control(key="w_methods_view").set_value("faithfulness").run()
    at.radio(key="methods_measure").set_value("recall").run()
    no_errors(at)
    at.segmented_control(key="w_methods_view").set_value("maps").run()
    at.radio(key="methods_per_row").set_value(4).run()
    at.toggle(key="methods_hollow").set_value(True).run()
    no_errors(at)
    solid = [
        row["solid"]
        for s in chart_specs(at)
        if s.get("mark", {}).get("type") == "square"
        for row in next(iter(s["datasets"].values()))
    ]
    assert len(solid) == 8 * 1400 and sum(solid) == int(rep.cells.solid.sum())


def test_method_page_other_phoneme_and_the_digit_cnn(tiny_models):
    at = run_page("screens/methods.py")
    at.selectbox(key="w_methods_phone").set_value("sh").run()
    no_errors(at)
    assert "/sh/" in at.success[0].value
    at.radio(key="w_methods_net").set_value("digits_cnn").run()
    no_errors(at)
    at.radio(key="w_methods_digit").set_value(7).run()
    no_errors(at)
    assert "'7'" in at.success[0].value and at.query_params["net"] == "digits_cnn"
    assert at.query_params["digit"] == "7"
    at.segmented_control(key="w_methods_view").set_value("stability").run()
    no_errors(at)
    titles = [str(s.get("title")) for s in chart_specs(at)]
    assert any("halves of the digits" in t for t in titles) and not any("utterances" in t for t in titles), titles


def test_hollow_cells_on_the_map_and_pair_pages(tiny_models):
    at = run_page("screens/importance_map.py")
    at.toggle(key="map_hollow").set_value(True).run()
    no_errors(at)
    spec = next(s for s in chart_specs(at) if s.get("mark", {}).get("type") == "square")
    rows = next(iter(spec["datasets"].values()))
    shown = np.array([r["solid"] for r in rows])
    # the same rule computed here from per-utterance gradient sums of the validation frames
    net, info = load_model(tiny_models / "speech_en_mfbank")
    frames = load_validation(info)
    lab, ids = trust.maps.relabel(frames.frame_utt, np.arange(len(frames.labels)))
    stats = gradient_stats(
        net, frames.spliced(), lab, [info.outputs_of("s")], n_labels=len(ids), transform=info.normalizer.apply
    )
    want = trust.solid_cells([trust.ClusterSums.from_grad_stats(stats)], "std")
    assert np.array_equal(shown, want)
    at.switch_page("screens/phoneme_pair.py").run()
    at.toggle(key="pair_hollow").set_value(True).run()
    no_errors(at)
    spec = next(s for s in chart_specs(at) if s.get("mark", {}).get("type") == "square")
    assert "solid" in next(iter(spec["datasets"].values()))[0]


def test_compare_methods_command(tiny_models, capsys):
    argv = ["compare-methods", str(tiny_models / "speech_en_mfbank"), "--target", "s", "--frames", "300"]
    assert main([*argv, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [m["method"] for m in out["methods"]] == list(trust.TRUST_METHODS)
    rows = {m["method"]: m for m in out["methods"]}
    # random: noise per frame and input; the same frames give the same noise under any network (flagged),
    # two halves of the utterances unrelated noise
    assert rows["random"]["flagged"] and abs(rows["random"]["split_half"]) < 0.3
    assert out["verdict"]["best"] in rows and not rows[out["verdict"]["best"]]["flagged"]
    for m in rows.values():
        assert m["deletion_ci"][0] <= m["deletion_ci"][1] and 0 <= m["deletion_auc"] <= 1
    assert out["frames"]["maps"] <= 300 and out["frames"]["cluster"] == "utterance"
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "The evidence favours" in text and "FLAGGED" in text


@pytest.mark.parametrize(
    "model,target,match",
    [("speech_en_mfbank", "qq", "Unknown phoneme 'qq'"), ("digits_cnn", "s", "digit 0-9")],
)
def test_compare_methods_bad_target_is_one_line(tiny_models, capsys, model, target, match):
    assert main(["compare-methods", str(tiny_models / model), "--target", target]) == 2
    err = capsys.readouterr().err
    assert match in err and err.count("\n") == 1


def _hollow_view(at, key: str) -> tuple[list[bool], list[str]]:
    at.toggle(key=key).set_value(True).run()
    no_errors(at)
    spec = next(s for s in chart_specs(at) if s.get("mark", {}).get("type") == "square")
    return [bool(r["solid"]) for r in next(iter(spec["datasets"].values()))], [c.value for c in at.caption]


@pytest.mark.parametrize(
    "page,key,params,any_hollow",
    [
        ("screens/phoneme_pair.py", "pair_hollow", {"pair_a": "s", "pair_b": "sh", "top": "1"}, False),
        ("screens/phoneme_pair.py", "pair_hollow", {"pair_a": "b", "pair_b": "d"}, False),
        # /zh/ over its own 3 utterances by mean |dy/dx|: some cells are not distinguishable from zero
        ("screens/importance_map.py", "map_hollow", {"phone": "zh", "sample": "selected", "stat": "mean_abs"}, True),
    ],
)
def test_the_hollow_switch_says_what_it_changes(tiny_models, page, key, params, any_hollow):
    """Issue 28: with every cell a map shows distinguishable from zero, the switch says so in one line
    ("nothing to hollow"); otherwise it says how many are hollow. Both read the chart's own rows."""
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=TIMEOUT)
    at.query_params.update(params)
    at.switch_page(page).run()
    solid, captions = _hollow_view(at, key)
    assert (not all(solid)) == any_hollow
    nothing = [c for c in captions if "nothing to hollow" in c]
    counted = [c for c in captions if "not distinguishable from zero at 95 % (hollow)" in c]
    if any_hollow:
        assert nothing == []
        assert counted == [
            f"{solid.count(False):,} of the {len(solid):,} cells shown are not distinguishable from zero at 95 % "
            "(hollow)."
        ]
    else:
        assert nothing == [f"All {len(solid):,} cells shown differ from zero at 95 %: nothing to hollow."]
        assert counted == []

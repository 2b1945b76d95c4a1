"""The message catalogue against the source, the catalogue file's writer, and core's charts in
Japanese (no Streamlit needed)."""

from __future__ import annotations

import re
import tomllib

import numpy as np
import pandas as pd
import pytest

import i18n
from core.features import FeatureConfig
from core.phones import Segment
from core.viz import maps as charts
from core.viz import units as unit_charts
from core.viz import voice as voice_charts
from i18n.catalogue import check, dumps, fields, find_messages, is_japanese, load, updated

# ---------------------------------------------------------------------------------------------
# The catalogue


@pytest.fixture(scope="module")
def source():
    return find_messages()


@pytest.fixture(scope="module")
def entries():
    return load(i18n.CATALOGUE)


def test_every_message_in_the_source_is_in_the_catalogue(source, entries):
    found, problems = source
    report = check(entries, found, problems)
    assert not report.source, report.source  # tr(f"...") cannot be translated
    assert not report.missing, "run `python -m i18n update` and translate:\n" + "\n".join(report.missing)
    assert not report.unused, report.unused


def test_both_languages_have_every_message_translated(source, entries):
    report = check(entries, *source)
    assert {m["en"] for m in entries} == set(source[0])  # exactly the same keys in both languages
    assert not report.duplicated, report.duplicated
    assert not report.empty, report.empty
    assert not report.untranslated, report.untranslated
    assert not report.mismatched, report.mismatched
    assert all(set(m) == {"en", "ja"} for m in entries)


def test_a_signed_delta_keeps_its_sign_first_in_japanese(entries):
    """st.metric colours a delta and points its arrow by the sign it starts with: a message that
    starts with its number ("{d} with VTLN") must start with it in Japanese too."""
    signed = [m for m in entries if m["en"].startswith("{d}")]
    assert len(signed) >= 3
    assert not [m["ja"] for m in signed if not m["ja"].startswith("{d}")]


def test_messages_cite_only_files_a_user_of_this_repository_has(entries):
    """A help text that says "see X.md" must name a file in this repository (METHOD.md is not)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    shipped = {p.name for p in root.rglob("*.md") if ".venv" not in p.parts}
    cited = {(m["en"], f) for m in entries for f in re.findall(r"\b([\w-]+\.md)\b", m["en"])}
    assert not {(en, f) for en, f in cited if f not in shipped}


def test_the_source_scan_finds_what_it_must(source):
    found, _ = source
    assert "Importance map" in found  # dashboard.py, tr()
    assert any(w.startswith("screens/importance_map.py") for w in found["Importance map"])  # page_start()
    assert "least important first (Imp)" in found  # core/viz/units.py, N_()
    assert "time offset (frames; ms)" in found  # core/viz/maps.py, tr= parameter


def test_check_reports_each_kind_of_problem(tmp_path):
    (tmp_path / "screens").mkdir()
    (tmp_path / "screens" / "new.py").write_text(
        'from i18n import tr\ntr("Brand new page")\ntr(f"Hello {name}")\ntr("{n} frames").format(n=1)\n'
        'tr("Old text")\ntr("Same")\ntr("Bold **x**")\n',
        encoding="utf-8",
    )
    found, problems = find_messages(tmp_path)
    assert set(found) == {"Brand new page", "{n} frames", "Old text", "Same", "Bold **x**"}
    assert len(problems) == 1 and "screens/new.py:3" in problems[0]
    entries = [
        {"en": "{n} frames", "ja": "{m} フレーム"},
        {"en": "Old text", "ja": ""},
        {"en": "Same", "ja": "Same"},
        {"en": "Bold **x**", "ja": "太字 x"},
        {"en": "Gone", "ja": "消えた"},
    ]
    r = check(entries, found, problems)
    assert [m.split(" (")[0] for m in r.missing] == ["'Brand new page'"]
    assert r.unused == ["Gone"]
    assert r.empty == ["ja: 'Old text'"]
    assert r.untranslated == ["Same"]
    assert len(r.mismatched) == 2 and "fields" in r.mismatched[0] and "bold" in r.mismatched[1]
    assert not r.ok() and len(r.lines()) == 7
    # update keeps translations, gives new messages an empty ja, drops unused ones
    new = updated(entries, found)
    assert [m["en"] for m in new] == list(found) and new[0] == {"en": "Brand new page", "ja": ""}
    assert {"en": "{n} frames", "ja": "{m} フレーム"} in new and all(m["en"] != "Gone" for m in new)


def test_fields_and_japanese_detection():
    assert fields("{n:,} of {m} at {q:.0%}") == {("n", ","), ("m", ""), ("q", ".0%")}
    assert fields("no fields") == set()
    assert is_japanese("音素") and is_japanese("ホーム") and is_japanese("（") and not is_japanese("Home (s)")


def test_the_catalogue_file_is_in_the_writers_form(entries):
    # `python -m i18n update` rewrites the file; it must not churn a file it did not change
    assert dumps(entries) == i18n.CATALOGUE.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "text",
    [
        'quotes " and """ and a backslash \\ and a tab\t',
        "a long line " * 30 + "ending with a space ",
        "line one\n- item two\n\n" + "word " * 40,
        "日本語の長い文です。" * 20 + "（括弧）と、読点。",
        "混在 mixed テキスト with {field:,} and 2 spaces  between " * 6,
        "\u0001 control",
    ],
)
def test_writer_round_trips(text):
    out = dumps([{"en": text, "ja": text}])
    assert tomllib.loads(out)["message"] == [{"en": text, "ja": text}]
    assert max(len(line) for line in out.splitlines()) <= 100


def test_translate_and_translator():
    assert i18n.translate("Importance map", "ja") == "重要度マップ"
    assert i18n.translate("Importance map", "en") == "Importance map"
    assert i18n.translate("A text nobody wrote", "ja") == "A text nobody wrote"  # falls back to English
    assert i18n.tr("Phoneme pair", "ja") == "音素ペア"
    assert i18n.translator("en")("Phoneme pair") == "Phoneme pair"
    assert i18n.translator("ja")("Phoneme pair") == "音素ペア"
    assert i18n.translate("{n:,} of {m} validation frames", "ja") == "{n:,} of {m} validation frames"


# ---------------------------------------------------------------------------------------------
# core's charts in Japanese: every title, axis title, legend title and tooltip title translated

SYMBOLS = re.compile(r"^(|p_e|Hz|Imp\(l, i\)|dy/dx|x|y|/[a-z]+/|\d+)$")
"""Titles that are the same in every language (symbols, units, phoneme names)."""


def titles(spec) -> list[str]:
    """Every title (chart, axis, legend, tooltip, facet) in a Vega-Lite spec."""
    out = []
    if isinstance(spec, dict):
        for k, v in spec.items():
            if k == "tooltip" and isinstance(v, dict) and "expr" in v:  # charts.text_tooltip
                out.extend(charts.tooltip_titles(v["expr"]))
            if k == "title":
                if isinstance(v, str):
                    out.append(v)
                elif isinstance(v, dict) and isinstance(v.get("text"), str):
                    out.append(v["text"])
            out.extend(titles(v))
    elif isinstance(spec, list):
        for v in spec:
            out.extend(titles(v))
    return out


def not_japanese(spec) -> list[str]:
    return [t for t in titles(spec) if not is_japanese(t) and not SYMBOLS.match(t)]


@pytest.fixture(scope="module")
def ja():
    return i18n.translator("ja")


@pytest.mark.parametrize("kind", ["mfbank", "mfcc"])
def test_map_charts_in_japanese(ja, kind):
    cfg = FeatureConfig(kind=kind)
    rng = np.random.default_rng(0)
    t = charts.map_table(cfg, rng.random(cfg.input_dim), rng.normal(size=cfg.input_dim))
    p = charts.pair_table(cfg, *rng.random((4, cfg.input_dim)))
    built = [charts.importance_map(t, cfg, colour=c, contrast=2.0, tr=ja) for c in charts.COLOURS]
    built += [
        charts.spectral_profile(t, cfg, tr=ja),
        charts.temporal_profile(t, cfg, tr=ja),
        charts.pair_map(p, cfg, "s", "sh", contrast=1.5, tr=ja),
        charts.density_chart(
            np.arange(5.0), np.ones(5), np.ones(5), "s", "sh", ja("input value (normalised z)"), tr=ja
        ),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert len(titles(spec)) >= 1 and not not_japanese(spec), not_japanese(spec)
    assert "時間オフセット（フレーム; ms）" in titles(built[0].to_dict())
    # English by default, unchanged (and the check above would see it)
    english = charts.importance_map(t, cfg).to_dict()
    assert "time offset (frames; ms)" in titles(english) and len(not_japanese(english)) >= 5


def test_unit_charts_in_japanese(ja):
    table = pd.DataFrame(
        {
            "k": [0, 1, 0, 1],
            "fraction": [0, 0.5, 0, 0.5],
            "order": ["imp_asc"] * 2 + ["random"] * 2,
            "accuracy": [0.9, 0.8, 0.9, 0.7],
            "lo": [np.nan, np.nan, 0.9, 0.6],
            "hi": [np.nan, np.nan, 0.9, 0.8],
        }
    )
    curve = unit_charts.curve_chart(table, 0.9, marker_k=1, tr=ja)
    spec = curve.to_dict()
    assert not not_japanese(spec), not_japanese(spec)
    methods = {r["method"] for d in spec["datasets"].values() for r in d if "method" in r}
    assert methods == {"重要度の低い順（Imp）", "ランダム（平均、帯 = 最小～最大）"}  # legend entries
    cfg = FeatureConfig()
    built = [
        unit_charts.unit_bars({1: np.arange(4.0), 2: np.arange(3.0)}, tr=ja),
        unit_charts.filter_bars(np.arange(4.0), highlight=[1], tr=ja),
        unit_charts.damage_bars([("s", 0.2), ("sh", 0.1)], tr=ja),
        unit_charts.damage_bars([("3", 0.2)], unit="digit", tr=ja),
        unit_charts.kept_inputs_map(cfg, np.arange(cfg.input_dim) % 2 == 0, np.ones(cfg.input_dim), tr=ja),
        unit_charts.image_grid(np.ones((2, 3, 3)), tr=ja),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert not not_japanese(spec), not_japanese(spec)
    states = {r["state"] for d in built[1].to_dict()["datasets"].values() for r in d}
    assert states == {"残す", "削除"}
    layers = {r["layer"] for d in built[0].to_dict()["datasets"].values() for r in d}
    assert layers == {"隠れ層 1", "隠れ層 2"}


def test_voice_charts_in_japanese(ja):
    logmel = np.random.default_rng(0).normal(size=(50, 40)).astype(np.float32)
    post = np.full((50, 3), 1 / 3, np.float32)
    post[:, 0] = 0.5
    segs = {ja("decoded"): [Segment(0.0, 0.2, "s"), Segment(0.2, 0.5, "sh")]}
    cfg = FeatureConfig()
    window = voice_charts.window_table(np.zeros((35, 40)), np.ones((35, 40)), cfg)
    built = [
        voice_charts.panel(voice_charts.spectrogram_chart(
            voice_charts.spectrogram_table(logmel, 0.5), 0.5, cursor=0.1, tr=ja
        )),
        voice_charts.panel(voice_charts.posterior_chart(
            voice_charts.posterior_table(post, ["s", "sh", "z"], 0.5, voice_charts.SPECTROGRAM), 0.5, tr=ja
        )),
        voice_charts.panel(voice_charts.tracks_chart(voice_charts.tracks_table(segs), 0.5, cursor=0.1, tr=ja)),
        voice_charts.window_chart(
            window, ja("d posterior(/{p}/) / d input, frame {f}").format(p="s", f=3), tr=ja
        ),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert not not_japanese(spec), not_japanese(spec)
    assert "対数メルスペクトログラム（クリックでカーソルを移動）" in titles(built[0].to_dict())


def test_findings_and_method_charts_in_japanese(ja):
    from core.findings import CLAIMS
    from core.importance.overlap import OverlapDetail
    from core.trust.sanity import Sanity
    from core.viz import findings as finding_charts
    from core.viz import trust as trust_charts

    pair_rows = [
        {"offset_frames": o, "hz": h, "score": s, "p_e": 0.5, "in_band": b}
        for o, h, s, b in [(0, 3500.0, 1.0, True), (3, 1000.0, 0.5, False)]
    ]
    curve_rows = [
        {"k": k, "fraction": k / 2, "order": o, "accuracy": a, "lo": a, "hi": a}
        for o in ("imp_asc", "random")
        for k, a in ((0, 0.9), (1, 0.6))
    ]
    profile_rows = [{"output": o, "hz": h, "share": 0.5} for o in ("s_S2", "sh_S2") for h in (1000.0, 4000.0)]
    methods = ("std", "random")
    faith = pd.DataFrame(
        [
            (m, c, "posterior", f, 1 - f)
            for m in methods
            for c in ("deletion", "insertion")
            for f in (0.0, 0.5, 1.0)
        ],
        columns=["method", "curve", "measure", "fraction", "value"],
    )
    san = Sanity(methods, ("fc3", "fc1"), np.array([[0.5, 0.1], [0.2, 0.0]]), np.array([0.3, 0.1]), 10, 2)
    split = pd.DataFrame({"method": list(methods), "name": ["x", "y"], "split_half": [0.9, 0.1]})
    centres = np.linspace(-1, 1, 5)
    detail = OverlapDetail(
        0, np.linspace(-1.25, 1.25, 6), centres, np.full(5, 0.4), np.full(5, 0.4), 0.5, 0.7
    )
    built = [
        finding_charts.pair_chart(pair_rows, CLAIMS["s_sh"], tr=ja),
        finding_charts.curve_card_chart(curve_rows, 0.9, x_title=ja("units deleted"), tr=ja),
        finding_charts.map_profile_chart(profile_rows, tr=ja),
        trust_charts.curves_chart(faith, "deletion", "posterior", tr=ja),
        trust_charts.curves_chart(faith, "insertion", "posterior", tr=ja),
        trust_charts.sanity_chart(san, tr=ja),
        trust_charts.stability_chart(split, tr=ja),
        trust_charts.stability_chart(split, digits=True, tr=ja),
        voice_charts.student_densities(detail, np.zeros(3), np.ones(2), "s", "sh", ja("value"), tr=ja),
    ]
    for chart in built:
        spec = chart.to_dict()
        assert not not_japanese(spec), not_japanese(spec)
    names = {r["name"] for d in built[7].to_dict()["datasets"].values() for r in d}
    assert names == {ja("σ of dy/dx (the paper's index)"), "ランダム"}  # legend / axis entries
    where = {r["where"] for d in built[0].to_dict()["datasets"].values() for r in d if "where" in r}
    assert where == {"論文の帯域内", "帯域外"}
    english = trust_charts.sanity_chart(san).to_dict()  # the default stays English
    assert "sanity: does the map change with the network?" in titles(english)


def test_verdicts_and_rules_read_the_same_in_english_and_are_translated(ja):
    from core.findings import CLAIMS
    from core.trust.report import MethodRow, verdict

    for c in CLAIMS.values():
        assert c.rule_text() == c.rule
        assert is_japanese(c.rule_text(ja)) and "{" not in c.rule_text(ja)
    rows = [
        MethodRow(
            "std",
            "σ of dy/dx (the paper's index)",
            0.2,
            (0.1, 0.3),
            0.7,
            (0.1, 0.3),
            0.5,
            (0, 1),
            0.1,
            0.2,
            0.3,
            0.4,
            False,
            0.9,
        ),
        MethodRow(
            "random", "random", 0.2, (0.1, 0.3), 0.3, (0.1, 0.3), 0.1, (0, 1), 0.1, 0.2, 0.9, 0.9, True, 0.1
        ),
    ]
    v = verdict(rows, np.random.default_rng(0).normal(size=(50, 2)) + np.array([0.5, 0.1]))
    assert v.say() == v.text and v.text.startswith("The evidence favours σ of dy/dx") and "random." in v.text
    assert v.say(ja).startswith("証拠は") and "ランダム" in v.say(ja) and "{" not in v.say(ja)


def test_findings_figures_rebuilt_in_english_and_translated(ja):
    import dataclasses

    import core.findings as F

    shipped = F.read_shipped()
    assert set(shipped.findings) == set(F.CLAIMS)
    for found in shipped.findings.values():
        assert F.figure_text(found) == found.figure
        shown = F.figure_text(found, ja)
        assert shown != found.figure and is_japanese(shown) and "{" not in shown
    other = dataclasses.replace(found, figure="A figure written by another version.")
    assert F.figure_text(other, ja) == other.figure  # never a translation of other numbers


def test_sanity_chart_names_the_randomised_layers_readably(ja):
    from core.trust.sanity import Sanity, cascade_stages
    from core.viz import trust as trust_charts

    tops = cascade_stages(8)  # the 7 x 512 DNN: 1, 2, 4, 8 layers randomised from the top
    stages = tuple(f"linears.{7 - (n - 1)}" for n in tops)
    san = Sanity(("std",), stages, np.zeros((len(tops), 1)), np.zeros(1), 10, 2, tops)
    for tr, want in ((i18n.translator("en"), ["output layer", "top 2 layers", "top 4 layers", "all 8 layers",
                                              "shuffled labels"]),
                     (ja, ["出力層", "上位 2 層", "上位 4 層", "全 8 層", "シャッフルしたラベル"])):
        spec = trust_charts.sanity_chart(san, tr=tr).to_dict()
        sort = next(layer["encoding"]["x"]["sort"] for layer in spec["layer"] if "x" in layer["encoding"])
        assert sort == want
        labels = {r["layer"] for d in spec["datasets"].values() for r in d if "layer" in r}
        assert labels == set(want) and not any("linears" in t for t in labels)

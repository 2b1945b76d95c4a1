"""Tests of core/cli.py: every bad input is one line `error: ...` on stderr and exit code 2.

Argument errors must be found before any work, so the handlers' loaders are replaced by functions
that fail the test if they are reached.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

import core.audio
import core.commands.importance as imp_cli
import core.commands.train
import core.data.corpus
import core.data.synth.run
import core.features
import core.importance.distributed
import core.importance.overlap
import core.importance.table
import core.train
from core.cli import main
from core.features import FeatureConfig
from core.importance.overlap import class_histograms
from core.models import SpeechDNN

SAMPLE = Path(__file__).resolve().parents[1] / "assets" / "samples" / "she_sells.wav"


def one_error_line(capsys, argv: list[str]) -> str:
    """Run the command; assert exit code 2 and exactly one stderr line `error: ...`; return it."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert err.endswith("\n") and err.count("\n") == 1, err
    line = err.rstrip("\n")
    assert line.startswith("error: ") and line.strip() == line, err
    return line


def never(*args, **kwargs):
    raise AssertionError("the command started working before its arguments were checked")


# --- 1. argparse errors: one line naming the command's --help ---------------------------------


@pytest.mark.parametrize(
    "argv, match, command",
    [
        ([], "the following arguments are required: COMMAND", "python -m core"),
        (["nosuch"], "invalid choice: 'nosuch'", "python -m core"),
        (["train"], "the following arguments are required", "python -m core train"),
        (["train", "speech", "--features", "foo"], "argument --features: invalid choice: 'foo'",
         "python -m core train speech"),
        (["train", "speech", "--out", "m"], "the following arguments are required: --corpus",
         "python -m core train speech"),
        (["train", "digits", "--out", "m", "--epochs", "two"], "argument --epochs: invalid int value: 'two'",
         "python -m core train digits"),
        (["importance", "speech_en_mfbank", "--target", "s"],
         "one of the arguments --corpus --validation is required", "python -m core importance"),
        (["importance", "speech_en_mfbank", "--validation", "--corpus", "c", "--target", "s"],
         "not allowed with argument", "python -m core importance"),
        (["importance", "speech_en_mfbank", "--validation"], "required: --target", "python -m core importance"),
        (["importance", "speech_en_mfbank", "--validation", "--target", "s", "--top", "x"],
         "argument --top: invalid int value: 'x'", "python -m core importance"),
        (["importance", "speech_en_mfbank", "--validation", "--target", "s", "--stat", "max"],
         "argument --stat: invalid choice: 'max'", "python -m core importance"),
        (["importance", "speech_en_mfbank", "--validation", "--target", "s", "--kind", "std"],
         "unrecognized arguments: --kind std", "python -m core importance"),
        (["importance", "speech_en_mfbank", "--validation", "--target", "s", "--output", "softmax"],
         "argument --output: invalid choice: 'softmax'", "python -m core importance"),
        (["features", str(SAMPLE), "--features", "fft"], "invalid choice: 'fft'", "python -m core features"),
        (["features", str(SAMPLE), "--max-seconds", "long"], "invalid float value", "python -m core features"),
        (["features", str(SAMPLE), "--bogus", "1"], "unrecognized arguments: --bogus 1", "python -m core features"),
        (["train", "speech", "--corpus", "c", "--out", "m", "--bogus"], "unrecognized arguments: --bogus",
         "python -m core train speech"),
    ],
)
def test_argument_errors_are_one_line(capsys, monkeypatch, argv, match, command):
    monkeypatch.setattr(imp_cli, "_cli_data", never)
    monkeypatch.setattr(core.audio, "load_audio", never)
    line = one_error_line(capsys, argv)
    assert match in line
    assert line.endswith(f"({command} --help shows the options)")


@pytest.mark.parametrize("argv, expected", [
    (["--help"], "features"),
    (["train", "speech", "--help"], "--features {mfbank,mfcc}"),
    (["importance", "--help"], "all frames of the sample set"),
])
def test_help_prints_everything_and_exits_0(capsys, argv, expected):
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert out.startswith("usage: ") and expected in " ".join(out.split()) and err == ""


# --- 2. unusable paths: one line with the path and the reason ---------------------------------


def test_features_out_in_missing_folder_is_refused_before_extracting(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(core.audio, "load_audio", never)
    monkeypatch.setattr(core.features, "extract", never)
    target = tmp_path / "no_such_dir" / "f.npy"
    line = one_error_line(capsys, ["features", str(SAMPLE), "--out", str(target)])
    assert line.startswith(f"error: argument --out: cannot write {target}: the folder {target.parent} does not exist.")


def test_features_out_under_a_file_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(core.audio, "load_audio", never)
    (tmp_path / "plain.txt").write_text("x")
    target = tmp_path / "plain.txt" / "f.npy"
    line = one_error_line(capsys, ["features", str(SAMPLE), "--out", str(target)])
    assert line.startswith(f"error: argument --out: cannot write {target}:") and "not a folder" in line


def test_features_out_that_is_a_folder_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(core.audio, "load_audio", never)
    (tmp_path / "feats.npy").mkdir()
    line = one_error_line(capsys, ["features", str(SAMPLE), "--out", str(tmp_path / "feats.npy")])
    assert "it is a folder" in line


def test_os_error_inside_a_command_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(core.data.synth.run.shutil, "which", lambda name: "/nonexistent/festival")  # never run
    (tmp_path / "plain.txt").write_text("x")
    target = tmp_path / "plain.txt" / "x"
    line = one_error_line(capsys, ["synth", "--utts", "3", "--out", str(target)])
    assert line == f"error: cannot use {target}: Not a directory"


@pytest.mark.parametrize(
    "argv, match",
    [
        (["train", "speech", "--corpus", "c", "--out", "{file}/m"], "cannot write {file}/m: {file} is not a folder"),
        (["train", "speech", "--corpus", "c", "--out", "{file}"], "cannot write {file}: it is a file"),
        (["train", "speech", "--corpus", "c", "--out", "{tmp}/m", "--epochs", "0"], "argument --epochs: must be at least 1, not 0"),
        (["train", "speech", "--corpus", "c", "--out", "{tmp}/m", "--threads", "-1"], "argument --threads: must be at least 1, not -1"),
        (["train", "speech", "--corpus", "c", "--out", "{tmp}/m", "--lr", "-0.1"], "argument --lr: must be positive, not -0.1"),
        (["train", "digits", "--out", "{tmp}/m", "--hidden", "0"], "argument --hidden: must be at least 1, not 0"),
        (["train", "digits", "--out", "{tmp}/m", "--max-minutes", "0"], "argument --max-minutes: must be positive, not 0"),
        (["evaluate", "speech_en_mfbank", "--threads", "0"], "argument --threads: must be at least 1, not 0"),
        (["train", "digits", "--out", "{tmp}/m", "--shift", "-1"], "argument --shift: must be at least 0, not -1"),
        (["export-validation", "--corpus", "c", "--out", "{tmp}/v.npz", "--min-frames", "0"],
         "argument --min-frames: must be at least 1, not 0"),
        (["synth", "--utts", "0", "--out", "{tmp}/c"], "argument --utts: must be at least 1, not 0"),
        (["export-validation", "--corpus", "c", "--out", "{file}/v.npz"], "{file} is not a folder"),
    ],
)
def test_train_arguments_are_checked_before_loading(tmp_path, capsys, monkeypatch, argv, match):
    monkeypatch.setattr(core.data.corpus, "load_corpus", never)
    monkeypatch.setattr(core.commands.train, "export_validation", never)
    monkeypatch.setattr(core.commands.train, "train_digits", never)
    monkeypatch.setattr(core.commands.train, "load_model", never)
    (tmp_path / "plain.txt").write_text("x")
    paths = {"file": str(tmp_path / "plain.txt"), "tmp": str(tmp_path)}
    line = one_error_line(capsys, [a.format(**paths) for a in argv])
    assert match.format(**paths) in line
    assert not (tmp_path / "m").exists()


# --- 3. features: the real output path, positive --max-seconds ------------------------------------


def test_features_out_without_suffix_reports_the_real_file(tmp_path, capsys):
    assert main(["features", str(SAMPLE), "--out", str(tmp_path / "x")]) == 0
    out = capsys.readouterr().out
    saved = tmp_path / "x.npy"
    assert f"saved: {saved}\n" in out and not (tmp_path / "x").exists()
    feats = np.load(saved)
    assert feats.dtype == np.float32 and f"shape {feats.shape[0]} frames x {feats.shape[1]} channels" in out


@pytest.mark.parametrize("value", ["-1", "0", "nan"])
def test_max_seconds_must_be_positive(capsys, monkeypatch, value):
    monkeypatch.setattr(core.audio, "load_audio", never)
    line = one_error_line(capsys, ["features", str(SAMPLE), "--max-seconds", value])
    assert line.startswith("error: argument --max-seconds: must be positive")


def test_audio_errors_stay_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    assert one_error_line(capsys, ["features", str(bad)]).startswith("error: ")
    line = one_error_line(capsys, ["features", str(SAMPLE), "--max-seconds", "0.5"])
    assert "the limit is 0.5 s" in line


# --- 4. importance: --top, --bins, two different phonemes, all before any computation ------------


@pytest.mark.parametrize(
    "extra, match",
    [
        (["--top", "-5"], "--top must be at least 1, not -5"),
        (["--top", "0"], "--top must be at least 1, not 0"),
        (["--bins", "0"], "--bins must be between 2 and"),
        (["--bins", "1"], "--bins must be between 2 and"),
        (["--bins", "100000000"], "--bins must be between 2 and"),
        (["--pair", "s"], "choose two different phonemes"),
    ],
)
def test_importance_arguments_are_checked_before_loading(capsys, monkeypatch, extra, match):
    monkeypatch.setattr(imp_cli, "_cli_data", never)
    line = one_error_line(capsys, ["importance", "speech_en_mfbank", "--validation", "--target", "s", *extra])
    assert match in line


def test_overlapping_targets_are_refused_before_computing(capsys, monkeypatch):
    names = ("s_S1", "s_S2", "s_S3", "sh_S1", "sh_S2", "sh_S3")
    model, cfg, x = _tiny(len(names))

    monkeypatch.setattr(imp_cli, "_cli_data", lambda args: (model, _info(cfg, names), x, np.arange(len(x)) % 6))
    monkeypatch.setattr(core.importance.table, "gradient_stats_across_ranks", never)
    monkeypatch.setattr(core.importance.distributed, "gradient_stats_across_ranks", never)  # the command's call
    monkeypatch.setattr(core.importance.overlap, "class_histograms", never)
    line = one_error_line(capsys, ["importance", "m", "--validation", "--target", "s", "--pair", "s_S2"])
    assert "choose two different phonemes" in line
    line = one_error_line(capsys, ["importance", "m", "--validation", "--target", "zz"])
    assert "Unknown phoneme 'zz'" in line


# --- 5. p_e of the command line = the dashboard's (bins over all frames of the sample set) --------


def _tiny(n_out: int):
    """A 12-input speech DNN (3 frames x 4 channels) and 90 frames whose other classes spread wider."""
    torch.manual_seed(3)
    model = SpeechDNN(12, n_out, width=6, n_hidden=2, activation="sigmoid").double()
    rng = np.random.default_rng(4)
    x = rng.standard_normal((90, 12)).astype(np.float32)
    x[::3] *= 6.0  # frames of the other classes set a much wider range than /s/ and /sh/ alone
    return model, FeatureConfig(nfilt=4, context=1), x


def _info(cfg, names):
    class Info:
        features, labels = cfg, names
        normalizer = type("N", (), {"apply": staticmethod(lambda v: (v - 0.25) * 2.0)})()

    return Info


def _cli_rows(capsys, monkeypatch, model, info, x, labels, bins):
    monkeypatch.setattr(imp_cli, "_cli_data", lambda args: (model, info, x, labels))
    argv = ["importance", "m", "--validation", "--target", "s", "--pair", "sh", "--top", "12",
            "--bins", str(bins), "--json"]
    assert main(argv) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 12
    return {(r["offset_frames"] + 1) * 4 + r["channel"]: r["p_e"] for r in rows}


def test_cli_p_e_uses_bins_of_all_frames(capsys, monkeypatch):
    phones = ("a", "s", "sh", "b")
    labels = np.array([0, 1, 2, 3, 1, 2] * 15)  # every third frame (the wide ones) is /a/ or /b/
    model, cfg, x = _tiny(len(phones))
    info = _info(cfg, phones)
    p_e = _cli_rows(capsys, monkeypatch, model, info, x, labels, bins=8)

    dashboard = class_histograms(x, labels, n_labels=4, bins=8, transform=info.normalizer.apply)
    expected = dashboard.overlap(1, 2)[1]
    assert sorted(p_e) == list(range(12))
    for i, value in p_e.items():
        assert value == pytest.approx(expected[i], abs=1e-12), i
    # the old rule (bins over the two classes' frames only) gives other values on these data
    both = np.flatnonzero(np.isin(labels, [1, 2]))
    two_only = class_histograms(x, labels, n_labels=4, bins=8, transform=info.normalizer.apply,
                                indices=both).overlap(1, 2)[1]
    assert not np.allclose(two_only, expected)


def test_cli_p_e_of_a_state_model_equals_the_phone_histograms(capsys, monkeypatch):
    phones = ("a", "s", "sh", "b")
    names = tuple(f"{p}_S{k}" for p in phones for k in (1, 2, 3))
    phone_labels = np.array([0, 1, 2, 3, 1, 2] * 15)
    states = np.random.default_rng(6).integers(0, 3, size=phone_labels.size)
    model, cfg, x = _tiny(len(names))
    info = _info(cfg, names)
    p_e = _cli_rows(capsys, monkeypatch, model, info, x, 3 * phone_labels + states, bins=6)

    dashboard = class_histograms(x, phone_labels, n_labels=4, bins=6, transform=info.normalizer.apply)
    expected = dashboard.overlap(1, 2)[1]
    for i, value in p_e.items():
        assert value == pytest.approx(expected[i], abs=1e-12), i


def test_a_reader_that_stops_early_is_not_an_error(monkeypatch, capsys):
    """`python -m core evaluate ... | head -1`: once the reader has gone, the command stops quietly
    (exit 141, nothing on stderr) instead of printing "error: Broken pipe"."""
    import io
    import os
    import sys

    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before anything is written
    out = io.TextIOWrapper(io.FileIO(write_end, "w"), write_through=True)
    monkeypatch.setattr(sys, "stdout", out)
    try:
        code = main(["evaluate", "digits_cnn", "--validation"])
    finally:
        monkeypatch.undo()
        try:
            out.close()
        except OSError:
            pass
    assert code == 141
    assert capsys.readouterr().err == ""

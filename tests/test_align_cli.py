"""`python -m core align` and `recognize`: JSON well-formed, files written, bad input = one line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.cli import main
from core.phones import PHONES, read_lab, read_textgrid

SAMPLES = Path(__file__).resolve().parents[1] / "assets" / "samples"
WAV = str(SAMPLES / "she_sells.wav")
TEXT = "She sells sea shells on the sea shore."


def one_error_line(capsys, argv: list[str]) -> str:
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, (code, out, err)
    assert "Traceback" not in out + err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


@pytest.mark.parametrize("aligner", ["pocketsphinx", "network"])
def test_align_json_and_files(capsys, tmp_path, aligner):
    lab, tg = tmp_path / "out" / "a.lab", tmp_path / "a.TextGrid"
    assert main(["align", WAV, "--text", TEXT, "--aligner", aligner, "--json",
                 "--lab", str(lab), "--textgrid", str(tg)]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [set(r) for r in rows] == [{"phone", "start", "end"}] * len(rows)
    assert rows[0]["start"] == 0 and all(r["phone"] in PHONES for r in rows)
    assert [r["phone"] for r in rows if r["phone"] != "sil"][:4] == ["sh", "iy", "s", "eh"]
    assert [s.phone for s in read_lab(lab)] == [r["phone"] for r in rows]
    assert [s.phone for s in read_textgrid(tg)] == [r["phone"] for r in rows]


def test_align_plain_text(capsys):
    assert main(["align", WAV, "--text", "she sells sea shells on the sea shore"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[2] == "sh" and len(lines[0].split()) == 3


def test_recognize_json(capsys):
    assert main(["recognize", WAV, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert set(rows[0]) == {"phone", "start", "end", "mean_posterior"}
    assert all(0 <= r["mean_posterior"] <= 1 and r["end"] > r["start"] for r in rows)
    assert "sh" in [r["phone"] for r in rows]


@pytest.mark.parametrize("argv,match", [
    (["align", WAV, "--text", "she sells zorblax"], "zorblax"),
    (["align", WAV, "--text", "  "], "transcript is empty"),
    (["align", WAV, "--text", TEXT * 10], "too long"),
    (["align", WAV, "--text", TEXT * 10, "--aligner", "network"], "too long"),
    (["align", WAV, "--text", TEXT, "--aligner", "hmm"], "invalid choice"),
    (["align", WAV], "--text"),
    (["align", str(SAMPLES / "README.md"), "--text", "hi"], "not an audio file"),
    (["align", WAV, "--text", "hi", "--lab", WAV + "/x.lab"], "cannot write"),
    (["recognize", str(SAMPLES / "nothing.wav")], "no audio file"),
    (["recognize", WAV, "--model", "no_such_model"], "No model"),
])
def test_bad_input_is_one_line(capsys, argv, match):
    assert match in one_error_line(capsys, argv)

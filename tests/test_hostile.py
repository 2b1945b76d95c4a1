"""Hostile audio files (issue 25, tests/hostile/): through the command line and the Your voice page,
each refused file gets one clear message (exit 2, one ``error:`` line; one error box, no
traceback), each odd-but-usable file is read, and another session is served meanwhile."""

from __future__ import annotations

import re

import pytest

from core.cli import main
from tests.hostile import make
from tests.test_pages_voice import shows_recording, upload, voice_page


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return make(tmp_path_factory.mktemp("hostile"))


def test_there_are_enough_cases(hostile):
    refused = [c for c in hostile.values() if c.refuse]
    assert len(hostile) >= 25 and len(refused) >= 15 and len(hostile) - len(refused) >= 8


def test_every_hostile_file_on_the_command_line(tiny_models, hostile, capsys):
    """``recognize`` (what a student runs on a recording): one ``error:`` line and exit 2, or phones."""
    for name, case in hostile.items():
        code = main(["recognize", str(case.path)])
        out, err = capsys.readouterr()
        if case.refuse:
            assert code == 2, (name, out, err)
            assert len(err.splitlines()) == 1 and err.startswith("error: "), (name, err)
            assert re.search(case.refuse, err), (name, err)
            assert "Traceback" not in err + out
        else:
            assert code == 0 and not err, (name, err)
            assert re.match(r"0\.000 \d+\.\d{3} \w+ [01]\.\d{3}$", out.splitlines()[0]), (name, out)


def test_every_hostile_file_on_the_page_while_another_session_is_served(tiny_models, hostile):
    """Session A uploads every file; after each, session B (the shipped sample) moves its time cursor
    and still shows its recording, with no error."""
    other = voice_page()
    cursor = next(s for s in other.slider if s.key.startswith("w_voice_time_"))
    at = voice_page()
    for k, (name, case) in enumerate(hostile.items()):
        upload(at, case.path.name, case.path.read_bytes())
        assert not at.exception, (name, [e.message for e in at.exception])
        if case.refuse:
            assert len(at.error) == 1, (name, [e.value for e in at.error])
            assert re.search(case.refuse, at.error[0].value), (name, at.error[0].value)
            assert "Traceback" not in at.error[0].value
        else:
            shows_recording(at)
        other.slider(key=cursor.key).set_value(round(0.5 + 0.05 * (k % 10), 2)).run()
        shows_recording(other)


def test_an_upload_over_the_size_limit_is_refused_before_it_is_read(tiny_models):
    from app_state.voice import VOICE_MAX_UPLOAD_MB

    big = b"RIFF" + bytes(VOICE_MAX_UPLOAD_MB * 2**20 + 10)
    at = upload(voice_page(), "big.wav", big)
    assert len(at.error) == 1 and f"the limit is {VOICE_MAX_UPLOAD_MB} MB" in at.error[0].value

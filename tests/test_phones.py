"""Tests of core/phones.py: the phone table, label files and frame labels."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from core.phones import (
    FESTIVAL_TO_PHONE,
    PHONE_INFO,
    PHONES,
    PhoneError,
    Segment,
    describe,
    frame_labels,
    frame_states,
    phone_index,
    read_festival_segs,
    read_lab,
    read_textgrid,
    to_phone,
    write_lab,
    write_textgrid,
)

RADIO_PHONES = Path("/usr/share/festival/radio_phones.scm")
# Festival's radio phone set as written in radio_phones.scm (used when Festival is not installed).
RADIO_SET = (
    "pau h# brth aa ae ah ao aw ax axr ay b ch d dh dx eh el em en er ey f g hh hv ih iy jh k l m n "
    "nx ng ow oy p r s sh t th uh uw v w y z zh"
).split()

SEGS = [
    Segment(0.0, 0.22, "sil"),
    Segment(0.22, 0.2569, "dh"),
    Segment(0.2569, 0.2919, "ax"),
    Segment(0.2919, 0.389, "m"),
    Segment(0.389, 0.4931, "eh"),
    Segment(0.4931, 0.5634, "zh"),
    Segment(0.5634, 0.7, "sil"),
]


# --- the phone table ------------------------------------------------------------------------


def _festival_phones() -> list[str]:
    """Phones declared in Festival's radio phone set (the installed file when there is one)."""
    if not RADIO_PHONES.is_file():
        return RADIO_SET
    text = RADIO_PHONES.read_text(encoding="latin-1")
    members = text[text.index("Phone set members") : text.index("PhoneSet.silences")]
    return re.findall(r"^\s*\(([a-z#]+)(?:\s+[-+0-9a-z]){8}\s*\)", members, re.M)


def test_every_festival_phone_maps_into_phones():
    phones = _festival_phones()
    assert set(RADIO_SET) <= set(phones)
    for p in phones:
        assert FESTIVAL_TO_PHONE[p] in PHONES


def test_phone_set_shape():
    assert PHONES[0] == "sil"
    assert len(PHONES) == len(set(PHONES)) == 41
    assert set(PHONE_INFO) == set(PHONES)
    assert set(FESTIVAL_TO_PHONE.values()) == set(PHONES)  # every class is reachable from Festival
    assert PHONE_INFO["sh"] == ("ʃ", "she")
    assert describe("zh") == "/ʒ/ as in 'measure'"


@pytest.mark.parametrize(
    "label, phone",
    [("pau", "sil"), ("h#", "sil"), ("axr", "er"), ("dx", "t"), ("SH", "sh"), ("AH0", "ax"),
     ("AH1", "ah"), ("er0", "er"), ("sp", "sil"), ("", "sil"), ("en", "n"), ("hv", "hh")],
)
def test_to_phone(label, phone):
    assert to_phone(label) == phone


@pytest.mark.parametrize("bad", ["xx", "q", "ah3", "s h"])
def test_unknown_phone_raises(bad):
    with pytest.raises(PhoneError, match="Unknown phone"):
        to_phone(bad)
    with pytest.raises(PhoneError, match="Unknown phone"):
        phone_index(bad)


def test_phone_index():
    assert phone_index("sil") == 0
    assert [phone_index(p) for p in PHONES] == list(range(len(PHONES)))


# --- label files ----------------------------------------------------------------------------


def test_lab_round_trip(tmp_path):
    path = write_lab(tmp_path / "a.lab", SEGS)
    assert path.read_text().splitlines()[1] == "0.22 0.2569 dh"
    assert read_lab(path) == SEGS


def test_lab_htk_units(tmp_path):
    (tmp_path / "h.lab").write_text("0 2200000 sil\n2200000 2569000 dh -12.5 the\n2569000 2919000 AH0\n")
    assert read_lab(tmp_path / "h.lab") == [
        Segment(0.0, 0.22, "sil"), Segment(0.22, 0.2569, "dh"), Segment(0.2569, 0.2919, "ax")
    ]


def test_lab_small_integers_are_seconds(tmp_path):
    (tmp_path / "s.lab").write_text("0 1 sil\n1 3 s\n")
    assert read_lab(tmp_path / "s.lab") == [Segment(0.0, 1.0, "sil"), Segment(1.0, 3.0, "s")]


def test_festival_segs(tmp_path):
    (tmp_path / "f.segs").write_text("#\n0.2200 100 pau\n0.2569 100 dh\n0.2919 100 ax\n0.3890 100 axr\n")
    expected = [Segment(0.0, 0.22, "sil"), Segment(0.22, 0.2569, "dh"),
                Segment(0.2569, 0.2919, "ax"), Segment(0.2919, 0.389, "er")]
    assert read_festival_segs(tmp_path / "f.segs") == expected
    assert read_lab(tmp_path / "f.segs") == expected  # recognised by its '#' line
    raw = read_festival_segs(tmp_path / "f.segs", map_phones=False)
    assert [s.phone for s in raw] == ["pau", "dh", "ax", "axr"]


def test_textgrid_round_trip(tmp_path):
    path = write_textgrid(tmp_path / "a.TextGrid", SEGS)
    back = read_textgrid(path)
    assert [s.phone for s in back] == [s.phone for s in SEGS]
    np.testing.assert_allclose([(s.start, s.end) for s in back], [(s.start, s.end) for s in SEGS], atol=1e-9)
    with pytest.raises(PhoneError, match="no interval tier 'words'"):
        read_textgrid(path, tier="words")


def test_textgrid_blank_intervals_are_silence(tmp_path):
    path = write_textgrid(tmp_path / "g.TextGrid", [Segment(0.1, 0.2, "s"), Segment(0.3, 0.4, "iy")])
    assert [s.phone for s in read_textgrid(path)] == ["sil", "s", "sil", "iy"]
    assert [s.phone for s in read_textgrid(path, map_phones=False)] == ["s", "iy"]


@pytest.mark.parametrize(
    "text, match",
    [
        ("", "no segments"),
        ("0.0 0.1\n", "line 1: expected 'START END PHONE'"),
        ("0.0 0.1 sil\n0.1 abc s\n", "line 2: the times"),
        ("0.0 0.1 sil\n0.1 0.2 qq\n", "line 2: Unknown phone 'qq'"),
        ("0.0 0.3 sil\n0.2 0.4 s\n", "starts before the previous one ends"),
        ("0.3 0.2 s\n", "0 <= start <= end"),
        ("#\n0.1 100 pau\nnan 100 s\n", "not a finite number"),
        ("#\n0.1 100 pau\n0.2 s\n", "expected 'END_TIME COLOUR PHONE'"),
    ],
)
def test_bad_lab_files(tmp_path, text, match):
    (tmp_path / "bad.lab").write_text(text)
    with pytest.raises(PhoneError, match=match):
        read_lab(tmp_path / "bad.lab")


def test_bad_files_of_other_kinds(tmp_path):
    with pytest.raises(PhoneError, match="does not exist"):
        read_lab(tmp_path / "missing.lab")
    (tmp_path / "bin.lab").write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(PhoneError, match="not a text label file"):
        read_lab(tmp_path / "bin.lab")
    (tmp_path / "x.segs").write_text("0.1 100 pau\n")
    with pytest.raises(PhoneError, match="no '#' line"):
        read_festival_segs(tmp_path / "x.segs")
    (tmp_path / "x.TextGrid").write_text("this is not a TextGrid\n")
    with pytest.raises(PhoneError, match="not a readable Praat TextGrid"):
        read_textgrid(tmp_path / "x.TextGrid")
    with pytest.raises(PhoneError, match="without spaces"):
        write_lab(tmp_path / "y.lab", [Segment(0.0, 0.1, "s h")])


# --- frame labels ---------------------------------------------------------------------------

# Frame t has its centre at t*0.01 + 0.0125 s: frame 1 at 0.0225, frame 2 at 0.0325, ...
EDGE = [Segment(0.0, 0.0225, "sil"), Segment(0.0225, 0.0526, "s"), Segment(0.0526, 0.0624, "sh")]


def test_frame_label_on_a_boundary_belongs_to_the_later_segment():
    labels = frame_labels(EDGE, 7)
    assert labels.dtype == np.int16 and labels.shape == (7,)
    names = [PHONES[i] for i in labels]
    # centres 0.0125 | 0.0225 (on the boundary) | 0.0325 0.0425 0.0525 (just before 0.0526)
    # | 0.0625 (just after 0.0624, past the end) | 0.0725 (past the end)
    assert names == ["sil", "s", "s", "s", "s", "sh", "sh"]


def test_frame_labels_just_after_a_boundary():
    segs = [Segment(0.0, 0.0224, "sil"), Segment(0.0224, 0.05, "z")]
    assert [PHONES[i] for i in frame_labels(segs, 2)] == ["sil", "z"]


def test_every_frame_gets_a_label_and_matches_brute_force():
    rng = np.random.default_rng(0)
    ends = np.sort(rng.uniform(0.0, 2.0, 40)).round(4)
    starts = np.concatenate([[0.0], ends[:-1]])
    phones = rng.choice(PHONES, size=40)
    segs = [Segment(float(a), float(b), str(p)) for a, b, p in zip(starts, ends, phones, strict=True)]
    n = 230  # centres up to 2.3025 s, past the last end
    labels = frame_labels(segs, n)
    for t in range(n):
        centre = t * 0.01 + 0.0125
        inside = [s for s in segs if s.start <= centre + 1e-9 and centre < s.end - 1e-9]
        expected = inside[-1].phone if inside else segs[-1].phone
        assert PHONES[labels[t]] == expected, t


def test_frame_labels_other_window():
    segs = [Segment(0.0, 0.05, "sil"), Segment(0.05, 0.1, "f")]
    # winlen 0.04: centres 0.02, 0.04, 0.06, ...
    assert [PHONES[i] for i in frame_labels(segs, 3, winlen=0.04, winstep=0.02)] == ["sil", "sil", "f"]


def test_frame_states_are_thirds():
    segs = [Segment(0.0, 0.0125, "sil"), Segment(0.0125, 0.0425, "aa")]  # aa: 30 ms, thirds of 10 ms
    # centres 0.0125 (start of aa: 0), 0.0225 (exactly 1/3: 1), 0.0325 (2/3: 2), 0.0425 (past end: 2)
    assert frame_states(segs, 4).tolist() == [0, 1, 2, 2]
    assert frame_states(segs, 4).dtype == np.int8
    assert [PHONES[i] for i in frame_labels(segs, 4)] == ["aa"] * 4


def test_frame_labels_errors():
    with pytest.raises(PhoneError, match="no segments"):
        frame_labels([], 5)
    with pytest.raises(PhoneError, match="Unknown phone 'pau'"):
        frame_labels([Segment(0.0, 1.0, "pau")], 5)  # raw Festival names must be mapped first


def test_a_phone_table_reads_its_fields_and_names_a_bad_row(tmp_path):
    """The tables the phone sets come from: '-' is an empty field, lists are space-separated, '#'
    starts a comment (not inside a row: Festival's h# is a phone); a row that is not 5 fields names
    its file and line."""
    import pytest

    from core.phones.sets import _read_table

    table = tmp_path / "xx.tsv"
    table.write_text("# a comment\nsil\t-\t(silence)\tpau h#\tsp spn\n\na\ta\tcat\t-\t-\n")
    assert _read_table(table) == (("sil", "", "(silence)", "pau h#", ("sp", "spn")), ("a", "a", "cat", "", ()))
    table.write_text("sil\t-\t(silence)\tpau\tsp\nb\tb\tbuy\n")
    with pytest.raises(ValueError, match=r"xx\.tsv:2: a row is 5 tab-separated fields"):
        _read_table(table)

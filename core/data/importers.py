"""Importing a real, phone-labelled speech corpus into this project's corpus format.

``import_corpus(src, dst, fmt)`` (``python -m core import-corpus --format timit|textgrid SRC DIR``)
writes what ``core.data.synth`` writes for a synthetic corpus: ``<id>.wav`` (16 kHz mono 16-bit PCM,
converted by ``core.audio.load_audio``: channels averaged, any rate from 8 to 96 kHz resampled),
``<id>.lab`` (``core.phones.write_lab``: ``START END PHONE`` in seconds, phones of
``core.phones.PHONES``) and ``manifest.csv`` (``id,voice,text,seconds,source``), so
``load_corpus``, ``train speech --corpus DIR`` and the dashboard read it like any other.

Formats:

- ``timit``: the TIMIT layout, ``SRC/{TRAIN,TEST}/DR*/<SPEAKER>/<UTT>.WAV`` with ``<UTT>.PHN``
  (one ``START_SAMPLE END_SAMPLE PHONE`` line per phone, in samples of the audio file) and
  optionally ``<UTT>.TXT`` (``START END text``). Any folder depth works and names are matched in
  any case. The audio is ``<UTT>.WAV`` in NIST SPHERE (libsndfile reads uncompressed SPHERE; a
  shorten-compressed one is refused with a message to convert it with ``sph2pipe``) or a RIFF
  WAV, also as ``<UTT>.WAV.wav`` (a common converted layout). ``voice`` is the speaker folder
  (e.g. ``fcjf0``); ids are the lower-cased path below SRC, e.g. ``train_dr1_fcjf0_sa1``.
- ``textgrid``: Praat TextGrids as the Montreal Forced Aligner writes them, anywhere below SRC,
  with the audio of the same name (``.wav``, ``.flac``, ``.ogg``, ``.mp3``, any case) at the same
  relative path below ``audio_dir`` (default SRC), or, if not there, anywhere below it with the
  same file name (it must then be unique). The phones tier is the interval tier called ``phones``
  or ``phone`` or whose name ends in `` - phones`` (MFA with speakers), or ``tier``. Phones are
  ARPAbet with or without stress (MFA's ``english_us_arpa`` model), read through
  ``core.phones.to_phone`` (``AH0`` = ``ax``, ``sil`` / ``sp`` / ``spn`` / blank = ``sil``); MFA's
  IPA models (``english_mfa``) are refused with a message naming the file. ``voice`` is the first
  folder below SRC (MFA's speaker folder), or SRC's own name; ``text`` joins the words tier.

TIMIT's 61 phones fold into ours by ``TIMIT_TO_PHONE`` (the usual 61 -> 39 folding of Lee & Hon,
1989, except that schwa ``ax`` stays apart from ``ah`` as in our set and flaps go to ``t`` as in
``core.phones``):

    iy ih eh ae aa ah ao uh uw er ax ey ay oy aw ow p b t d k g ch jh f v th dh s z sh zh hh
    m n ng l r w y   -> themselves
    ix -> ih   ux -> uw   ax-h -> ax   axr -> er   dx -> t   hv -> hh   em -> m   en, nx -> n
    eng -> ng  el -> l    pau, epi, h# -> sil
    bcl dcl gcl pcl tcl kcl (closures) -> the stop or affricate that follows them (TIMIT labels
        a stop's closure and release apart, Festival and CMUdict as one phone, so the closure is
        merged into it: "kcl k" is one k); a closure with no release after it -> its own stop
        (bcl b, dcl d, gcl g, pcl p, tcl t, kcl k)
    q (glottal stop, no phone of ours) -> merged into the next segment (the previous at the end)

Adjacent silences are merged into one. Times: sample indices / the audio file's rate; a label
file that ends more than ``TOLERANCE_S`` after the audio is refused (wrong pairing), otherwise
the last segment is cut at the audio's end.

Every problem is one ``CorpusImportError`` naming the file, raised while checking every label
file and every audio header, before anything is written; ``dst`` must not already hold a corpus.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import soundfile as sf

from core.audio import SAMPLE_RATE, AudioError, load_audio, write_wav
from core.data.corpus import MANIFEST
from core.data.frames import CorpusError
from core.phones import SILENCE, PhoneError, Segment, read_textgrid, write_lab

Format = Literal["timit", "textgrid"]
FORMATS: tuple[str, ...] = ("timit", "textgrid")
TOLERANCE_S = 0.05
MAX_SECONDS = 600.0
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")

_CLOSURES = {"bcl": "b", "dcl": "d", "gcl": "g", "pcl": "p", "tcl": "t", "kcl": "k"}
_RELEASES = {"b", "d", "g", "p", "t", "k", "ch", "jh"}
TIMIT_TO_PHONE: dict[str, str] = {
    **{
        p: p
        for p in (
            "iy ih eh ae aa ah ao uh uw er ax ey ay oy aw ow p b t d k g ch jh f v th dh s z sh zh "
            "hh m n ng l r w y"
        ).split()
    },
    "ix": "ih",
    "ux": "uw",
    "ax-h": "ax",
    "axr": "er",
    "dx": "t",
    "hv": "hh",
    "em": "m",
    "en": "n",
    "nx": "n",
    "eng": "ng",
    "el": "l",
    "pau": SILENCE,
    "epi": SILENCE,
    "h#": SILENCE,
    **_CLOSURES,
}
"""Each of TIMIT's 61 phones -> its class in ``core.phones.PHONES`` (closures: when unreleased;
``q`` is merged into a neighbour instead, see the module docstring)."""


class CorpusImportError(CorpusError):
    """A corpus to import whose layout or files cannot be used; the message names the file."""


@dataclass(frozen=True)
class ImportResult:
    """What ``import_corpus`` wrote: the manifest, utterances, seconds of audio, voices."""

    manifest: Path
    utterances: int
    seconds: float
    voices: tuple[str, ...]


@dataclass(frozen=True)
class _Item:
    uid: str
    audio: Path
    labels: Path
    voice: str
    text: str
    segments: tuple[Segment, ...]


# ---------------------------------------------------------------------------------------------
# TIMIT


def fold_timit(rows: list[tuple[float, float, str]], where: str) -> list[Segment]:
    """Segments in our phone set from TIMIT (start s, end s, phone) rows (see module docstring)."""
    out: list[list] = []  # [start, end, phone]
    pending: float | None = None  # start of a q waiting for the next segment
    for k, (start, end, raw) in enumerate(rows):
        label = raw.lower()
        if label == "q":
            if pending is None:
                pending = start
            continue
        if label in _CLOSURES:
            nxt = rows[k + 1][2].lower() if k + 1 < len(rows) else ""
            phone = TIMIT_TO_PHONE.get(nxt) if nxt in _RELEASES else _CLOSURES[label]
        elif label in TIMIT_TO_PHONE:
            phone = TIMIT_TO_PHONE[label]
        else:
            raise CorpusImportError(f"{where}: unknown TIMIT phone {raw!r} in line {k + 1}.")
        if pending is not None:
            start, pending = pending, None
        prev = out[-1] if out else None
        merge = (
            prev is not None
            and prev[2] == phone
            and (phone == SILENCE or rows[k - 1][2].lower() in _CLOSURES)
        )
        if merge:
            prev[1] = end
        else:
            out.append([start, end, phone])
    if pending is not None and out:
        out[-1][1] = rows[-1][1]
    if not out:
        raise CorpusImportError(f"{where} holds no phones.")
    try:
        return [Segment(a, b, p) for a, b, p in out]
    except PhoneError as exc:
        raise CorpusImportError(f"{where}: {exc}") from None


def _read_phn(path: Path, rate: int) -> list[Segment]:
    try:
        lines = path.read_text(encoding="utf-8", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError):
        raise CorpusImportError(f"{path} is not a readable text file.") from None
    rows = []
    for n, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 3 or not fields[0].isdigit() or not fields[1].isdigit():
            raise CorpusImportError(
                f"{path}, line {n}: expected 'START_SAMPLE END_SAMPLE PHONE', got {line.strip()!r}."
            )
        a, b = int(fields[0]), int(fields[1])
        if b < a or (rows and a < round(rows[-1][1] * rate)):
            raise CorpusImportError(
                f"{path}, line {n}: the samples {a} {b} go backwards or overlap the line before."
            )
        rows.append((a / rate, b / rate, fields[2]))
    if not rows:
        raise CorpusImportError(f"{path} holds no phones.")
    return fold_timit(rows, str(path))


def _find(folder: Path, stem: str, suffixes: tuple[str, ...]) -> Path | None:
    names = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for suf in suffixes:
        if (stem + suf).lower() in names:
            return names[(stem + suf).lower()]
    return None


def _timit_items(src: Path) -> list[_Item]:
    phns = sorted(p for p in src.rglob("*") if p.suffix.lower() == ".phn" and p.is_file())
    if not phns:
        raise CorpusImportError(
            f"{src} holds no TIMIT .PHN label files (expected e.g. "
            f"{src / 'TRAIN' / 'DR1' / 'FCJF0' / 'SA1.PHN'})."
        )
    items = []
    for phn in phns:
        audio = _find(phn.parent, phn.stem, (".wav.wav", ".wav", ".flac"))
        if audio is None:
            raise CorpusImportError(f"{phn} has no audio file {phn.stem}.WAV next to it.")
        rate, _ = _audio_header(audio)
        txt = _find(phn.parent, phn.stem, (".txt",))
        text = ""
        if txt is not None:
            try:
                words = txt.read_text(encoding="utf-8", errors="replace").split()
            except OSError:
                raise CorpusImportError(f"{txt} is not readable.") from None
            text = " ".join(
                words[2:] if len(words) >= 2 and words[0].isdigit() and words[1].isdigit() else words
            )
        rel = phn.relative_to(src).with_suffix("")
        items.append(_Item(_uid(rel), audio, phn, phn.parent.name.lower(), text, tuple(_read_phn(phn, rate))))
    return items


# ---------------------------------------------------------------------------------------------
# TextGrid (Montreal Forced Aligner)


def _phones_tier(path: Path, tier: str | None) -> str:
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=True)
    except Exception as exc:  # praatio raises many types for malformed files
        raise CorpusImportError(f"{path} is not a readable Praat TextGrid ({type(exc).__name__}).") from None
    names = [n for n in tg.tierNames if isinstance(tg.getTier(n), IntervalTier)]
    if tier is not None:
        if tier not in names:
            raise CorpusImportError(
                f"{path} has no interval tier {tier!r}; its tiers are: {', '.join(names) or 'none'}."
            )
        return tier
    for n in names:
        low = n.strip().lower()
        if low in ("phones", "phone") or low.endswith(" - phones"):
            return n
    raise CorpusImportError(
        f"{path} has no phones tier; its interval tiers are: {', '.join(names) or 'none'} "
        "(name one with --tier)."
    )


def _words(path: Path) -> str:
    from praatio import textgrid

    tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=False)
    for n in tg.tierNames:
        low = n.strip().lower()
        if low in ("words", "word") or low.endswith(" - words"):
            return " ".join(
                e.label.strip()
                for e in tg.getTier(n).entries
                if e.label.strip() and e.label.strip() not in ("<eps>", "sil", "sp", "spn")
            )
    return ""


def _read_textgrid(path: Path, tier: str | None) -> list[Segment]:
    name = _phones_tier(path, tier)
    try:
        segs = read_textgrid(path, tier=name)
    except PhoneError as exc:
        msg = str(exc)
        if re.search(r"'[^']*[^\x00-\x7f][^']*'", msg):
            msg += " These are IPA phones: align with MFA's english_us_arpa model (ARPAbet) instead."
        raise CorpusImportError(f"{path}: {msg}") from None
    merged: list[Segment] = []
    for s in segs:
        if merged and merged[-1].phone == SILENCE == s.phone:
            merged[-1] = Segment(merged[-1].start, s.end, SILENCE)
        else:
            merged.append(s)
    return merged


def _textgrid_items(src: Path, audio_dir: Path, tier: str | None) -> list[_Item]:
    grids = sorted(p for p in src.rglob("*") if p.suffix.lower() == ".textgrid" and p.is_file())
    if not grids:
        raise CorpusImportError(f"{src} holds no .TextGrid files.")
    if not audio_dir.is_dir():
        raise CorpusImportError(f"The audio folder {audio_dir} does not exist.")
    by_name: dict[str, list[Path]] = {}
    for p in audio_dir.rglob("*"):
        if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file():
            by_name.setdefault(p.stem.lower(), []).append(p)
    items = []
    for grid in grids:
        rel = grid.relative_to(src)
        folder = audio_dir / rel.parent
        audio = _find(folder, grid.stem, AUDIO_SUFFIXES) if folder.is_dir() else None
        if audio is None:
            found = by_name.get(grid.stem.lower(), [])
            if len(found) > 1:
                raise CorpusImportError(
                    f"{grid}: several audio files are called {grid.stem} "
                    f"({found[0]}, {found[1]}); keep the TextGrids in the audio's folders."
                )
            if not found:
                raise CorpusImportError(f"{grid} has no audio file {grid.stem}.wav or .flac in {audio_dir}.")
            audio = found[0]
        _audio_header(audio)
        voice = rel.parts[0] if len(rel.parts) > 1 else src.resolve().name
        segments = tuple(_read_textgrid(grid, tier))  # checks the file before its words are read
        items.append(_Item(_uid(rel.with_suffix("")), audio, grid, voice, _words(grid), segments))
    return items


# ---------------------------------------------------------------------------------------------
# Shared


def _uid(rel: Path) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", "_".join(rel.parts)).strip("_").lower()


def _audio_header(path: Path) -> tuple[int, float]:
    """(sample rate, seconds) of an audio file, or CorpusImportError naming it."""
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        hint = ""
        try:
            head = path.read_bytes()[:1024]
        except OSError:
            head = b""
        if head.startswith(b"NIST_1A"):
            hint = (
                " It is NIST SPHERE, probably shorten-compressed, which libsndfile cannot read; convert "
                "it first, e.g. `sph2pipe -f wav IN OUT`."
            )
        raise CorpusImportError(
            f"{path} could not be read as audio ({' '.join(str(exc).split())}).{hint}"
        ) from None
    if info.frames <= 0 or info.samplerate <= 0:
        raise CorpusImportError(f"{path} holds no audio.")
    if "shorten" in (info.extra_info or "").lower():
        raise CorpusImportError(
            f"{path} is shorten-compressed NIST SPHERE; convert it first, e.g. `sph2pipe -f wav IN OUT`."
        )
    return int(info.samplerate), info.frames / info.samplerate


def _check_times(item: _Item, seconds: float) -> tuple[Segment, ...]:
    segs = item.segments
    if segs[-1].end > seconds + TOLERANCE_S:
        raise CorpusImportError(
            f"{item.labels} ends at {segs[-1].end:.3f} s but its audio {item.audio.name} "
            f"lasts {seconds:.3f} s; is it the right audio file?"
        )
    if segs[0].start >= seconds:
        raise CorpusImportError(f"{item.labels} starts after the end of its audio {item.audio.name}.")
    kept = [s for s in segs if s.start < seconds]
    last = kept[-1]
    kept[-1] = Segment(last.start, min(last.end, seconds), last.phone)
    return tuple(kept)


def import_corpus(
    src: str | Path,
    dst: str | Path,
    fmt: str,
    *,
    tier: str | None = None,
    audio_dir: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Convert the corpus at ``src`` (``fmt`` "timit" or "textgrid") into ``dst`` (see module docstring).

    tier: the TextGrid tier with the phones (default: found by name). audio_dir: where the
    TextGrids' audio lies (default ``src``). progress(done, total) after every 50 utterances and
    at the end. Returns what was written.
    """
    src, dst = Path(src), Path(dst)
    if fmt not in FORMATS:
        raise CorpusImportError(f"Unknown corpus format {fmt!r}; use one of {', '.join(FORMATS)}.")
    if not src.is_dir():
        raise CorpusImportError(f"The corpus folder {src} does not exist.")
    if (dst / MANIFEST).exists():
        raise CorpusImportError(f"{dst} already holds a corpus ({MANIFEST}); choose a new folder.")
    if dst.exists() and not dst.is_dir():
        raise CorpusImportError(f"{dst} is a file, not a folder.")
    if fmt == "timit":
        items = _timit_items(src)
    else:
        items = _textgrid_items(src, Path(audio_dir) if audio_dir is not None else src, tier)
    seen: dict[str, Path] = {}
    for it in items:
        if it.uid in seen:
            raise CorpusImportError(f"{it.labels} and {seen[it.uid]} would both become utterance {it.uid}.")
        seen[it.uid] = it.labels
        _check_times(it, _audio_header(it.audio)[1])

    dst.mkdir(parents=True, exist_ok=True)
    rows, total = [], 0.0
    for k, it in enumerate(items):
        try:
            audio = load_audio(it.audio, max_seconds=MAX_SECONDS)
        except AudioError as exc:
            raise CorpusImportError(f"{it.audio}: {exc}") from None
        seconds = len(audio) / SAMPLE_RATE
        write_wav(dst / f"{it.uid}.wav", audio)
        write_lab(dst / f"{it.uid}.lab", _check_times(it, seconds))
        rows.append([it.uid, it.voice, it.text, f"{seconds:.4f}", str(it.labels.relative_to(src))])
        total += seconds
        if progress is not None and (k + 1 == len(items) or (k + 1) % 50 == 0):
            progress(k + 1, len(items))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "voice", "text", "seconds", "source"])
    writer.writerows(rows)
    tmp = dst / (MANIFEST + ".tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8", newline="")
    os.replace(tmp, dst / MANIFEST)
    return ImportResult(dst / MANIFEST, len(rows), total, tuple(sorted({r[1] for r in rows})))

"""Label files: ``Segment`` (one labelled stretch of audio) and the readers and writers of .lab,
Festival segments and Praat TextGrid files.

Label file formats (times in seconds unless stated):

- Our ``.lab`` (``write_lab``): one segment per line, ``START END PHONE``, seconds written with a
  decimal point, e.g. ``0.22 0.2569 dh``; segments in time order, not overlapping.
- HTK ``.lab`` (``read_lab``): the same layout in integer units of 100 ns. Rule, per file: when
  every time in the file is written as an integer (digits only) and the largest exceeds 10^4, all
  times are 100-ns units (``2200000`` = 0.22 s); otherwise they are seconds. Fields after the
  phone (HTK scores, word labels) are ignored.
- Festival's ``utt.save.segs`` (``read_festival_segs``, also recognised by ``read_lab``): header
  lines up to a line ``#``, then ``END_TIME COLOUR PHONE`` per line (end times only, in seconds;
  the first segment starts at 0, each next one where the previous ended).
- Praat TextGrid through praatio (``write_textgrid``, ``read_textgrid``): one interval tier;
  blank intervals read as ``sil``.

Readers map every label to a class of their ``phone_set`` (English by default) with its
``to_phone`` (``map_phones=True``); the English set also accepts CMUdict/ARPAbet spellings with stress digits (``AH0`` = ``ax``, ``SH`` = ``sh``) and
aligner silences (``sp``, ``spn``, blank).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.phones.sets import PhoneError, PhoneSet, get_phone_set

_TICKS = 10_000_000  # 100-ns units per second
_HTK_MIN = 10_000  # integers above this in a .lab are 100-ns units


@dataclass(frozen=True)
class Segment:
    """One labelled stretch of audio: ``[start, end)`` in seconds."""

    start: float
    end: float
    phone: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)):
            raise PhoneError(f"Segment {self.phone!r} has a time that is not a finite number.")
        if self.start < 0 or self.end < self.start:
            raise PhoneError(
                f"Segment {self.phone!r} must satisfy 0 <= start <= end, got {self.start} .. {self.end}."
            )

    @property
    def duration(self) -> float:
        return self.end - self.start




def _read_text(path: str | Path) -> tuple[Path, list[str]]:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PhoneError(f"Label file {path} does not exist.") from None
    except (UnicodeDecodeError, IsADirectoryError):
        raise PhoneError(f"{path.name} is not a text label file.") from None
    return path, text.splitlines()


def _check_order(segments: Sequence[Segment], where: str) -> None:
    if not segments:
        raise PhoneError(f"{where} contains no segments.")
    for prev, seg in zip(segments, segments[1:], strict=False):
        if seg.start < prev.end - 1e-7:
            raise PhoneError(
                f"{where}: segment {seg.phone!r} at {seg.start} s starts before the previous one "
                f"ends ({prev.end} s); segments must be in time order without overlap."
            )


def _label(raw: str, map_phones: bool, phone_set: PhoneSet | None = None) -> str:
    return get_phone_set(phone_set).to_phone(raw) if map_phones else raw


def read_lab(path: str | Path, map_phones: bool = True, phone_set: PhoneSet | None = None) -> list[Segment]:
    """Segments of an HTK-style ``.lab`` file (seconds or 100-ns integers; see module docstring).

    A file with a line ``#`` is read as Festival segments (``read_festival_segs``).
    With ``map_phones`` every label goes through ``phone_set.to_phone`` (English by default);
    unknown labels raise PhoneError.
    """
    path, lines = _read_text(path)
    if any(line.strip() == "#" for line in lines):
        return read_festival_segs(path, map_phones=map_phones, phone_set=phone_set)
    rows: list[tuple[str, str, str, int]] = []
    for n, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) < 3:
            raise PhoneError(f"{path.name}, line {n}: expected 'START END PHONE', got {line.strip()!r}.")
        rows.append((fields[0], fields[1], fields[2], n))
    if not rows:
        raise PhoneError(f"{path.name} contains no segments.")
    integers = all(r[0].isdigit() and r[1].isdigit() for r in rows)
    htk = integers and max(max(int(r[0]), int(r[1])) for r in rows) > _HTK_MIN
    segments = []
    for a, b, phone, n in rows:
        try:
            start, end = (int(a) / _TICKS, int(b) / _TICKS) if htk else (float(a), float(b))
        except ValueError:
            raise PhoneError(f"{path.name}, line {n}: the times {a!r} {b!r} are not numbers.") from None
        try:
            segments.append(Segment(start, end, _label(phone, map_phones, phone_set)))
        except PhoneError as exc:
            raise PhoneError(f"{path.name}, line {n}: {exc}") from None
    _check_order(segments, path.name)
    return segments


def read_festival_segs(
    path: str | Path, map_phones: bool = True, phone_set: PhoneSet | None = None
) -> list[Segment]:
    """Segments of a Festival ``utt.save.segs`` file (``#``, then ``END_TIME COLOUR PHONE`` lines).

    Start times are reconstructed: the first segment starts at 0, each next one at the previous end.
    """
    path, lines = _read_text(path)
    try:
        body = lines[[line.strip() for line in lines].index("#") + 1 :]
    except ValueError:
        raise PhoneError(f"{path.name} is not a Festival segment file (it has no '#' line).") from None
    segments: list[Segment] = []
    start = 0.0
    for n, line in enumerate(body, start=len(lines) - len(body) + 1):
        fields = line.replace(";", " ").split()
        if not fields:
            continue
        if len(fields) < 3:
            raise PhoneError(
                f"{path.name}, line {n}: expected 'END_TIME COLOUR PHONE', got {line.strip()!r}."
            )
        try:
            end = float(fields[0])
        except ValueError:
            raise PhoneError(f"{path.name}, line {n}: the end time {fields[0]!r} is not a number.") from None
        try:
            segments.append(Segment(start, end, _label(fields[2], map_phones, phone_set)))
        except PhoneError as exc:
            raise PhoneError(f"{path.name}, line {n}: {exc}") from None
        start = end
    _check_order(segments, path.name)
    return segments


def _fmt_time(t: float) -> str:
    """Seconds rounded to 100 ns, always with a decimal point, no exponent: '0.22', '1.0'."""
    s = f"{t:.7f}".rstrip("0")
    return s + "0" if s.endswith(".") else s


def _checked(segments: Iterable[Segment]) -> list[Segment]:
    segs = list(segments)
    for seg in segs:
        if not isinstance(seg, Segment):
            raise PhoneError(f"Expected Segment objects, got {type(seg).__name__}.")
        if not seg.phone or any(c.isspace() for c in seg.phone):
            raise PhoneError(f"Phone label {seg.phone!r} must be non-empty without spaces.")
    _check_order(segs, "The segment list")
    return segs


def write_lab(path: str | Path, segments: Iterable[Segment]) -> Path:
    """Write our ``.lab`` format: ``START END PHONE`` per line, seconds (100-ns precision)."""
    segs = _checked(segments)
    path = Path(path)
    text = "".join(f"{_fmt_time(s.start)} {_fmt_time(s.end)} {s.phone}\n" for s in segs)
    path.write_text(text, encoding="utf-8", newline="\n")
    return path


def write_textgrid(path: str | Path, segments: Iterable[Segment], tier: str = "phones") -> Path:
    """Write a Praat TextGrid (long text format) with one interval tier.

    Zero-length segments are left out (Praat has no empty intervals); gaps stay blank.
    """
    from praatio import textgrid
    from praatio.utilities.constants import Interval

    segs = [s for s in _checked(segments) if s.end > s.start]
    if not segs:
        raise PhoneError("A TextGrid needs at least one segment longer than zero.")
    entries = [Interval(s.start, s.end, s.phone) for s in segs]
    tg = textgrid.Textgrid()
    tg.addTier(textgrid.IntervalTier(tier, entries, 0.0, segs[-1].end))
    path = Path(path)
    tg.save(str(path), format="long_textgrid", includeBlankSpaces=True, reportingMode="silence")
    return path


def read_textgrid(
    path: str | Path, tier: str | None = None, map_phones: bool = True, phone_set: PhoneSet | None = None
) -> list[Segment]:
    """Segments of one interval tier of a Praat TextGrid.

    tier: a tier name; ``None`` takes a tier called ``phones`` or ``phone`` (any case) if there is
    one, else the first interval tier. Blank intervals become ``sil`` when ``map_phones``, and are
    dropped otherwise.
    """
    from praatio import textgrid
    from praatio.data_classes.interval_tier import IntervalTier

    path = Path(path)
    if not path.is_file():
        raise PhoneError(f"TextGrid file {path} does not exist.")
    try:
        tg = textgrid.openTextgrid(str(path), includeEmptyIntervals=True, reportingMode="silence")
    except Exception as exc:  # praatio raises many types for malformed files
        raise PhoneError(f"{path.name} is not a readable Praat TextGrid ({type(exc).__name__}).") from None
    names = [n for n in tg.tierNames if isinstance(tg.getTier(n), IntervalTier)]
    if not names:
        raise PhoneError(f"{path.name} has no interval tier.")
    if tier is None:
        tier = next((n for n in names if n.strip().lower() in ("phones", "phone")), names[0])
    elif tier not in names:
        raise PhoneError(f"{path.name} has no interval tier {tier!r}; its tiers are: {', '.join(names)}.")
    segments = []
    for entry in tg.getTier(tier).entries:
        label = entry.label.strip()
        if not label and not map_phones:
            continue
        try:
            segments.append(
                Segment(float(entry.start), float(entry.end), _label(label, map_phones, phone_set))
            )
        except PhoneError as exc:
            raise PhoneError(f"{path.name}, tier {tier!r}: {exc}") from None
    _check_order(segments, f"{path.name}, tier {tier!r}")
    return segments


"""Phone sets (English, Japanese), label files (.lab, Festival segments, Praat TextGrid) and frame labels.

Phone sets. A ``PhoneSet`` is one object: its classes in model output order, the silence class,
a description, an example and the usual notations of every class, the other spellings it accepts
when reading labels, and the lookups (``index``, ``to_phone``, ``describe``, ``display``, ``labels``
for phone or 3-state targets). Two instances: ``ENGLISH`` and ``JAPANESE``; ``PHONE_SETS`` finds
them by name (``"en"``, ``"ja"``), ``get_phone_set`` by name with a clear error. A model
(``model.json`` ``phone_set``; English when the field is absent, as in the first shipped models), a
corpus (``corpus.json``; English when absent) and a validation set (its ``phones`` array) name
theirs. The module-level names ``PHONES``, ``PHONE_INFO``, ``phone_index``, ``to_phone`` and
``describe`` are the English set's, kept for the English-only callers (CMUdict, Festival).

English. Festival's US voices speak the ``radio`` phone set (``/usr/share/festival/
radio_phones.scm``): the 39 CMUdict/ARPAbet phonemes, the schwa ``ax``, the pause ``pau`` and a
few allophones (``axr dx el em en hv nx``) and markers (``h# brth``) that the CMU lexicon and
Festival's letter-to-sound rules do not produce in practice. ``_EN_TABLE`` below is the one place where
they are folded into the classes a model predicts: ``sil`` + 16 vowels + 24 consonants = 41.
Notations: ARPAbet (CMUdict's upper-case names; schwa = ``AH0``) and IPA.

Japanese. Open JTalk and pyopenjtalk write the phonemes of the HTS Japanese set (the one of
``pyopenjtalk.g2p``): five vowels, devoiced vowels in upper case (``I``, ``U``: folded into the
vowel), ``N`` (moraic nasal), ``cl`` (the closure of a geminate, small ッ), 19 plain consonants,
8 palatalised ones (``ky gy ny hy my ry by py``), and ``pau`` / ``sil`` (both silence). Rare
spellings fold in: ``v`` (ヴ) -> ``b``, ``ty`` (テュ) -> ``t``, ``dy`` (デュ) -> ``d``, ``kw``/``gw``
-> ``k``/``g``. ``_JA_TABLE``: ``sil`` + 5 vowels + N + cl + 27 consonants = 35 classes.
Notations: Hepburn-like romanisation (the class name, which is what pyopenjtalk writes) and kana.
Japanese labels are case-sensitive (``N`` is not ``n``); English ones are not.

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

Frame labels follow docs/ARCHITECTURE.md: frame ``t`` covers ``[t*winstep, t*winstep + winlen)``
and takes the phone whose segment contains its centre ``t*winstep + winlen/2``. A segment owns
``[start, end)``: a centre exactly on a boundary belongs to the later segment. Times are compared
after rounding to 100 ns (HTK's unit), so a boundary written as ``0.0225`` holds the centre of
frame 1 exactly. A centre in a gap between segments (or before the first) takes the following
segment; centres after the last end take the last segment.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from core.text import UserError


class PhoneError(UserError):
    """A phone label or label file a user gave that cannot be used (unknown phone, bad file)."""


# The English table. Row: (class, IPA, example word, Festival radio phones folded into the class,
# other spellings accepted when reading label files). Class order = model output order.
_EN_TABLE: tuple[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    # Silence: pause, utterance-edge marker and breath are all non-speech for a phoneme classifier;
    # aligners write sp (short pause), spn (spoken noise) or a blank label.
    ("sil", "", "(silence)", ("pau", "h#", "brth"), ("sil", "sp", "spn", "")),
    # Vowels (American English values).
    ("iy", "i", "see", ("iy",), ()),
    ("ih", "ɪ", "sit", ("ih",), ()),
    ("eh", "ɛ", "bed", ("eh",), ()),
    ("ae", "æ", "cat", ("ae",), ()),
    ("aa", "ɑ", "father", ("aa",), ()),
    ("ah", "ʌ", "cup", ("ah",), ()),
    ("ao", "ɔ", "thought", ("ao",), ()),
    ("uh", "ʊ", "book", ("uh",), ()),
    ("uw", "u", "blue", ("uw",), ()),
    # axr (r-coloured schwa, 'butter') folds into er, as CMUdict writes it (ER0).
    ("er", "ɝ", "bird", ("er", "axr"), ()),
    # Schwa is kept apart from ah: Festival reduces vowels to ax and it is the most frequent vowel;
    # CMUdict's unstressed AH0 is read as ax.
    ("ax", "ə", "about", ("ax",), ()),
    ("ey", "eɪ", "say", ("ey",), ()),
    ("ay", "aɪ", "my", ("ay",), ()),
    ("oy", "ɔɪ", "boy", ("oy",), ()),
    ("aw", "aʊ", "now", ("aw",), ()),
    ("ow", "oʊ", "go", ("ow",), ()),
    # Stops.
    ("p", "p", "pie", ("p",), ()),
    ("b", "b", "buy", ("b",), ()),
    # dx (flap, 'water') folds into t, as CMUdict writes it.
    ("t", "t", "tie", ("t", "dx"), ()),
    ("d", "d", "die", ("d",), ()),
    ("k", "k", "key", ("k",), ()),
    ("g", "ɡ", "guy", ("g",), ()),
    # Affricates.
    ("ch", "tʃ", "chair", ("ch",), ()),
    ("jh", "dʒ", "joy", ("jh",), ()),
    # Fricatives.
    ("f", "f", "fee", ("f",), ()),
    ("v", "v", "very", ("v",), ()),
    ("th", "θ", "thin", ("th",), ()),
    ("dh", "ð", "this", ("dh",), ()),
    ("s", "s", "sun", ("s",), ()),
    ("z", "z", "zoo", ("z",), ()),
    ("sh", "ʃ", "she", ("sh",), ()),
    ("zh", "ʒ", "measure", ("zh",), ()),
    # hv (voiced h between vowels, 'ahead') folds into hh.
    ("hh", "h", "hat", ("hh", "hv"), ()),
    # Nasals. em (syllabic m), en (syllabic n, 'button') and nx (nasal flap, 'winner') fold into
    # the plain nasal: CMUdict has no syllabic consonants.
    ("m", "m", "man", ("m", "em"), ()),
    ("n", "n", "no", ("n", "en", "nx"), ()),
    ("ng", "ŋ", "sing", ("ng",), ()),
    # Approximants. el (syllabic l, 'bottle') folds into l.
    ("l", "l", "leg", ("l", "el"), ()),
    ("r", "ɹ", "red", ("r",), ()),
    ("w", "w", "we", ("w",), ()),
    ("y", "j", "yes", ("y",), ()),
)


# ARPAbet spelling of each English class (CMUdict's names; the schwa is unstressed AH).
_ARPABET = {"sil": "SIL", "ax": "AH0"}

# The Japanese table. Row: (class, IPA, example word (kana, romanisation), kana, other spellings).
_JA_TABLE: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("sil", "", "(silence)", "", ("pau", "sp", "silB", "silE", "")),
    ("a", "a", "あめ ame", "ア", ("A",)),
    ("i", "i", "いぬ inu", "イ", ("I",)),
    ("u", "ɯ", "うみ umi", "ウ", ("U",)),
    ("e", "e", "えき eki", "エ", ("E",)),
    ("o", "o", "おと oto", "オ", ("O",)),
    ("N", "ɴ", "ほん hoN", "ン", ()),
    ("cl", "ʔ", "きって kitte", "ッ", ("q", "Q")),
    ("k", "k", "かさ kasa", "カ", ("kw",)),
    ("s", "s", "さかな sakana", "サ", ()),
    ("sh", "ɕ", "しお shio", "シ", ()),
    ("t", "t", "たこ tako", "タ", ("ty",)),
    ("ch", "tɕ", "ちず chizu", "チ", ()),
    ("ts", "ts", "つき tsuki", "ツ", ()),
    ("n", "n", "なつ natsu", "ナ", ()),
    ("h", "h", "はな hana", "ハ", ()),
    ("f", "ɸ", "ふね fune", "フ", ()),
    ("m", "m", "まど mado", "マ", ()),
    ("y", "j", "やま yama", "ヤ", ()),
    ("r", "ɾ", "そら sora", "ラ", ()),
    ("w", "w", "わに wani", "ワ", ()),
    ("g", "g", "ごはん gohaN", "ガ", ("gw",)),
    ("z", "dz", "ぞう zoo", "ザ", ()),
    ("j", "dʑ", "じかん jikaN", "ジ", ("zy",)),
    ("d", "d", "だいがく daigaku", "ダ", ("dy",)),
    ("b", "b", "ばす basu", "バ", ("v",)),
    ("p", "p", "ぱん paN", "パ", ()),
    ("ky", "kʲ", "きょう kyoo", "キャ", ()),
    ("gy", "gʲ", "ぎゅうにゅう gyuunyuu", "ギャ", ()),
    ("ny", "ɲ", "こんにゃく koNnyaku", "ニャ", ()),
    ("hy", "ç", "ひゃく hyaku", "ヒャ", ()),
    ("my", "mʲ", "みゃく myaku", "ミャ", ()),
    ("ry", "ɾʲ", "りょこう ryokoo", "リャ", ()),
    ("by", "bʲ", "びょういん byooiN", "ビャ", ()),
    ("py", "pʲ", "はっぴょう happyoo", "ピャ", ()),
)

_STRESSED = re.compile(r"^([a-z]+)[012]$")


@dataclass(frozen=True)
class PhoneInfo:
    """What a class is: ``ipa`` symbol, an ``example`` word, ``notation`` (the language's usual
    phoneme spelling: ARPAbet for English, romanisation for Japanese) and ``native`` (a second
    notation: IPA for English, kana for Japanese; "" for silence)."""

    ipa: str
    example: str
    notation: str
    native: str


@dataclass(frozen=True, eq=False)
class PhoneSet:
    """One phone set: ``phones`` in model output order (``phones[0]`` is ``silence``), ``info`` per
    class, ``aliases`` (other spelling -> class), ``language`` (its English name),
    ``notation_name`` / ``native_name`` (what ``PhoneInfo.notation`` / ``.native`` are), and whether
    labels are matched ignoring case with CMUdict stress digits stripped (English)."""

    name: str
    language: str
    phones: tuple[str, ...]
    silence: str
    info: dict[str, PhoneInfo] = field(repr=False)
    aliases: dict[str, str] = field(repr=False)
    notation_name: str
    native_name: str
    fold_case: bool = False

    def __post_init__(self) -> None:
        if self.phones[0] != self.silence or len(set(self.phones)) != len(self.phones):
            raise PhoneError(f"Phone set {self.name!r}: silence must come first and classes be unique.")
        object.__setattr__(self, "_index", {p: i for i, p in enumerate(self.phones)})

    def __len__(self) -> int:
        return len(self.phones)

    def __contains__(self, phone: object) -> bool:
        return phone in self._index

    def index(self, name: str) -> int:
        """Class index of a class name (exact, e.g. ``"sh"``); PhoneError for anything else."""
        try:
            return self._index[name]
        except (KeyError, TypeError):
            raise PhoneError(
                f"Unknown phone {name!r}; the {self.language} phone set has: {' '.join(self.phones)}."
            ) from None

    def to_phone(self, label: str) -> str:
        """The class of a label in any accepted spelling (class name, alias; for English any case
        and CMUdict stress digits: ``AH0`` -> ``ax``, ``AH1`` -> ``ah``)."""
        key = str(label).strip()
        if key in self._index:
            return key
        if self.fold_case:
            key = key.lower()
            m = _STRESSED.match(key)
            if m:
                key = "ax" if key == "ah0" else m.group(1)
            if key in self._index:
                return key
        try:
            return self.aliases[key]
        except KeyError:
            raise PhoneError(
                f"Unknown phone {label!r}; the {self.language} phone set has: {' '.join(self.phones)}."
            ) from None

    def describe(self, phone: str) -> str:
        """A short human description, e.g. ``"/ʃ/ as in 'she'"``, ``"silence"``."""
        self.index(phone)
        if phone == self.silence:
            return "silence"
        inf = self.info[phone]
        return f"/{inf.ipa}/ as in '{inf.example}'"

    def display(self, phone: str) -> str:
        """The class in the language's usual notations: ``"SH /ʃ/"`` (ARPAbet, IPA), ``"sh シ"``
        (romanisation, kana); ``"SIL"`` / ``"sil"`` for silence."""
        self.index(phone)
        inf = self.info[phone]
        if not inf.native:
            return inf.notation
        return (
            f"{inf.notation} /{inf.native}/" if self.native_name == "IPA" else f"{inf.notation} {inf.native}"
        )

    def labels(self, targets: str = "phone") -> tuple[str, ...]:
        """Output class names: the phones, or each phone's three states ``p_S1, p_S2, p_S3``."""
        if targets == "phone":
            return self.phones
        if targets == "state":
            return tuple(f"{p}_S{s}" for p in self.phones for s in (1, 2, 3))
        raise PhoneError(f"Unknown targets {targets!r}; use 'phone' or 'state'.")


FESTIVAL_TO_PHONE: dict[str, str] = {fest: row[0] for row in _EN_TABLE for fest in row[3]}
"""Every phone of Festival's ``radio`` phone set -> its English class."""

ENGLISH = PhoneSet(
    name="en",
    language="English",
    phones=tuple(row[0] for row in _EN_TABLE),
    silence="sil",
    info={
        row[0]: PhoneInfo(row[1], row[2], _ARPABET.get(row[0], row[0].upper()), row[1]) for row in _EN_TABLE
    },
    aliases={**FESTIVAL_TO_PHONE, **{a: row[0] for row in _EN_TABLE for a in row[4]}},
    notation_name="ARPAbet",
    native_name="IPA",
    fold_case=True,
)
JAPANESE = PhoneSet(
    name="ja",
    language="Japanese",
    phones=tuple(row[0] for row in _JA_TABLE),
    silence="sil",
    info={row[0]: PhoneInfo(row[1], row[2], row[0], row[3]) for row in _JA_TABLE},
    aliases={a: row[0] for row in _JA_TABLE for a in row[4]},
    notation_name="romanisation",
    native_name="kana",
)
PHONE_SETS: dict[str, PhoneSet] = {ps.name: ps for ps in (ENGLISH, JAPANESE)}
"""Phone sets by name; a model / corpus that names none is English."""


def get_phone_set(name: str | PhoneSet | None) -> PhoneSet:
    """The phone set called ``name`` (``"en"``, ``"ja"``; None = English); PhoneError otherwise."""
    if isinstance(name, PhoneSet):
        return name
    if name is None:
        return ENGLISH
    try:
        return PHONE_SETS[name]
    except (KeyError, TypeError):
        raise PhoneError(f"Unknown phone set {name!r}; known: {', '.join(PHONE_SETS)}.") from None


def phone_set_of(phones: Sequence[str]) -> PhoneSet:
    """The phone set whose classes are exactly ``phones`` (in order); PhoneError if none is."""
    key = tuple(str(p) for p in phones)
    for ps in PHONE_SETS.values():
        if ps.phones == key:
            return ps
    raise PhoneError("The phone list matches none of this program's phone sets.")


PHONES: tuple[str, ...] = ENGLISH.phones
"""English class names in model output order; ``PHONES[0] == "sil"``."""

PHONE_INFO: dict[str, tuple[str, str]] = {row[0]: (row[1], row[2]) for row in _EN_TABLE}
"""English class -> (IPA symbol, example word), e.g. ``PHONE_INFO["sh"] == ("ʃ", "she")``."""

SILENCE = "sil"
"""The silence class of every phone set."""

_TICKS = 10_000_000  # 100-ns units per second
_HTK_MIN = 10_000  # integers above this in a .lab are 100-ns units


def phone_index(name: str) -> int:
    """Class index of an English phone name in ``PHONES`` (exact name, e.g. ``"sh"`` -> 31)."""
    return ENGLISH.index(name)


def to_phone(label: str) -> str:
    """The English class for a label in any accepted spelling (``ENGLISH.to_phone``).

    Accepts class names, Festival radio phones (``pau`` -> ``sil``, ``axr`` -> ``er``), CMUdict /
    ARPAbet in any case with a stress digit (``AH0`` -> ``ax``, ``AH1`` -> ``ah``, ``ER0`` ->
    ``er``) and aligner silences (``sp``, ``spn``, blank) -> ``sil``.
    """
    return ENGLISH.to_phone(label)


def describe(phone: str, phone_set: PhoneSet | None = None) -> str:
    """A short human description, e.g. ``"/ʃ/ as in 'she'"``, ``"silence"`` (English by default)."""
    return get_phone_set(phone_set).describe(phone)


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


# ---------------------------------------------------------------------------------------------
# Label files


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


# ---------------------------------------------------------------------------------------------
# Frame labels


def _frame_segments(
    segs: list[Segment], n_frames: int, winlen: float, winstep: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(segment index per frame, centre, start, end of that segment); times in 100-ns ticks."""
    if n_frames < 0:
        raise PhoneError("The number of frames must be 0 or more.")
    if winstep <= 0 or winlen <= 0:
        raise PhoneError("Window length and step must be positive.")
    starts = np.array([round(s.start * _TICKS) for s in segs], dtype=np.int64)
    ends = np.array([round(s.end * _TICKS) for s in segs], dtype=np.int64)
    centres = np.round((np.arange(n_frames) * winstep + winlen / 2) * _TICKS).astype(np.int64)
    idx = np.minimum(np.searchsorted(ends, centres, side="right"), len(segs) - 1)
    return idx, centres, starts[idx], ends[idx]


def frame_labels(
    segments: Iterable[Segment],
    n_frames: int,
    winlen: float = 0.025,
    winstep: float = 0.01,
    phone_set: PhoneSet | None = None,
) -> np.ndarray:
    """(n_frames,) int16 class indices into ``phone_set.phones`` (English by default): the phone
    whose segment holds each frame centre.

    Centre of frame t: ``t*winstep + winlen/2`` s. Boundaries belong to the later segment; centres
    past the last end take the last segment; every frame gets a label. Phones must be classes of
    the phone set.
    """
    ps = get_phone_set(phone_set)
    segs = _checked(segments)
    classes = np.array([ps.index(s.phone) for s in segs], dtype=np.int16)
    idx, _, _, _ = _frame_segments(segs, n_frames, winlen, winstep)
    return classes[idx]


def frame_states(
    segments: Iterable[Segment], n_frames: int, winlen: float = 0.025, winstep: float = 0.01
) -> np.ndarray:
    """(n_frames,) int8 state 0/1/2: the third of its segment in which each frame centre falls.

    A centre at exactly 1/3 (2/3) of the segment is in state 1 (2). Centres before their segment's
    start (gaps) are state 0; centres past the last end, and zero-length segments, are state 2.
    """
    _, centres, start, end = _frame_segments(_checked(segments), n_frames, winlen, winstep)
    length = end - start
    third = np.where(length > 0, (3 * (centres - start)) // np.maximum(length, 1), 2)
    return np.clip(third, 0, 2).astype(np.int8)

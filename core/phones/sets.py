"""Phone sets: English and Japanese, their classes, notations and the spellings they accept.

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
Festival's letter-to-sound rules do not produce in practice. ``en.tsv`` next to this module is the one
place where they are folded into the classes a model predicts: ``sil`` + 16 vowels + 24 consonants = 41.
Notations: ARPAbet (CMUdict's upper-case names; schwa = ``AH0``) and IPA.

Japanese. Open JTalk and pyopenjtalk write the phonemes of the HTS Japanese set (the one of
``pyopenjtalk.g2p``): five vowels, devoiced vowels in upper case (``I``, ``U``: folded into the
vowel), ``N`` (moraic nasal), ``cl`` (the closure of a geminate, small ッ), 19 plain consonants,
8 palatalised ones (``ky gy ny hy my ry by py``), and ``pau`` / ``sil`` (both silence). Rare
spellings fold in: ``v`` (ヴ) -> ``b``, ``ty`` (テュ) -> ``t``, ``dy`` (デュ) -> ``d``, ``kw``/``gw``
-> ``k``/``g``. ``ja.tsv``: ``sil`` + 5 vowels + N + cl + 27 consonants = 35 classes.
Notations: Hepburn-like romanisation (the class name, which is what pyopenjtalk writes) and kana.
Japanese labels are case-sensitive (``N`` is not ``n``); English ones are not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from core.text import UserError


class PhoneError(UserError):
    """A phone label or label file a user gave that cannot be used (unknown phone, bad file)."""


def _read_table(path: Path) -> tuple[tuple[str, str, str, str, tuple[str, ...]], ...]:
    """The rows of a phone table (``core/phones/en.tsv``, ``ja.tsv``), in model output order: (class, IPA, example, a
    notation column (Festival's phones in en.tsv, kana in ja.tsv), other spellings). Lines starting
    with ``#`` are comments; ``-`` is an empty field; the spelling lists are space-separated. The
    blank label is not written there: every set reads it as its silence."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        fields = ["" if f == "-" else f for f in line.split("\t")]
        if len(fields) != 5 or not fields[0]:
            raise ValueError(f"{path}:{number}: a row is 5 tab-separated fields, the first a class; got {line!r}")
        cls, ipa, example, notation, other = fields
        rows.append((cls, ipa, example, notation, tuple(other.split())))
    return tuple(rows)


# English: (class, IPA, example word, Festival radio phones folded into the class, other spellings).
_EN_TABLE = tuple((c, ipa, ex, tuple(fest.split()), other) for c, ipa, ex, fest, other in _read_table(Path(__file__).with_name("en.tsv")))
# ARPAbet spelling of each English class (CMUdict's names; the schwa is unstressed AH).
_ARPABET = {"sil": "SIL", "ax": "AH0"}
# Japanese: (class, IPA, example word (kana, romanisation), kana, other spellings).
_JA_TABLE = _read_table(Path(__file__).with_name("ja.tsv"))
SILENCE = "sil"
"""The silence class of every phone set (the first row of each table)."""

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
    silence=SILENCE,
    info={
        row[0]: PhoneInfo(row[1], row[2], _ARPABET.get(row[0], row[0].upper()), row[1]) for row in _EN_TABLE
    },
    aliases={**FESTIVAL_TO_PHONE, **{a: row[0] for row in _EN_TABLE for a in row[4]}, "": SILENCE},
    notation_name="ARPAbet",
    native_name="IPA",
    fold_case=True,
)
JAPANESE = PhoneSet(
    name="ja",
    language="Japanese",
    phones=tuple(row[0] for row in _JA_TABLE),
    silence=SILENCE,
    info={row[0]: PhoneInfo(row[1], row[2], row[0], row[3]) for row in _JA_TABLE},
    aliases={**{a: row[0] for row in _JA_TABLE for a in row[4]}, "": SILENCE},
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


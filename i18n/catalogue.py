"""The catalogue against the source: which messages the code shows, which are missing, unused or
badly translated; and writing the catalogue file back (``python -m i18n update``).

A message is found by reading the source with ``ast`` (nothing is imported): the first argument of
every call to one of ``MESSAGE_CALLS`` that is a string literal (adjacent literals joined, as Python
joins them). An f-string there is a mistake (it cannot be looked up) and is reported.
"""

from __future__ import annotations

import ast
import re
import string
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("dashboard.py", "screens", "app_state", "core")
"""Files and folders (under the repository root) whose messages the catalogue must hold."""

MESSAGE_CALLS = frozenset({"tr", "N_", "page_start", "digits_page_start"})
"""Calls whose first argument is an English message (page_start translates its title)."""

LANG_FIELDS = ("en", "ja")

_JAPANESE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")


def _source_files(root: Path) -> list[Path]:
    out = []
    for name in SOURCES:
        p = root / name
        out.extend(sorted(p.rglob("*.py")) if p.is_dir() else ([p] if p.exists() else []))
    return out


def find_messages(root: Path = ROOT) -> tuple[dict[str, list[str]], list[str]]:
    """({English message: ["file:line", ...]} in source order, [problems]) of the source under
    ``root``. A problem is a message call whose argument is an f-string."""
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in _source_files(root):
        rel = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            f = node.func
            name = f.id if isinstance(f, ast.Name) else (f.attr if isinstance(f, ast.Attribute) else None)
            if name not in MESSAGE_CALLS:
                continue
            arg = node.args[0]
            where = f"{rel}:{node.lineno}"
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.setdefault(arg.value, []).append(where)
            elif isinstance(arg, ast.JoinedStr):
                problems.append(
                    f"{where}: {name}() of an f-string cannot be translated; "
                    f"use {name}('... {{x}} ...').format(x=...)"
                )
    return found, problems


def fields(text: str) -> set[tuple[str, str]]:
    """The ``{name:spec}`` fields of a format string, as (name, spec) pairs."""
    try:
        return {(n, s or "") for _, n, s, _ in string.Formatter().parse(text) if n is not None}
    except ValueError:
        return {("<not a valid format string>", text)}


def is_japanese(text: str) -> bool:
    """True when the text holds at least one kana, kanji or full-width character."""
    return bool(_JAPANESE.search(text))


@dataclass
class Report:
    """What is wrong between the catalogue and the source (every list empty = all good)."""

    missing: list[str] = field(default_factory=list)  # in the source, not in the catalogue
    unused: list[str] = field(default_factory=list)  # in the catalogue, not in the source
    duplicated: list[str] = field(default_factory=list)
    empty: list[str] = field(default_factory=list)  # "lang: message" with no text
    untranslated: list[str] = field(default_factory=list)  # ja equal to en or without Japanese
    mismatched: list[str] = field(default_factory=list)  # other fields, bold or line breaks
    source: list[str] = field(default_factory=list)  # f-strings in tr()

    def ok(self) -> bool:
        return not any(vars(self).values())

    def lines(self) -> list[str]:
        return [f"{kind}: {item}" for kind, items in vars(self).items() for item in items]


def check(entries, found: dict[str, list[str]], problems: list[str] = ()) -> Report:
    """Compare catalogue ``entries`` (dicts with en, ja) with the messages ``found`` in the source."""
    r = Report(source=list(problems))
    seen: set[str] = set()
    for m in entries:
        en = m.get("en", "")
        if en in seen:
            r.duplicated.append(en)
        seen.add(en)
        for lang in LANG_FIELDS:
            if not str(m.get(lang, "")).strip():
                r.empty.append(f"{lang}: {en!r}")
        ja = str(m.get("ja", ""))
        if not ja.strip():
            continue
        if ja == en or not is_japanese(ja):
            r.untranslated.append(en)
        if fields(ja) != fields(en):
            r.mismatched.append(f"fields {sorted(fields(en))} -> {sorted(fields(ja))}: {en!r}")
        if ja.count("**") != en.count("**") or ja.count("\n") != en.count("\n"):
            r.mismatched.append(f"bold markers or line breaks differ: {en!r}")
    for en, where in found.items():
        if en not in seen:
            r.missing.append(f"{en!r} ({', '.join(where)})")
    r.unused = [en for en in seen if en and en not in found]
    return r


def load(path: Path) -> list[dict[str, str]]:
    with open(path, "rb") as fh:
        return list(tomllib.load(fh).get("message", []))


# ---------------------------------------------------------------------------------------------
# Writing the catalogue (readable: long texts wrapped with TOML's line-ending backslash)


def _escape(text: str) -> str:
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return "".join(out)


def _width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _chunks(text: str, width: int) -> list[str]:
    """Pieces of ``text`` of about ``width`` columns, split only before a non-space character
    that follows a space, a line break, a Japanese punctuation mark or another wide character
    (a continuation line's leading spaces would be dropped by TOML), never before a Japanese
    punctuation mark."""
    pieces, start, col, last_break = [], 0, 0, None
    for i, ch in enumerate(text):
        if i > start and not ch.isspace() and ch not in "、。）」：":
            prev = text[i - 1]
            if prev in " \n、。）」" or (_width(prev) == 2 and _width(ch) == 2):
                last_break = i
        col += _width(ch)
        if col > width and last_break is not None and last_break > start:
            pieces.append(text[start:last_break])
            start, last_break = last_break, None
            col = sum(_width(c) for c in text[start : i + 1])
    pieces.append(text[start:])
    return pieces


def _value(text: str, width: int = 92) -> str:
    one = f'"{_escape(text)}"'
    if len(one) + 5 <= width:
        return one
    body = "\\\n    ".join(_escape(p) for p in _chunks(text, width - 8))
    return f'"""\\\n    {body}"""'


def dumps(entries) -> str:
    """The catalogue file's text for ``entries`` (checked to read back identically)."""
    head = (
        "# Interface messages of dnnlens: one [[message]] per text, keyed by its English (en).\n"
        "# Edit ja here; `python -m i18n update` adds new messages from the source and drops unused ones.\n"
    )
    blocks = []
    for m in entries:
        lines = ["[[message]]"] + [f"{k} = {_value(str(m.get(k, '')))}" for k in LANG_FIELDS]
        blocks.append("\n".join(lines))
    text = head + "\n" + "\n\n".join(blocks) + "\n"
    back = tomllib.loads(text).get("message", [])
    want = [{k: str(m.get(k, "")) for k in LANG_FIELDS} for m in entries]
    if back != want:
        raise AssertionError("the catalogue writer does not round-trip")
    return text


def updated(entries, found: dict[str, list[str]]) -> list[dict[str, str]]:
    """The entries for the messages ``found`` (in source order), keeping every translation; a new
    message gets an empty ja."""
    have = {m["en"]: m for m in entries if m.get("en")}
    return [{"en": en, **{k: have.get(en, {}).get(k, "") for k in LANG_FIELDS if k != "en"}} for en in found]

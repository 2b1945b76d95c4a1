"""``python -m i18n check`` (exit 1 and a list when the catalogue and the source disagree) and
``python -m i18n update`` (add the source's new messages with an empty ja, drop unused ones)."""

from __future__ import annotations

import sys

from i18n import CATALOGUE
from i18n.catalogue import check, dumps, find_messages, load, updated


def main(argv: list[str]) -> int:
    if argv not in (["check"], ["update"]):
        print("usage: python -m i18n check|update", file=sys.stderr)
        return 2
    found, problems = find_messages()
    entries = load(CATALOGUE) if CATALOGUE.exists() else []
    if argv == ["update"]:
        new = updated(entries, found)
        CATALOGUE.write_text(dumps(new), encoding="utf-8")
        before = {m["en"] for m in entries}
        print(f"{len(new)} messages; added {len(set(found) - before)}, dropped {len(before - set(found))}")
        entries = new
    report = check(entries, found, problems)
    for line in report.lines():
        print(line)
    return 0 if report.ok() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

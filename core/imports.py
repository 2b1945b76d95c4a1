"""The import graph of ``core/``, read from the source (``ast``; nothing is imported): the layout
test walks it for cycles and for arrows that point up (tests/test_layout.py), and the Findings'
code fingerprint covers every module a card's computation reaches (``core.findings.shipped``)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

CORE = Path(__file__).resolve().parent
ROOT = CORE.parent


def modules() -> dict[str, Path]:
    """Every module of ``core`` (a package under its own name) and its file."""
    out = {}
    for p in sorted(CORE.rglob("*.py")):
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = p
    return out


def is_shim(path: Path) -> bool:
    """An old path kept for one release: a module that replaces itself in ``sys.modules`` by the
    new one (a top-level assignment to ``sys.modules[__name__]``)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Subscript) and ast.unparse(t) == "sys.modules[__name__]" for t in node.targets
        ):
            return True
    return False


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The modules of ``known`` that ``name`` imports anywhere in its file (functions included)."""
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            # ``from pkg import sub`` imports the submodule; ``from pkg import name``, the package
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        out |= {n for n in names if n in known and n != name}
    return out


def closure(seeds: Iterable[str]) -> tuple[str, ...]:
    """The modules of ``core`` that ``seeds`` reach through their imports (the seeds included),
    sorted."""
    return _closure(tuple(sorted(set(seeds))))


@lru_cache(maxsize=16)
def _closure(seeds: tuple[str, ...]) -> tuple[str, ...]:
    mods = modules()
    known = set(mods)
    seen: set[str] = set()
    todo = [s for s in seeds if s in known]
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(imports(m, mods[m], known) - seen)
    return tuple(sorted(seen))

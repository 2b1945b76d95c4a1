"""The house of ../shared/DESIGN.md (issue 26), checked on the code itself:

- every public name of ``core`` as it was before the move (``tests/data/core_public_names.json``,
  written from commit 66a8241 by reading each module's top-level definitions and, for a package,
  its re-exports) still imports from its old path;
- no import cycle inside ``core/`` (imports inside functions count: a lazy import that only
  avoids a cycle at start-up is still a cycle of the design);
- arrows go down only: no module of the maths imports the charts (``core.viz``) or the commands;
- no module of ``core/`` over 500 lines.

An old path kept for one release is a *shim*: a module whose only work is
``sys.modules[__name__] = <the new module>``, so the old and the new name are the same module
object (patching one patches the other). No module of ``core/`` imports a shim.
"""

from __future__ import annotations

import importlib
import json
import re
from pathlib import Path

import pytest

from core import imports

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "core"
OLD_NAMES = json.loads((Path(__file__).parent / "data" / "core_public_names.json").read_text())
MAX_LINES = 500
UPPER = ("core.viz", "core.commands", "core.cli", "core.__main__")
"""What may read everything below it (the charts, the command line); the maths never import them."""


_modules, _is_shim, _imports = imports.modules, imports.is_shim, imports.imports


def _graph() -> tuple[dict[str, set[str]], set[str]]:
    mods = _modules()
    shims = {m for m, p in mods.items() if _is_shim(p)}
    known = set(mods)
    return {m: _imports(m, p, known) for m, p in mods.items() if m not in shims}, shims


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = 0
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root] & edges.keys())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on.add(w)
                    work.append((w, iter(sorted(edges[w] & edges.keys()))))
                elif w in on:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    x = stack.pop()
                    on.discard(x)
                    comp.append(x)
                    if x == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


@pytest.mark.parametrize("module", sorted(OLD_NAMES))
def test_every_old_public_name_still_imports(module):
    mod = importlib.import_module(module)
    missing = [n for n in OLD_NAMES[module] if not hasattr(mod, n)]
    assert not missing, f"{module}: {missing}"


def test_cycle_finder_finds_a_cycle():
    """The check below can fail: a two-module and a three-module cycle are found, a chain is not."""
    edges = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(_cycles(edges)) == [["a", "b"], ["c", "d", "e"]]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_no_import_cycle_in_core():
    edges, _ = _graph()
    assert _cycles(edges) == []


def test_no_module_of_core_imports_an_old_path():
    edges, shims = _graph()
    mods = _modules()
    known = set(mods)
    bad = {m: sorted(_imports(m, mods[m], known) & shims) for m in edges}
    assert not {m: s for m, s in bad.items() if s}


def test_arrows_go_down_only():
    """The maths never import the charts or the command line (core.viz, core.commands, core.cli)."""
    edges, _ = _graph()

    def upper(m: str) -> bool:
        return any(m == u or m.startswith(u + ".") for u in UPPER)

    bad = {m: sorted(x for x in targets if upper(x)) for m, targets in edges.items() if not upper(m)}
    assert not {m: s for m, s in bad.items() if s}


def test_no_module_of_core_over_500_lines():
    long = {str(p.relative_to(ROOT)): n for p in CORE.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long


def test_one_optimisation_loop():
    """Only core/train/loop.py builds an optimiser or writes its own update step: training,
    adaptation, FC-only retraining and the sanity twin call ``run_adam``."""
    pattern = re.compile(r"torch\.optim\.\w+\(|\.step\(\)|\bp\.data\s*[-+]=|exp_avg")
    found = {str(p.relative_to(ROOT)): pattern.findall(p.read_text()) for p in CORE.rglob("*.py")
             if p != CORE / "train" / "loop.py"}
    assert not {k: v for k, v in found.items() if v}
    assert pattern.search((CORE / "train" / "loop.py").read_text())


def test_app_state_modules_import_the_homes_not_the_old_shared_module():
    """``app_state.shared`` is kept for old imports only: every module of app_state imports the
    module that holds a name (cache, resources, labels, texts, warmup)."""
    bad = [p.name for p in (ROOT / "app_state").glob("*.py")
           if p.name not in ("shared.py", "__init__.py") and re.search(r"app_state\.shared\b|from \. import shared",
                                                                       re.sub(r'"""[\s\S]*?"""', "", p.read_text()))]
    assert not bad


def test_only_this_test_imports_the_old_paths():
    """The shims can go after one release: no other test, no module of core/ and no module of
    app_state/ imports an old path (this file checks every old public name on purpose)."""
    shims = {m for m, p in _modules().items() if _is_shim(p)}
    pattern = re.compile(r"\b(?:from|import) (" + "|".join(re.escape(s) for s in sorted(shims, key=len, reverse=True))
                         + r")\b(?!\.)")
    short = {s.split(".")[1] for s in shims if s.count(".") == 1}
    from_core = re.compile(r"^\s*from core import (.+)$", re.M)
    bad = {}
    for p in [*(ROOT / "tests").rglob("*.py"), *(ROOT / "app_state").glob("*.py"), *(ROOT / "screens").glob("*.py")]:
        if p.name in ("test_layout.py", "shared.py"):
            continue
        text = p.read_text()
        imported = [item.split()[0] for m in from_core.findall(text) for item in m.strip("() ").split(",") if item.split()]
        hits = pattern.findall(text) + [n for n in imported if n in short]
        hits += re.findall(r"\b(?:app_state|S)\.shared\b|from app_state import shared\b", text)
        if hits:
            bad[str(p.relative_to(ROOT))] = hits
    assert not bad

"""The Docker build context and the Dockerfile (docs/DEPLOY.md).

The context is read as Docker's client makes it: every file on disk under the folder (tracked,
untracked and git-ignored alike) less what ``.dockerignore`` leaves out, matched by the Docker SDK
for Python's own implementation of Docker's rules (``docker.utils.build.exclude_paths``, a port of
moby's pattern matcher: patterns anchored at the context's root, ``**``, ``!`` exceptions, the last
matching line wins, a left-out folder takes everything in it). Checked: it holds what ``make run``
needs, derived from the repository (the entry script, the pages it names, the closure of the local
packages they import, every tracked file of those packages and of ``assets/``, the settings, the
requirements, the Makefile and the scripts its ``run`` target calls), and nothing generated (a
fixed list: data/, .venv, .git, caches, bytecode; and whatever .gitignore ignores). The Dockerfile
takes torch only through requirements.txt, starts from Debian bookworm and exposes 8501.
The checks are functions of a folder or a text, so the tests at the end make them fail on purpose.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

from docker.utils.build import exclude_paths

ROOT = Path(__file__).resolve().parents[1]
PORT = "8501"
SETTINGS = (".streamlit/config.toml", "requirements.txt", "Makefile")
DATA_DIRS = ("assets",)  # read at run time by path (models, validation sets, samples, pictures)
GENERATED_TOP = ("data", ".venv", ".git", "screenshots")  # at the root of the repository
GENERATED_ANY = ("__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache", ".ipynb_checkpoints")
GENERATED_SUFFIXES = (".pyc", ".pyo", ".npz.tmp")


# ---- the build context ----------------------------------------------------------------------------

def dockerignore_patterns(root: Path) -> list[str]:
    """The patterns of ``root/.dockerignore`` read as the Docker SDK reads them (lines stripped,
    empty lines and lines starting with # dropped)."""
    path = root / ".dockerignore"
    if not path.is_file():
        return []
    lines = (line.strip() for line in path.read_text().splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def build_context(root: Path) -> set[str]:
    """Relative paths of the files (and symlinks) Docker sends for ``docker build root``."""
    paths = exclude_paths(str(root), dockerignore_patterns(root), dockerfile="Dockerfile")
    return {p for p in paths if os.path.islink(root / p) or not (root / p).is_dir()}


def git_files(root: Path) -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, text=True, check=True)
    return [p for p in out.stdout.split("\0") if p]


# ---- what `make run` needs -------------------------------------------------------------------------

def _imported_tops(source: str) -> set[str]:
    """First components of every absolute import in ``source`` (also imports inside functions)."""
    tops = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            tops.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            tops.add(node.module.split(".")[0])
    return tops


def _page_files(source: str) -> set[str]:
    """The page scripts an entry script names: ``st.Page("screens/home.py", ...)``."""
    pages = set()
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page"
                and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            pages.add(node.args[0].value)
    return pages


def _make_run_scripts(root: Path) -> set[str]:
    """Repository files the Makefile's ``run`` target and its prerequisites' recipes call."""
    make = root / "Makefile"
    if not make.is_file():
        return set()
    rules: dict[str, tuple[list[str], list[str]]] = {}
    target = None
    for line in make.read_text().splitlines():
        m = re.match(r"^([\w.-]+)\s*:(?!=)\s*(.*)$", line)
        if m:
            target = m.group(1)
            rules[target] = (m.group(2).split(), [])
        elif line.startswith("\t") and target:
            rules[target][1].append(line)
    seen, todo, files = set(), ["run"], set()
    while todo:
        t = todo.pop()
        if t in seen or t not in rules:
            continue
        seen.add(t)
        deps, recipe = rules[t]
        todo.extend(deps)
        for line in recipe:
            files.update(w for w in re.findall(r"[\w./-]+", line)
                         if "/" in w and not w.startswith("/") and (root / w).is_file())
    return files


def required_files(root: Path) -> set[str]:
    """Every file ``make run`` needs, derived from the repository at ``root``."""
    tracked = git_files(root)
    local = {p.split("/")[0] for p in tracked if "/" in p and p.endswith("/__init__.py") and p.count("/") == 1}
    local_modules = {p[:-3] for p in tracked if "/" not in p and p.endswith(".py")}
    entry = "dashboard.py"
    need = {entry, *SETTINGS, *_make_run_scripts(root)}
    need.update(p for p in tracked if p.split("/")[0] in DATA_DIRS)
    todo = [entry, *sorted(_page_files((root / entry).read_text()))]
    need.update(todo)
    done_packages: set[str] = set()
    while todo:
        path = todo.pop()
        for top in _imported_tops((root / path).read_text()):
            if top in local_modules:
                if f"{top}.py" not in need:
                    need.add(f"{top}.py")
                    todo.append(f"{top}.py")
            elif top in local and top not in done_packages:
                done_packages.add(top)
                files = [p for p in tracked if p.startswith(f"{top}/")]
                need.update(files)
                todo.extend(p for p in files if p.endswith(".py"))
    return need


# ---- what is generated ------------------------------------------------------------------------------

def generated(paths: set[str], root: Path) -> list[str]:
    """The paths among ``paths`` that a run, a test or a build makes: a fixed list, and whatever the
    repository's .gitignore ignores (tracked files never count as ignored)."""
    bad = set()
    for p in paths:
        parts = p.split("/")
        if (parts[0] in GENERATED_TOP or any(part in GENERATED_ANY for part in parts)
                or p.endswith(GENERATED_SUFFIXES) or parts[-1].startswith(".stamp-")):
            bad.add(p)
    if paths:
        out = subprocess.run(["git", "check-ignore", "--stdin", "-z"], cwd=root, capture_output=True, text=True,
                             input="\0".join(sorted(paths)) + "\0")
        assert out.returncode in (0, 1), out.stderr  # 1: nothing ignored
        bad.update(p for p in out.stdout.split("\0") if p)
    return sorted(bad)


# ---- the Dockerfile ---------------------------------------------------------------------------------

def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of a Dockerfile: comments dropped, continuation lines joined."""
    out, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if current and line.lstrip().startswith("#"):
            continue  # a comment inside a continued instruction
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        word, _, args = current.strip().partition(" ")
        out.append((word.upper(), args.strip()))
        current = ""
    if current.strip():
        word, _, args = current.strip().partition(" ")
        out.append((word.upper(), args.strip()))
    return out


TORCH_VERSION = re.compile(r"\btorch\s*(==|>=|<=|~=|!=|===|<|>|@)\s*[\w$]", re.I)


def dockerfile_problems(text: str, requirements: str) -> list[str]:
    """What is wrong with a Dockerfile for this project, as sentences (empty: nothing)."""
    problems = []
    inst = dockerfile_instructions(text)
    args = {}
    for word, rest in inst:
        if word == "FROM":
            break
        if word == "ARG" and "=" in rest:
            name, _, value = rest.partition("=")
            args[name.strip()] = value.strip()
    stages = set()
    for word, rest in inst:
        if word == "FROM":
            fields = rest.split()
            image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), ""), fields[0])
            if image not in stages and "bookworm" not in image:
                problems.append(f"FROM {fields[0]} is not Debian bookworm ({image!r})")
            if len(fields) == 3 and fields[1].upper() == "AS":
                stages.add(fields[2])
    exposed = {p.split("/")[0] for word, rest in inst if word == "EXPOSE" for p in rest.split()}
    if PORT not in exposed:
        problems.append(f"does not EXPOSE {PORT}")
    for word, rest in inst:
        if TORCH_VERSION.search(rest):
            problems.append(f"names a torch version itself: {word} {rest[:80]}")
    pins = [line.split("#")[0].strip() for line in requirements.splitlines() if re.match(r"^torch\s*==", line)]
    if len(pins) != 1:
        problems.append(f"requirements.txt must pin torch exactly once (found {pins})")
    runs = " ".join(rest for word, rest in inst if word == "RUN")
    copied_requirements = any(word in ("COPY", "ADD") and "requirements.txt" in rest for word, rest in inst)
    if not (copied_requirements and re.search(r"pip install[^&;]*-r \S*requirements\.txt", runs)):
        problems.append("does not pip install -r requirements.txt")
    if not re.search(r"torch==", runs) or "requirements.txt" not in runs:
        problems.append("does not take torch's pin from requirements.txt")
    cmd = " ".join(rest for word, rest in inst if word in ("CMD", "ENTRYPOINT"))
    if "dashboard.py" not in cmd or PORT not in cmd:
        problems.append(f"the command does not serve dashboard.py on {PORT}")
    return problems


def copy_sources(text: str) -> list[str]:
    """Sources of the Dockerfile's COPY / ADD from the build context (not --from=another stage)."""
    out = []
    for word, rest in dockerfile_instructions(text):
        if word not in ("COPY", "ADD"):
            continue
        fields = rest.split()
        if any(f.startswith("--from=") for f in fields):
            continue
        fields = [f for f in fields if not f.startswith("--")]
        out.extend(fields[:-1])
    return out


# ---- the repository's own context and Dockerfile ----------------------------------------------------

def test_required_files_are_derived():
    need = required_files(ROOT)
    # the derivation found the packages, the pages and the data, not just the fixed names
    for path in ("dashboard.py", "screens/home.py", "app_state/__init__.py", "core/__init__.py",
                 "core/models/store.py", "i18n/__init__.py", "i18n/messages.toml",
                 "assets/models/speech_en_mfbank/model.safetensors", "assets/validation/en_mfbank.npz",
                 "assets/samples/README.md", ".streamlit/config.toml", "requirements.txt",
                 "scripts/setup.sh"):
        assert path in need, path
    assert not any(p.startswith(("tests/", "bench/", "docs/")) for p in need)


def test_context_holds_what_make_run_needs():
    context = build_context(ROOT)
    missing = sorted(required_files(ROOT) - context)
    assert missing == [], f"left out of the Docker build context by .dockerignore: {missing}"


def test_context_holds_nothing_generated():
    context = build_context(ROOT)
    assert context, "empty build context"
    assert generated(context, ROOT) == []


def test_dockerfile_pins_torch_through_requirements_and_exposes_the_port():
    text = (ROOT / "Dockerfile").read_text()
    assert dockerfile_problems(text, (ROOT / "requirements.txt").read_text()) == []


def test_dockerfile_copies_only_what_the_context_has():
    context = build_context(ROOT)
    text = (ROOT / "Dockerfile").read_text()
    sources = copy_sources(text)
    assert sources
    for src in sources:
        src = src.rstrip("/")
        assert src == "." or src in context or any(p.startswith(f"{src}/") for p in context), src
    # everything the app needs reaches the image: one COPY of the whole context, or a COPY of each
    if "." not in sources:
        need = required_files(ROOT) - set(_make_run_scripts(ROOT)) - {"Makefile"}
        covered = [s.rstrip("/") for s in sources]
        missed = [p for p in need if not any(p == c or p.startswith(f"{c}/") for c in covered)]
        assert missed == []


# ---- the checks can fail ----------------------------------------------------------------------------

def _repo(tmp_path: Path) -> Path:
    """A small repository with the project's .dockerignore and .gitignore: an entry script naming a
    page, a package, an asset, settings, and generated files beside them."""
    root = tmp_path / "repo"
    files = {
        "dashboard.py": 'import streamlit as st\nimport core\nst.Page("screens/home.py")\n',
        "screens/home.py": "from core.maths import f\n",
        "core/__init__.py": "",
        "core/maths.py": "def f():\n    import lib.extra\n",
        "core/data/__init__.py": "",  # a package named data below the root is not generated
        "lib/__init__.py": "",
        "lib/extra.py": "",
        "assets/models/m/model.json": "{}",
        ".streamlit/config.toml": "",
        "requirements.txt": "torch==2.13.0\n",
        "Makefile": "run: setup\n\tstreamlit run dashboard.py\nsetup:\n\t@scripts/setup.sh\n",
        "scripts/setup.sh": "",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    for name in (".dockerignore", ".gitignore", "Dockerfile"):
        shutil.copy(ROOT / name, root / name)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    subprocess.run(["git", "add", "-A"], cwd=root, check=True)
    for name in ("data/corpus/x.npz", "core/__pycache__/maths.cpython-311.pyc", "assets/models/m/w.npz.tmp",
                 ".venv/bin/python", ".pytest_cache/v/x", "scratch.log"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("generated")
    return root


def test_small_repository_passes_with_the_project_rules(tmp_path):
    root = _repo(tmp_path)
    context = build_context(root)
    assert required_files(root) - context == {"lib/__init__.py", "lib/extra.py"}  # lib/ is not let in
    assert generated(context, root) == []
    assert "core/data/__init__.py" in context


def test_an_unignored_data_folder_is_found(tmp_path):
    root = _repo(tmp_path)
    with open(root / ".dockerignore", "a") as f:
        f.write("!data/\n")
    assert generated(build_context(root), root) == ["data/corpus/x.npz"]


def test_generated_files_inside_a_package_are_found(tmp_path):
    root = _repo(tmp_path)
    rules = [r for r in (root / ".dockerignore").read_text().splitlines() if "__pycache__" not in r and "py[cod]" not in r]
    (root / ".dockerignore").write_text("\n".join(rules) + "\n")
    assert generated(build_context(root), root) == ["core/__pycache__/maths.cpython-311.pyc"]


def test_gitignored_files_count_as_generated(tmp_path):
    root = _repo(tmp_path)
    with open(root / ".gitignore", "a") as f:
        f.write("*.log\n")
    (root / ".dockerignore").write_text("*.npz.tmp\n**/__pycache__\ndata\n.venv\n.pytest_cache\n.git\n")
    # Docker anchors a pattern at the root: *.npz.tmp leaves out a root file only
    assert generated(build_context(root), root) == ["assets/models/m/w.npz.tmp", "scratch.log"]


def test_a_package_left_out_is_found(tmp_path):
    root = _repo(tmp_path)
    rules = (root / ".dockerignore").read_text().replace("!core/\n", "")
    (root / ".dockerignore").write_text(rules)
    missing = required_files(root) - build_context(root)
    assert {"core/__init__.py", "core/maths.py", "core/data/__init__.py"} <= missing


def test_dockerfile_problems_are_found():
    good = (ROOT / "Dockerfile").read_text()
    req = "torch==2.13.0\nnumpy==2.4.6\n"
    assert dockerfile_problems(good, req) == []
    assert any("torch version" in p for p in dockerfile_problems(good + "RUN pip install torch==2.5.1\n", req))
    assert any("torch version" in p for p in dockerfile_problems(good.replace('"$torch_pin"', '"torch>=2"'), req))
    assert any("EXPOSE" in p for p in dockerfile_problems(good.replace(f"EXPOSE {PORT}", "EXPOSE 80"), req))
    assert any("bookworm" in p for p in dockerfile_problems(good.replace("bookworm", "trixie"), req))
    assert any("exactly once" in p for p in dockerfile_problems(good, "numpy==2.4.6\n"))

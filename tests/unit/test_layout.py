"""The layout keeps its promises (README, "Where things live"): each room imports only the rooms
it may, the shared core imports none; only stores/ opens a database, Redis or the SMS-ids file;
only rasa_patches/ changes Rasa's internals; safety/ runs without Rasa; and no module reads a
file or opens a database when it is imported."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Iterator, Set, Tuple

import pytest

from tests.helpers import PROJECT_ROOT

# The rooms, and what each may import from the others.
ALLOWED: Dict[str, Set[str]] = {
    "assistant": set(),  # the core: paths, names, content, replies, settings
    "spacy_pipeline": set(),
    "safety": {"assistant", "spacy_pipeline"},  # urgency detection, no Rasa
    "stores": {"assistant"},  # everything that holds patient data
    "rasa_patches": {"assistant", "stores"},  # every change to Rasa internals
    "nlu": {"assistant", "spacy_pipeline", "safety", "rasa_patches"},  # Rasa graph components
    "channels": {"assistant", "stores"},  # the Rasa server's channels
    "actions": {"assistant", "stores"},  # the action server
}
PACKAGES = list(ALLOWED)
# The runtime, operator and lab tools may use every room, the tests every room and the tools; the
# rooms use neither, and the tools never use the tests.
TOOLS = {"scripts": set(PACKAGES), "tests": set(PACKAGES) | {"scripts"}}
DATABASE_MODULES = {"sqlite3", "sqlalchemy", "redis", "psycopg2", "aiosqlite"}


def modules(package: str) -> Iterator[Tuple[Path, str]]:
    for path in sorted((PROJECT_ROOT / package).rglob("*.py")):
        parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> Set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def every_module():
    for package in [*PACKAGES, *TOOLS]:
        for path, _ in modules(package):
            yield package, path


@pytest.mark.parametrize("package", [*PACKAGES, *TOOLS])
def test_rooms_import_only_what_the_layout_allows(package):
    allowed = ALLOWED.get(package, TOOLS.get(package, set()))
    rooms = set(PACKAGES) | set(TOOLS)
    wrong = {
        str(path.relative_to(PROJECT_ROOT)): sorted(top_level_imports(path) & rooms - allowed - {package})
        for path, _ in modules(package)
    }
    assert not {k: v for k, v in wrong.items() if v}, f"{package}/ may import only {sorted(allowed)}"


def test_every_python_package_is_a_room():
    packages = {p.parent.name for p in PROJECT_ROOT.glob("*/__init__.py")}
    assert packages <= set(PACKAGES) | set(TOOLS), packages - set(PACKAGES) - set(TOOLS)


def test_only_the_stores_open_databases():
    opening = {
        str(path.relative_to(PROJECT_ROOT))
        for package in PACKAGES
        if package != "stores"
        for path, _ in modules(package)
        if top_level_imports(path) & DATABASE_MODULES
    }
    assert not opening, f"only stores/ may open a database or Redis: {sorted(opening)}"


def rasa_names(tree: ast.AST) -> Set[str]:
    """Names bound to something imported from rasa (`from rasa.x import Y`, `import rasa.x`)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rasa":
            names |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names if a.name.startswith("rasa.")}
    return names


def test_only_the_patches_change_rasa_internals():
    changed = []
    for package, path in every_module():
        if package in ("rasa_patches", "tests"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        rasa = rasa_names(tree)
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                root = target
                while isinstance(root, ast.Attribute):
                    root = root.value
                if isinstance(target, ast.Attribute) and isinstance(root, ast.Name) and root.id in rasa:
                    changed.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" and node.args:
                first = node.args[0]
                if isinstance(first, ast.Name) and first.id in rasa:
                    changed.append(f"{path.relative_to(PROJECT_ROOT)}:{node.lineno}")
    assert not changed, f"only rasa_patches/ may assign to Rasa's attributes: {changed}"


def test_safety_runs_without_rasa():
    using = {
        str(path.relative_to(PROJECT_ROOT)): "rasa"
        for path, _ in modules("safety")
        if {"rasa", "rasa_sdk"} & top_level_imports(path)
    }
    assert not using, f"safety/ must not import Rasa: {using}"


# Imports every module with an audit hook that records files opened inside the project (other
# than code) and database connections: the import itself must do neither.
_PROBE = """
import importlib, json, sys
root = sys.argv[1]
touched = []
def hook(event, args):
    if event == "open" and isinstance(args[0], str) and args[0].startswith(root):
        if not args[0].endswith((".py", ".pyc", ".so")) and "/.venv/" not in args[0]:
            touched.append(args[0])
    elif event == "sqlite3.connect":
        touched.append(f"sqlite3.connect({args[0]})")
sys.addaudithook(hook)
for name in sys.argv[2:]:
    importlib.import_module(name)
print(json.dumps(touched))
"""


def test_no_module_reads_files_or_opens_a_database_at_import():
    names = [name for package in PACKAGES for _, name in modules(package)]
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, str(PROJECT_ROOT), *names],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    )
    touched = json.loads(result.stdout.strip().splitlines()[-1])
    assert touched == [], f"I/O at import: {touched}"

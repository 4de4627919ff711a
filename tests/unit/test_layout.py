"""The layout keeps its promises: the shared core imports none of the servers' packages, the Rasa
server's components and the channels never import the action server (or each other), and no
module reads a file or opens a database when it is imported."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Set

import pytest

from tests.helpers import PROJECT_ROOT

PACKAGES = ["assistant", "actions", "components", "connectors", "spacy_pipeline"]
# What each package may import from the others.
ALLOWED: Dict[str, Set[str]] = {
    "assistant": set(),
    "spacy_pipeline": set(),
    "actions": {"assistant"},
    "components": {"assistant", "spacy_pipeline"},
    "connectors": {"assistant"},
}


def modules(package: str):
    for path in sorted((PROJECT_ROOT / package).glob("*.py")):
        yield path, f"{package}.{path.stem}" if path.stem != "__init__" else package


def imported_packages(path: Path) -> Set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_what_the_layout_allows(package):
    wrong = {
        str(path.relative_to(PROJECT_ROOT)): sorted(imported_packages(path) - ALLOWED[package] - {package})
        for path, _ in modules(package)
    }
    assert not {k: v for k, v in wrong.items() if v}, f"{package}/ may import only {ALLOWED[package]}"


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

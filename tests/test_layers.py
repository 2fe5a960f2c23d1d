"""The library does not depend on its CLI: arrows run from ledger.cli down, never back up.

Importing any module outside ``ledger/cli`` (in a fresh interpreter, so
nothing the test runner loaded counts) must load neither typer, nor rich, nor
any ``ledger.cli`` module; and no such module names them in an import
statement at all, even one inside a function.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "ledger"
TERMINAL = ("typer", "click", "rich", "ledger.cli")
PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in ("typer", "click", "rich")
                        or m == "ledger.cli" or m.startswith("ledger.cli."))))
"""


def _library_modules() -> list[str]:
    """Every module of the package outside ``ledger/cli`` (and the ``python -m ledger`` entry point)."""
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        if parts[1:2] == ("cli",) or parts[-1] == "__main__":
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _terminal(name: str) -> bool:
    return any(name == t or name.startswith(t + ".") for t in TERMINAL)


def test_the_library_modules_are_found():
    modules = _library_modules()
    assert {"ledger.review", "ledger.format", "ledger.calendar", "ledger.store", "ledger.report"} <= set(modules)
    assert not any(name.startswith("ledger.cli") for name in modules)


@pytest.mark.parametrize("module", _library_modules())
def test_importing_a_library_module_loads_no_cli(module):
    out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_no_library_module_imports_the_cli_or_typer():
    offenders = {
        str(path.relative_to(PACKAGE.parent)): sorted(filter(_terminal, _imported(path)))
        for path in PACKAGE.rglob("*.py")
        if "cli" not in path.relative_to(PACKAGE).parts and path.name != "__main__.py"
    }
    assert {path: names for path, names in offenders.items() if names} == {}

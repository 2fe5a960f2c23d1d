"""Heavy libraries stay off the CLI's start-up path: `ledger add` must start fast."""

import json
import subprocess
import sys

HEAVY = ("plotly", "numpy", "pyarrow", "jinja2", "pysbd", "icalendar", "rich", "spacy")

PROBE = """
import json, sys
from typer.testing import CliRunner
from ledger.cli import app
imported_by_module = sorted(m for m in {heavy} if m in sys.modules)
result = CliRunner().invoke(app, sys.argv[1:])
assert result.exit_code == 0, result.output
print(json.dumps({{"module": imported_by_module, "command": sorted(m for m in {heavy} if m in sys.modules)}}))
"""


def _imports(*args: str, env: dict, heavy: tuple[str, ...] = HEAVY) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=heavy), *args],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "LEDGER_DB": str(tmp_path / "l.duckdb"), "NO_COLOR": "1"}
    assert _imports("schema", env=env)["module"] == []


def test_add_and_list_json_load_no_heavy_library(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "LEDGER_DB": str(tmp_path / "l.duckdb"), "NO_COLOR": "1"}
    assert _imports("add", "Quick question", "-p", "0.6", "--by", "2030", "-c", "as stated", env=env)["command"] == []
    assert _imports("list", "--json", env=env)["command"] == []


def test_typer_parses_plain_values_without_pydantic(tmp_path):
    """Typer coerces through pydantic; ledger.cli takes plain values itself (a listing needs no pydantic,
    and `add`, whose models are pydantic's, builds no adapter for its ~20 options)."""
    env = {"PATH": "", "HOME": str(tmp_path), "LEDGER_DB": str(tmp_path / "l.duckdb"), "NO_COLOR": "1"}
    _imports("add", "Quick", "-p", "0.6", "--by", "2030", "-c", "as stated", "-t", "x", env=env)
    for command in (("list", "--json", "--limit", "5", "--offset", "1"), ("due", "--csv", "--sort", "id")):
        assert _imports(*command, env=env, heavy=("pydantic", "typer._adapters"))["command"] == []
    assert _imports("add", "Second", "-p", "0.6", "--by", "2030", "-c", "as stated", "-t", "x", "--db",
                    str(tmp_path / "l.duckdb"), env=env, heavy=("typer._adapters",))["command"] == []


def test_add_imports_neither_the_io_package_nor_the_review_stage(tmp_path):
    """`add` needs the store and its models; ledger.io (import/export, CSV) and ledger.review are other
    commands' (each ~20-40 ms of a cold start on this machine when imported eagerly)."""
    env = {"PATH": "", "HOME": str(tmp_path), "LEDGER_DB": str(tmp_path / "l.duckdb"), "NO_COLOR": "1"}
    unused = ("ledger.io", "ledger.review")
    found = _imports("add", "Quick question", "-p", "0.6", "--by", "2030", "-c", "as stated", env=env, heavy=unused)
    assert found == {"module": [], "command": []}

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


def _imports(*args: str, env: dict) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE.format(heavy=HEAVY), *args],
                         capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_cli_loads_no_heavy_library(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "LEDGER_DB": str(tmp_path / "l.duckdb"), "NO_COLOR": "1"}
    assert _imports("schema", env=env)["module"] == []


def test_add_and_list_json_load_no_heavy_library(tmp_path):
    env = {"PATH": "", "HOME": str(tmp_path), "LEDGER_DB": str(tmp_path / "l.duckdb"), "NO_COLOR": "1"}
    assert _imports("add", "Quick question", "-p", "0.6", "--by", "2030", "-c", "as stated", env=env)["command"] == []
    assert _imports("list", "--json", env=env)["command"] == []

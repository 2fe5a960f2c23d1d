"""Shared fixtures: every test gets its own ledger file and never sees $HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app

pytest_plugins = ["pg_server"]  # a throwaway PostgreSQL cluster: the pg_server and pg_url fixtures

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point every per-user location at a temporary directory."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("LEDGER_DB", str(tmp_path / "ledger.duckdb"))
    monkeypatch.setenv("LEDGER_FORECASTER", "tester")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return home


@pytest.fixture
def db_path(tmp_path) -> Path:
    return tmp_path / "ledger.duckdb"


class Cli:
    """Runs `ledger` in-process with CliRunner, the way a user would type it."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, input: str | None = None, ok: bool = True):
        result = self.runner.invoke(app, [str(a) for a in args], input=input)
        if ok and result.exit_code != 0:
            raise AssertionError(
                f"ledger {' '.join(map(str, args))} exited {result.exit_code}\n"
                f"stdout: {result.stdout}\nstderr: {result.stderr}\n{result.exception!r}"
            )
        return result

    def json(self, *args: str):
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def cli() -> Cli:
    return Cli()


def ledger_bytes(path: Path) -> bytes:
    """The ledger file's content, to check that a failed command changed nothing."""
    return path.read_bytes() if path.exists() else b""

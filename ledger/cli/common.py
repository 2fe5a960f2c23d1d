"""Options and helpers shared by every command module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Db = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="LEDGER_DB",
        help="Ledger file. Default: $LEDGER_DB, else $XDG_DATA_HOME/forecast-ledger/ledger.duckdb.",
        show_default=False,
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV (for spreadsheets) instead of a table.")]


def open_store(db: Path | None, *, write: bool = False):
    """Open the ledger; a reading command never creates one (and says so)."""
    from ledger.store import Store, default_path

    path = db or default_path()
    existed = path.exists()
    store = Store.open(path, create=write, read_only=False)
    if write and not existed:
        from ledger.output import say

        say(f"created a new ledger at {path}")
    return store

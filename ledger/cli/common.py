"""Options and helpers shared by every command module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import LedgerError

Db = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="LEDGER_DB",
        help="Ledger file. Default: $LEDGER_DB, else $XDG_DATA_HOME/forecast-ledger/ledger.duckdb.",
        show_default=False,
    ),
]
ForecasterFilter = Annotated[
    str | None, typer.Option("--forecaster", "-f", help="Only questions this person forecast.")
]
TagFilter = Annotated[str | None, typer.Option("--tag", "-t", help="Only questions with this tag.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV (for spreadsheets) instead of a table.")]


def reask(check: Callable[[str], Any]) -> Callable[[str], Any]:
    """A prompt's ``value_proc``: a LedgerError from ``check`` makes the prompt ask again."""

    def process(text: str) -> Any:
        try:
            return check(text)
        except LedgerError as error:
            raise typer.BadParameter(str(error)) from None

    return process


@contextmanager
def open_store(db: Path | None, *, write: bool = False) -> Iterator:
    """Open the ledger for one command.

    A reading command never creates a ledger. A writing command creates it
    on first use and says where, but removes it again if the command fails,
    so a mistake leaves no trace.
    """
    from ledger.cli.output import say
    from ledger.store import Store, default_path

    path = db or default_path()
    existed = path.exists()
    store = Store.open(path, create=write)
    try:
        yield store
    except BaseException:
        store.close()
        if not existed:
            for leftover in (path, path.with_name(path.name + ".wal")):
                leftover.unlink(missing_ok=True)
        raise
    store.close()
    if not existed:
        say(f"created a new ledger at {path}")

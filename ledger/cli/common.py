"""Options and helpers shared by every command module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from ledger.errors import LedgerError

__all__ = [
    "Csv", "DEFAULT_LIMIT", "Db", "Force", "ForecasterFilter", "Json", "Limit", "Offset", "QuestionId", "Search", "Sort",
    "TagFilter", "check_known", "check_output", "check_sort", "complete_question_id", "open_store", "page_limit", "reask",
    "writing_output",
]

def _location(text: str):
    from ledger.location import location

    return location(text)


Db = Annotated[
    Path | None,
    typer.Option(
        "--db",
        envvar="LEDGER_DB",
        help="Ledger file, or a team ledger's postgresql://… URL. "
             "Default: $LEDGER_DB, else $XDG_DATA_HOME/forecast-ledger/ledger.duckdb.",
        show_default=False,
        parser=_location,
        metavar="PATH|URL",
    ),
]
ForecasterFilter = Annotated[
    str | None, typer.Option("--forecaster", "-f", help="Only questions this person forecast.")
]
TagFilter = Annotated[str | None, typer.Option("--tag", "-t", help="Only questions with this tag.")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts) instead of a table.")]
Csv = Annotated[bool, typer.Option("--csv", help="Print CSV (for spreadsheets) instead of a table.")]
DEFAULT_LIMIT = 50  # rows of a table on a terminal: one screen, the rest a --offset away
Limit = Annotated[int | None, typer.Option(
    "--limit", min=0, help=f"At most N rows (a table on a terminal: {DEFAULT_LIMIT} unless told; otherwise all).",
    metavar="N")]
Offset = Annotated[int, typer.Option("--offset", min=0, help="Skip the first N rows.", metavar="N")]
Sort = Annotated[str, typer.Option(
    "--sort", help="Order by resolve-by (soonest first, the default), created, id or statement.", metavar="KEY")]
Search = Annotated[str | None, typer.Option("--search", help="Only questions whose statement contains TEXT (any case).")]
Force = Annotated[bool, typer.Option("--force", help="Replace the output file even if this command did not write it.")]


def complete_question_id(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of a question id: the ids starting with what is typed, with their statements.

    Runs only when the shell asks (never on start-up), opens the ledger read-only and
    never prints an error: a missing, busy or broken ledger completes nothing.
    """
    from ledger.format import short_id, visible
    from ledger.store import Store, default_path

    prefix = incomplete.strip().lower()
    if not all(c in "0123456789abcdef" for c in prefix):
        return []
    path = _location(ctx.params.get("db") or default_path())
    try:
        if not isinstance(path, Path) or not path.is_file():  # no completion from a server: it is not instant
            return []
        with Store.open(path, create=False, read_only=True) as store:
            _, rows = store.query(
                f"SELECT id, statement FROM questions WHERE starts_with(id, '{prefix}') ORDER BY id LIMIT 50"
            )
    except Exception:  # completion must never break the shell
        return []
    return [(short_id(question_id), visible(statement)[:60]) for question_id, statement in rows]


QuestionId = Annotated[
    str,
    typer.Argument(help="Question id (a unique prefix is enough).", metavar="ID",
                   autocompletion=complete_question_id),
]


def check_sort(sort: str) -> None:
    """An unknown --sort key is a malformed command line (exit code 2): name the known ones."""
    from ledger.store import SORTS

    if sort not in SORTS:
        raise typer.BadParameter(f"{sort!r} is not a sort key; known: {', '.join(SORTS)}", param_hint="'--sort'")


def page_limit(limit: int | None, *, table: bool, terminal: bool) -> int | None:
    """The rows to show: as asked; else one screen for a table on a terminal; else all (pipes, files,
    --json and --csv get every row unless told)."""
    if limit is not None:
        return limit
    return DEFAULT_LIMIT if table and terminal else None


def check_known(store, *, forecaster: str | None = None, tag: str | None = None) -> None:
    """A filter on a forecaster or tag the ledger has never seen is a typo, not an empty result:
    name the known ones."""
    for label, value, listing in (("forecaster", forecaster, store.forecasters), ("tag", tag, store.tags)):
        if value is None:
            continue
        known = listing()
        if value not in known:
            listed = ", ".join(known[:20]) + (", …" if len(known) > 20 else "") if known else "none yet"
            raise LedgerError(f"no {label} {value!r} in this ledger; known: {listed}")


@contextmanager
def writing_output(path: Path, db: Path | None, *, force: bool = False, ours: tuple[bytes, ...] = ()) -> Iterator[Path]:
    """Write a command's output file through :func:`ledger.files.replacing`, protecting the
    ledger the command uses (``--db``, else the default one)."""
    from ledger.files import replacing
    from ledger.store import default_path

    with replacing(path, ledgers=_files(db or default_path()), force=force, ours=ours) as temporary:
        yield temporary


def check_output(path: Path | None, db: Path | None, *, force: bool = False, ours: tuple[bytes, ...] = ()) -> None:
    """Refuse a bad output path before the work starts (a review session, an export)."""
    from ledger.files import check_target
    from ledger.store import default_path

    if path is not None:
        check_target(path, ledgers=_files(db or default_path()), force=force, ours=ours)


def _files(ledger) -> list[Path]:
    """The ledger an output file must not overwrite: a file; a server ledger is no file."""
    return [ledger] if isinstance(ledger, Path) else []


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

    A reading command never creates a ledger and opens it read-only: it
    works on a read-only copy or medium, and other readers share the file
    with it. A writing command creates it
    on first use and says where, but removes it again if the command fails,
    so a mistake leaves no trace.
    """
    from ledger.cli.output import say
    from ledger.store import Store, default_path

    path = db or default_path()
    store = Store.open(path, create=write, read_only=not write)
    try:
        yield store
    except BaseException:
        store.discard_if_unused()
        store.close()
        raise
    store.close()
    if store.created:
        say(f"created a new ledger at {path}")

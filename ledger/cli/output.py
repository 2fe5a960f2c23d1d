"""The CLI's emitters: tables, JSON and CSV on stdout, messages on stderr.

stdout is for data; :func:`say` writes messages to stderr. The text of a
single value (a percentage, a time, an id) is :mod:`ledger.format`'s. JSON timestamps
are UTC in ISO 8601 with a ``Z``; tables show local time. CSV cells that a
spreadsheet would run as a formula are guarded by :mod:`ledger.io.formula`'s
rule, the one ``ledger export`` uses (principle 5: user text is data, never
markup). Nothing stored reaches the terminal as a control sequence:
tables and messages show control characters and bidi overrides as escapes
(:func:`ledger.format.visible`), JSON writes them as ``\\u`` escapes (the same
data), and CSV does so when it is printed to a terminal rather than a pipe.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from itertools import islice
from typing import Any

from ledger.format import visible

__all__ = [
    "console", "emit_csv", "emit_csv_cells", "emit_json", "emit_json_texts", "emit_records_csv", "emit_table", "flatten",
    "safe_cell", "say", "to_json",
]

# Characters json.dumps(ensure_ascii=False) leaves raw that a terminal would obey.
_JSON_UNSEEN = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def say(message: str) -> None:
    """A message for the person (stderr), never mixed with data; user text in it is shown, not obeyed."""
    print(visible(message, newlines=True), file=sys.stderr)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + ("Z" if value.tzinfo is None else "")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if hasattr(value, "as_json"):  # a stored record (ledger.records): its JSON is the --json contract
        return _jsonable(value.as_json())
    return value


def to_json(data: Any) -> str:
    """Indented JSON; characters a terminal would obey are written as ``\\u`` escapes, which
    any JSON reader turns back into exactly the stored text."""
    return _escape_unseen(json.dumps(_jsonable(data), indent=2, ensure_ascii=False))


def _escape_unseen(text: str) -> str:
    """JSON text with the characters a terminal would obey as ``\\u`` escapes (the same data)."""
    return _JSON_UNSEEN.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def emit_json(data: Any) -> None:
    print(to_json(data))


def emit_json_texts(texts: Iterable[str], *, batch: int = 2000) -> None:
    """A JSON array on stdout, one element a line, from elements that are JSON text already (DuckDB's),
    written as they come: any number of them in the memory of one batch."""
    texts, opening = iter(texts), "[\n"
    while chunk := list(islice(texts, batch)):
        sys.stdout.write(opening + _escape_unseen(",\n".join(chunk)))
        opening = ",\n"
    sys.stdout.write("[]\n" if opening == "[\n" else "\n]\n")


def safe_cell(value: Any) -> Any:
    """A CSV cell: text formula-guarded (``=1+1`` → ``'=1+1``), a list as ``a;b``."""
    from ledger.io.formula import guard  # ledger.io is the import and export package: off `add`'s start-up

    if isinstance(value, str):
        return guard(value)
    if isinstance(value, list | tuple):
        return safe_cell(";".join(str(item) for item in value))
    return value


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CSV on stdout: exact for a pipe or a file; on a terminal, control characters are shown, not obeyed."""
    emit_csv_cells(columns, ([safe_cell(_jsonable(cell)) for cell in row] for row in rows))


def emit_csv_cells(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """:func:`emit_csv` of rows whose cells are already CSV cells (guarded text, ISO times), streamed."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    if not sys.stdout.isatty():
        writer.writerows(rows)
        return
    for row in rows:
        writer.writerow([visible(cell) if isinstance(cell, str) else cell for cell in row])


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A JSON record as one CSV row with the same fields: nested objects become
    ``parent_child`` columns, lists become JSON text (``["a", "b"]``), numbers stay numbers."""
    row: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            row.update(flatten(value, f"{name}_"))
        elif isinstance(value, list | tuple):
            row[name] = json.dumps(_jsonable(list(value)), ensure_ascii=False)
        else:
            row[name] = value
    return row


def emit_records_csv(records: Iterable[dict[str, Any]]) -> None:
    """The records of a ``--json`` output as CSV: the same fields (flattened), full ids, unrounded numbers."""
    rows = [flatten(_jsonable(record)) for record in records]
    columns = list(dict.fromkeys(name for row in rows for name in row))
    # An object that is null in some records (no resolution yet) is its columns, left empty.
    columns = [name for name in columns
               if not any(other.startswith(f"{name}_") for other in columns)
               or any(row.get(name) is not None for row in rows)]
    emit_csv(columns, ([row.get(name) for name in columns] for row in rows))


def console(stderr: bool = False):
    """A rich console that respects NO_COLOR and never wraps data for pipes."""
    from rich.console import Console

    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False)


def emit_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None, flex: str | None = None
) -> None:
    """A readable table on a terminal, one line per row.

    Every column keeps its full width (up to 24) except ``flex`` (e.g. the
    statement), which is cut with an ellipsis to fit. On a terminal too narrow
    for that the line is longer than the terminal, rather than cutting ids
    and dates that people copy. User text is escaped, never parsed as rich markup.
    """
    from rich.markup import escape
    from rich.table import Table

    cells = [[escape(visible("" if cell is None else cell)) for cell in row] for row in rows]
    out = console()
    widths = [min(max([len(column), *(len(row[i]) for row in cells)]), 24) for i, column in enumerate(columns)]
    fixed = sum(w for column, w in zip(columns, widths, strict=True) if column != flex) + 3 * len(columns)
    out.width = max(out.width, fixed + (12 if flex else 0))
    table = Table(title=title, show_edge=False, header_style="bold")
    for index, column in enumerate(columns):
        if column == flex:
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=max(out.width - fixed, 12))
        else:
            table.add_column(column, no_wrap=True, width=widths[index], min_width=widths[index], overflow="ellipsis")
    for row in cells:
        table.add_row(*row)
    out.print(table)

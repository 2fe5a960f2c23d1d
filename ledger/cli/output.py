"""The CLI's emitters: tables, JSON and CSV on stdout, messages on stderr.

stdout is for data; :func:`say` writes messages to stderr. The text of a
single value (a percentage, a time, an id) is :mod:`ledger.format`'s. JSON timestamps
are UTC in ISO 8601 with a ``Z``; tables show local time. CSV cells that a
spreadsheet would run as a formula are guarded by :mod:`ledger.io.formula`'s
rule, the one ``ledger export`` uses (principle 5: user text is data, never
markup).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from ledger.io.formula import guard

__all__ = ["console", "emit_csv", "emit_json", "emit_table", "safe_cell", "say", "to_json"]


def say(message: str) -> None:
    """A message for the person (stderr), never mixed with data."""
    print(message, file=sys.stderr)


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
    return json.dumps(_jsonable(data), indent=2, ensure_ascii=False)


def emit_json(data: Any) -> None:
    print(to_json(data))


def safe_cell(value: Any) -> Any:
    """A CSV cell: text formula-guarded (``=1+1`` → ``'=1+1``), a list as ``a;b``."""
    if isinstance(value, str):
        return guard(value)
    if isinstance(value, list | tuple):
        return safe_cell(";".join(str(item) for item in value))
    return value


def emit_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([safe_cell(_jsonable(cell)) for cell in row])


def console(stderr: bool = False):
    """A rich console that respects NO_COLOR and never wraps data for pipes."""
    from rich.console import Console

    return Console(stderr=stderr, no_color=bool(os.environ.get("NO_COLOR")), highlight=False, soft_wrap=False)


def emit_table(
    columns: Sequence[str], rows: Iterable[Sequence[Any]], *, title: str | None = None, flex: str | None = None
) -> None:
    """A readable table on a terminal, one line per row.

    Every column keeps its full width except ``flex`` (e.g. the statement),
    which is cut with an ellipsis to fit. User text is escaped, never parsed
    as rich markup.
    """
    from rich.markup import escape
    from rich.table import Table

    cells = [[escape("" if cell is None else str(cell)) for cell in row] for row in rows]
    out = console()
    widths = [min(max([len(column), *(len(row[i]) for row in cells)]), 24) for i, column in enumerate(columns)]
    table = Table(title=title, show_edge=False, header_style="bold")
    for index, column in enumerate(columns):
        if column == flex:
            room = out.width - sum(w for i, w in enumerate(widths) if i != index) - 3 * len(columns)
            table.add_column(column, no_wrap=True, overflow="ellipsis", max_width=max(room, 12))
        else:
            table.add_column(column, no_wrap=True, width=widths[index], overflow="ellipsis")
    for row in cells:
        table.add_row(*row)
    out.print(table)

"""The question listings of ``ledger list`` and ``ledger due``: one page as a table, or rows streamed.

A table is one page (:func:`ledger.cli.common.page_limit`: a screen on a
terminal) read with LIMIT/OFFSET in SQL, and says how many rows it left out.
``--json`` and ``--csv`` are rendered by DuckDB and written as they are
fetched (:meth:`ledger.store.Store.question_texts`), so a million questions
stream in the memory of one chunk; the CSV header is fixed
(:func:`ledger.store.csv_columns`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from ledger.cli.common import page_limit
from ledger.cli.output import emit_csv_cells, emit_json_texts, emit_table, say

__all__ = ["emit_listing"]


def emit_listing(
    store,
    selection: dict[str, Any],
    *,
    sort: str,
    limit: int | None,
    offset: int,
    json_: bool,
    csv_: bool,
    table: Callable[[list], tuple[Sequence[str], list[list[Any]]]],
    due_on: date | None = None,
    empty: str | None = None,
) -> None:
    """Print the questions ``selection`` (keyword filters of :meth:`Store.questions`) chooses.

    ``table`` turns a page of stored questions into the table's columns and
    cells; ``due_on`` makes JSON and CSV rows due questions (with
    ``days_overdue``); ``empty`` is said (stderr) instead of an empty table.
    """
    from ledger.records import DueQuestion, StoredQuestion
    from ledger.store import csv_columns

    if json_ or csv_:
        rows = store.question_texts("json" if json_ else "csv", **selection, sort=sort, offset=offset, limit=limit,
                                    due_on=due_on)
        if json_:
            emit_json_texts(row[0] for row in rows)
        else:
            emit_csv_cells(csv_columns(StoredQuestion if due_on is None else DueQuestion), rows)
        return
    page = page_limit(limit, table=True, terminal=sys.stdout.isatty())
    if page is None:
        rows, total = store.questions(**selection, sort=sort, offset=offset), None
    else:
        rows, total = store.question_page(**selection, sort=sort, offset=offset, limit=page)
    if not rows and empty is not None:
        say(empty)
        return
    columns, cells = table(rows)
    emit_table(columns, cells, flex="statement")
    if total is not None and (more := total - offset - len(rows)) > 0:
        say(f"{more:,} more — use --limit/--offset (next page: --offset {offset + len(rows)})")

"""The spreadsheet-formula guard: one rule, applied by every CSV the ledger writes and undone by its import.

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return (principle 5: user text is data, never markup). So a
CSV cell whose text, after any leading ``'``, starts with one of those gets
one more ``'`` in front: ``=x`` → ``'=x``, ``'=x`` → ``''=x``, ``-1`` →
``'-1``; ``'x`` stays ``'x``. The import removes exactly that one ``'``
(from a cell that, without it, would have been guarded), so export → import
gives back every string as it was.

The rule is written twice, in Python (:func:`guard`, :func:`unguard`) for
``--csv`` output and in SQL (:func:`guard_sql`, :func:`unguard_sql`) for
set-wise export and import; both are generated from :data:`FORMULA_STARTS`.
"""

from __future__ import annotations

__all__ = ["FORMULA_STARTS", "guard", "guard_sql", "unguard", "unguard_sql"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def _needs_guard(text: str) -> bool:
    """Would a spreadsheet run it, or would the import mistake it for guarded text?"""
    return text.lstrip(QUOTE).startswith(FORMULA_STARTS)


def guard(text: str) -> str:
    """The cell a CSV carries for ``text``."""
    return QUOTE + text if _needs_guard(text) else text


def unguard(cell: str) -> str:
    """The text a guarded CSV cell stands for (the inverse of :func:`guard`)."""
    return cell[1:] if cell.startswith(QUOTE) and _needs_guard(cell[1:]) else cell


def _needs_guard_sql(text: str) -> str:
    starts = ", ".join("chr(%d)" % ord(c) if c in "\t\r" else f"'{c}'" for c in FORMULA_STARTS)
    return f"left(ltrim({text}, chr(39)), 1) IN ({starts})"


def guard_sql(text: str) -> str:
    """SQL for :func:`guard` of the VARCHAR expression ``text``."""
    return f"CASE WHEN {_needs_guard_sql(text)} THEN chr(39) || {text} ELSE {text} END"


def unguard_sql(cell: str) -> str:
    """SQL for :func:`unguard` of the VARCHAR expression ``cell``."""
    rest = f"substr({cell}, 2)"
    return f"CASE WHEN starts_with({cell}, chr(39)) AND {_needs_guard_sql(rest)} THEN {rest} ELSE {cell} END"

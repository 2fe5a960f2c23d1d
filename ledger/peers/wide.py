"""Wide contest sheets: one row per entrant, one column per question.

The shape the ACX yearly prediction contests publish (e.g.
``2023blindmode_predictions.csv``): an entrant id column, form metadata
(timestamp, demographics), then one column per question headed by its number
and text (``1. Will …?``), each cell the entrant's probability in percent
(1–99) or as a fraction, blank when skipped.

Mapping:

- each numbered column → a yes/no question (``wide:<file stem>:<number>``)
  whose statement is the header without its number; each filled cell → a
  forecast by the entrant (the id column, else ``entrant-<row>``);
- percent or fraction: decided once for the whole sheet (any value above 1
  means percent), said in a note;
- the sheet has no resolve-by date or outcomes: ``resolve_by=`` is required
  (the contest's end), ``made_at=`` optional (the entry deadline; without it
  forecasts are dated at the import, as the ledger does for any row without one);
  resolve outcomes afterwards;
- **Not carried over**: the other columns (timestamp, demographics,
  categories), named in a note; the form timestamp is not read, since it has
  no time zone.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime
from pathlib import Path

from ledger.io.csvfile import read_text, sniff_delimiter

from .rows import Notes, PeerFormatError, PeerImport, csv_records, key, parse_time, table

__all__ = ["NAME", "detect", "looks_wide", "read"]

NAME = "wide"
QUESTION_HEADER = re.compile(r"^\s*@?(\d+)[.):]\s*(\S.*)$")
ID_HEADER = re.compile(r"\b(id|name|participant|entrant|respondent)\b", re.IGNORECASE)
MIN_QUESTIONS = 3


def detect(path: Path) -> bool:
    """A CSV with at least three numbered question columns and none of the ledger's own columns."""
    header = _header(path)
    return "statement" not in [h.strip().lower() for h in header] and _questions(header) >= MIN_QUESTIONS


def looks_wide(header: list[str] | tuple[str, ...]) -> bool:
    """Whether a header that is not ours has a numbered question column: a wide sheet, too small to be sure."""
    return _questions(header) > 0


def _questions(header: list[str] | tuple[str, ...]) -> int:
    return sum(bool(QUESTION_HEADER.match(h)) for h in header)


def _delimiter(path: Path, first_line: str) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else sniff_delimiter(first_line)


def _header(path: Path) -> list[str]:
    if path.suffix.lower() not in (".csv", ".tsv"):
        return []
    try:
        with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:  # cp1252 is read too
            first = handle.readline()
    except OSError:
        return []
    try:
        return next(csv.reader([first], delimiter=_delimiter(path, first)), [])
    except csv.Error:
        return []


def read(path: Path, resolve_by: date | str | None = None, made_at: datetime | str | None = None,
         **_options) -> PeerImport:
    """Read the sheet; ``resolve_by`` (the contest's end) is required, ``made_at`` optional."""
    if resolve_by is None:
        raise PeerFormatError(f"{path.name} is a wide contest sheet with no resolve-by date: pass --resolve-by")
    resolve_by = resolve_by if isinstance(resolve_by, date) else date.fromisoformat(str(resolve_by))
    made = made_at if isinstance(made_at, datetime) or made_at is None else parse_time(made_at, what="made_at")
    notes = Notes()
    text, encoding_note = read_text(path, path.name)
    records = csv_records(io.StringIO(text, newline=""), _delimiter(path, text.partition("\n")[0]))
    _line, header = next(records, (0, []))
    body = list(records)
    if encoding_note:
        notes.add(encoding_note)
    questions = {i: QUESTION_HEADER.match(h) for i, h in enumerate(header) if QUESTION_HEADER.match(h)}
    if not questions:
        raise PeerFormatError(f"{path.name} has no question columns: a wide sheet heads each with its number, "
                              "e.g. '1. Will …?'")
    id_column = next((i for i, h in enumerate(header) if i not in questions and ID_HEADER.search(h)), None)
    others = [h for i, h in enumerate(header) if i not in questions and i != id_column]
    cells = []
    for row, (line, record) in enumerate(body, start=1):
        if not any(cell.strip() for cell in record):
            continue
        entrant = (record[id_column].strip() if id_column is not None else "") or f"entrant-{row}"
        for i, match in questions.items():
            raw = record[i].strip() if i < len(record) else ""
            if not raw:
                notes.add("{n} blank cell{s} (questions an entrant skipped) left out")
                continue
            try:
                cells.append((entrant, match, float(raw.rstrip("%")), f"line {line}"))
            except ValueError:
                raise PeerFormatError(f"line {line}, column {header[i]!r}: {raw!r} is not a probability") from None
    percent = any(value > 1 for _e, _m, value, _at in cells)
    notes.add("probabilities read as percent (values above 1)" if percent else "probabilities read as fractions")
    if others:
        notes.add(f"columns not imported: {', '.join(others)}")
    if made is None:
        notes.add("no --made-at: forecasts are dated at the import (pass --made-at, the entry deadline, if known)")
    rows = [{
        "statement": match.group(2).strip(),
        "question_key": key(NAME, path.stem, match.group(1)),
        "probability": value / 100 if percent else value,
        "resolve_by": resolve_by,
        "forecaster": entrant,
        "made_at": made,
        "at": at,
    } for entrant, match, value, at in cells]
    return table(rows, notes, NAME)

"""Fatebook's CSV export ("Export all your forecasts", ``fatebook-forecasts.csv``).

Layout (``lib/web/export.ts`` in Sage-Future/fatebook): one row per forecast,
header ``Question title, Multiple choice option, Forecast created by,
Forecast (scale = 0-1), Forecast created at, Question created by, Question
created at, Question resolve by, Resolution, Resolved at, Your Brier score…,
Your relative Brier score…, Question notes, Question shared with, Question
shared publicly, Question comments, Question tags``.

Mapping:

- **Questions** have no id in the file: rows with the same title and question
  creation time are one question (a title asked twice is two questions).
- **Times** are written ``YYYY-MM-DD HH:MM:S`` (seconds unpadded) in the
  server's zone, which is UTC; they are read as UTC.
- **Multiple choice** comes as one row per option with that option's own
  YES/NO, and Fatebook scores each option as its own yes/no forecast; so each
  option becomes its own yes/no question ``title — option``. Fatebook writes an
  AMBIGUOUS or OTHER multiple-choice resolution alike (every option NO): such
  questions are kept as written and named in a note.
- **Resolution** YES/NO → yes/no, AMBIGUOUS → annulled, blank → open.
- ``Question notes`` → criteria, ``Question tags`` (``; ``) → tags,
  ``Forecast created by`` → forecaster.
- **Not carried over**: Fatebook's own absolute and relative Brier scores (the
  ledger computes its own), who a question was shared with, public sharing,
  and question comments.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from .rows import Notes, PeerFormatError, PeerImport, annulled, csv_dicts, digest, key, parse_time, table, utc_date

__all__ = ["NAME", "detect", "read"]

NAME = "fatebook"
HEADER = ("Question title", "Forecast created by", "Forecast (scale = 0-1)", "Forecast created at")
RESOLUTIONS = {"YES": {"outcome": "yes"}, "NO": {"outcome": "no"}, "": {}}


def detect(path: Path) -> bool:
    """A CSV whose header has Fatebook's own column names."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return False
    return all(name in header for name in HEADER)


def read(path: Path, **_options) -> PeerImport:
    notes = Notes()
    rows = []
    options_of: dict[str, dict[str, str]] = defaultdict(dict)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for line, record in csv_dicts(handle):
            if not any((value or "").strip() for value in record.values()):
                continue
            rows.append({**_row(record, line, notes), "at": f"line {line}"})
            option = (record.get("Multiple choice option") or "").strip()
            if option:
                question = digest(record["Question title"], record["Question created at"])
                options_of[question][option] = (record.get("Resolution") or "").strip().upper()
    all_no = [q for q, resolution in options_of.items() if set(resolution.values()) == {"NO"}]
    notes.add("{n} multiple-choice question{s} resolved NO on every option: Fatebook writes AMBIGUOUS and "
              "OTHER alike there; kept as NO, check them", len(all_no))
    notes.add("each option of {n} multiple-choice question{s} imported as its own yes/no question, "
              "as Fatebook scores them", len(options_of))
    notes.add("Fatebook's own Brier and relative Brier scores are not imported (the ledger computes its own)")
    return table(rows, notes, NAME)


def _row(record: dict[str, str], line: int, notes: Notes) -> dict:
    """One forecast row in the ledger's import columns."""
    title = (record.get("Question title") or "").strip()
    option = (record.get("Multiple choice option") or "").strip()
    created = record.get("Question created at")
    resolution = (record.get("Resolution") or "").strip().upper()
    if resolution == "AMBIGUOUS":
        outcome = annulled("resolved AMBIGUOUS on Fatebook")
        notes.add("{n} forecast{s} on questions Fatebook resolved AMBIGUOUS: imported as annulled")
    elif resolution in RESOLUTIONS:
        outcome = RESOLUTIONS[resolution]
    else:
        raise PeerFormatError(f"line {line}: Resolution {resolution!r} is not YES, NO or AMBIGUOUS")
    try:
        probability = float(record.get("Forecast (scale = 0-1)") or "")
    except ValueError:
        raise PeerFormatError(f"line {line}: forecast {record.get('Forecast (scale = 0-1)')!r} is not a number") from None
    when = f"line {line}:"
    tags = [t.strip() for t in (record.get("Question tags") or "").split(";") if t.strip()]
    return {
        "statement": f"{title} — {option}" if option else title,
        "question_key": key(NAME, digest(title, created), *([option] if option else [])),
        "probability": probability,
        "resolve_by": utc_date(parse_time(record.get("Question resolve by"), what=f"{when} resolve by")),
        "criteria": (record.get("Question notes") or "").strip() or None,
        "resolved_at": parse_time(record.get("Resolved at"), what=f"{when} resolved at") if outcome else None,
        "forecaster": (record.get("Forecast created by") or "").strip() or None,
        "made_at": parse_time(record.get("Forecast created at"), what=f"{when} forecast created at"),
        "tags": tags or None,
        "source_outlet": "Fatebook",
        **outcome,
    }

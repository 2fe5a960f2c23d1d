"""What every peer reader hands back, and the small conversions they share.

A peer reader turns another site's export into rows in the ledger's own
import columns (README "Import and export a track record"), so that one
import path checks and stores them all. Readers never guess a value the peer
did not write: what they skip or change is said in ``notes``.

Times are zone-aware UTC timestamps; ``resolve_by`` is a date (the ledger's
column is a date), the UTC date of whatever the peer has for it.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timezone
from hashlib import sha256
from pathlib import Path
from functools import cache
from typing import TYPE_CHECKING, Callable, Iterable, Iterator

from ledger.errors import LedgerError
from ledger.io.columns import RENORMALISE_TOLERANCE

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "COLUMNS",
    "PeerImport",
    "Notes",
    "PeerFormatError",
    "annulled",
    "companion",
    "csv_dicts",
    "csv_records",
    "digest",
    "from_epoch_ms",
    "from_epoch_s",
    "json_head",
    "key",
    "load_json",
    "parse_time",
    "renormalise",
    "table",
    "utc_date",
]


@cache
def _columns() -> pa.Schema:
    """The ledger's import columns, in the README's order, with the types a reader fills.

    Built on first use: pyarrow takes ~0.4 s to import, and an import of the
    ledger's own files only asks whether a file is a peer's (``detect``).
    """
    import pyarrow as pa

    utc_time = pa.timestamp("us", tz="UTC")
    return pa.schema([
        ("statement", pa.string()),
        ("probability", pa.float64()),
        ("resolve_by", pa.date32()),
        ("question_key", pa.string()),
        ("criteria", pa.string()),
        ("options", pa.list_(pa.string())),
        ("probabilities", pa.list_(pa.float64())),
        ("outcome", pa.string()),
        ("resolved_at", utc_time),
        ("resolution_note", pa.string()),
        ("evidence", pa.string()),
        ("forecaster", pa.string()),
        ("made_at", utc_time),
        ("note", pa.string()),
        ("tags", pa.list_(pa.string())),
        ("source_title", pa.string()),
        ("source_author", pa.string()),
        ("source_outlet", pa.string()),
        ("source_url", pa.string()),
        ("source_published", utc_time),
        ("quote", pa.string()),
    ])


def __getattr__(name: str):
    if name == "COLUMNS":
        return _columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class PeerFormatError(LedgerError):
    """A file that claims a peer's format but does not hold to it (one line for the user)."""


@dataclass(frozen=True)
class PeerImport:
    """A peer file read into the ledger's import columns.

    ``table`` has exactly ``COLUMNS``; ``notes`` are lines for the user saying
    what was skipped or changed and why; ``format`` names the peer format read;
    ``places`` names, per row, where in the export it was read ("forecasts.csv
    line 12"), so a check on a converted row names the file line, not the row
    number of the conversion (empty where the export has no lines, as JSON).
    """

    table: pa.Table
    notes: tuple[str, ...]
    format: str
    places: tuple[str | None, ...] = ()


class Notes:
    """Counts of skipped or changed things, said once each with their count."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._order: list[str] = []

    def add(self, message: str, n: int = 1) -> None:
        """Count ``n`` more of ``message``: plain text, or a template with ``{n}``, ``{s}``, ``{ies}``."""
        if n <= 0:
            return
        if message not in self._counts:
            self._order.append(message)
        self._counts[message] += n

    def lines(self) -> tuple[str, ...]:
        return tuple(m.format(n=n, s="" if n == 1 else "s", ies="y" if n == 1 else "ies")
                     for m, n in ((m, self._counts[m]) for m in self._order))


def table(rows: Iterable[dict], notes: Notes, fmt: str) -> PeerImport:
    """Rows (dicts with some of ``COLUMNS``, and ``at``: where each was read) as a ``PeerImport``;
    missing columns are null."""
    rows = list(rows)
    import pyarrow as pa

    columns = _columns()
    data = {name: [row.get(name) for row in rows] for name in columns.names}
    places = tuple(row.get("at") for row in rows)
    return PeerImport(pa.Table.from_pydict(data, schema=columns), notes.lines(), fmt,
                      places if any(places) else ())


def from_epoch_s(value: float | int | None) -> datetime | None:
    """Epoch seconds (Metaculus' API, PredictionBook dumps) as a UTC time."""
    return None if value is None else datetime.fromtimestamp(float(value), timezone.utc)


def from_epoch_ms(value: float | int | None) -> datetime | None:
    """Epoch milliseconds (Manifold) as a UTC time."""
    return None if value is None else datetime.fromtimestamp(float(value) / 1000, timezone.utc)


def parse_time(text: str | None, *, what: str = "time") -> datetime | None:
    """An ISO-like time as UTC: an offset or ``Z`` is honoured, a naive time is UTC.

    Accepts what peers write: ``2024-01-05T12:34:56.123Z``, Python's
    ``2024-01-05 12:34:56.123456+00:00``, Ruby's ``2015-01-02 03:04:05 UTC`` and
    Fatebook's unpadded seconds ``2024-03-01 09:05:7``.
    """
    if text is None:
        return None
    raw = str(text).strip()
    if not raw:
        return None
    cleaned = raw[:-4] + "+00:00" if raw.endswith(" UTC") else raw
    cleaned = cleaned[:-1] + "+00:00" if cleaned.endswith("Z") else cleaned
    cleaned = _pad_seconds(cleaned)
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        raise PeerFormatError(f"{what} {raw!r} is not a date or time") from None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _pad_seconds(text: str) -> str:
    """Fatebook writes seconds unpadded (``09:05:7``); ISO needs two digits."""
    date_part, sep, clock = text.replace("T", " ", 1).partition(" ")
    if not sep:
        return text
    parts = clock.split(":")
    if len(parts) == 3 and parts[2][:1].isdigit() and (len(parts[2]) == 1 or not parts[2][1].isdigit()):
        parts[2] = "0" + parts[2]
    return f"{date_part} {':'.join(parts)}"


def utc_date(moment: datetime | None) -> date | None:
    return None if moment is None else moment.astimezone(timezone.utc).date()


def renormalise(probabilities: list[float]) -> tuple[list[float], bool]:
    """Probabilities that sum to 1: a peer's rounding (0.3333 × 3) is divided out.

    Returns the list and whether it changed. A sum further from 1 than
    ``RENORMALISE_TOLERANCE`` is left as it is, for the import to refuse: that
    is not rounding.
    """
    total = sum(probabilities)
    if abs(total - 1) <= 1e-9 or abs(total - 1) > RENORMALISE_TOLERANCE or total <= 0:
        return probabilities, False
    return [p / total for p in probabilities], True


def annulled(note: str) -> dict:
    """The outcome columns of a question the peer voided, with the peer's reason."""
    return {"outcome": "annulled", "resolution_note": note}


def key(peer: str, *parts: object) -> str:
    """A question key namespaced by peer, so keys from two sites never collide."""
    return ":".join([peer, *(str(p) for p in parts)])


def digest(*parts: object) -> str:
    """A short stable id for peers that give a question none (Fatebook)."""
    return sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()[:16]


def csv_records(lines: Iterable[str], delimiter: str = ",") -> Iterator[tuple[int, list[str]]]:
    """A CSV's records with the file line each begins on (a quoted cell may span lines); blank lines skipped."""
    reader = csv.reader(lines, delimiter=delimiter)
    start = 1
    for record in reader:
        if record:
            yield start, record
        start = reader.line_num + 1


def csv_dicts(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, str | None]]]:
    """A headed CSV's records as {column: cell} (None where a row is short), with the line each begins on."""
    records = csv_records(lines)
    _line, header = next(records, (0, []))
    for line, record in records:
        yield line, {name: record[i] if i < len(record) else None for i, name in enumerate(header)}


def load_json(path: Path):
    """The whole JSON document, or one clear line when it is not JSON."""
    try:
        with path.open(encoding="utf-8-sig") as handle:
            return json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise PeerFormatError(f"{path.name} is not JSON: {error}") from None


def json_head(path: Path, size: int = 65536) -> str:
    """The start of a file as text, for cheap shape checks in ``detect``."""
    try:
        with path.open("rb") as handle:
            return handle.read(size).decode("utf-8-sig", errors="replace")
    except OSError:
        return ""


def companion(path: Path, given: Path | str | None, fits: Callable[[Path], bool], what: str) -> Path:
    """The second file of a two-file export: as given, else the one sibling that fits.

    PredictionBook dumps, Manifold and Good Judgment exports come as two
    files; guessing between two candidates would be inventing, so that is an
    error naming them.
    """
    if given is not None:
        return Path(given)
    candidates = sorted(p for p in path.parent.iterdir() if p != path and p.is_file() and fits(p))
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise PeerFormatError(f"{path.name} needs its {what} file beside it (none found in {path.parent})")
    names = ", ".join(p.name for p in candidates)
    raise PeerFormatError(f"{path.name}: more than one {what} file beside it ({names}); name one")

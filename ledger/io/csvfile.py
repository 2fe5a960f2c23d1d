"""A CSV file as people save it: its encoding, its delimiter, and the physical lines of its records.

DuckDB reads the rows set-wise; this module settles what it needs first and
what it cannot tell: the text encoding (UTF-8, else Windows-1252 when that
decodes every byte, else one line saying how to save the file), the
delimiter (``,`` ``;`` or tab, from the header; ``.tsv`` is tab), and, only
when a message must name a row, the file line where that record begins (a
quoted cell may span several lines, so records and lines differ).
"""

from __future__ import annotations

import codecs
import csv
from dataclasses import dataclass
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["CsvFile", "open_csv", "physical_line", "read_text", "sniff_delimiter"]

DELIMITERS = (",", ";", "\t")
CHUNK = 1 << 20


@dataclass(frozen=True)
class CsvFile:
    path: Path  # what DuckDB reads: the file itself, or its UTF-8 copy
    name: str  # the file as the user named it, for messages
    header: tuple[str, ...]  # lower-cased, stripped
    delimiter: str
    note: str | None = None  # what the user should know about how it was read


def open_csv(path: Path, name: str, workdir: Path) -> CsvFile:
    """Settle encoding and delimiter; a file that is not UTF-8 is copied as UTF-8 into ``workdir``."""
    note, tsv = None, path.suffix.lower() == ".tsv"
    if not _is_utf8(path):
        text = _cp1252(path, name)
        copy = workdir / f"utf8-{len(list(workdir.iterdir()))}.csv"
        copy.write_text(text, encoding="utf-8", newline="")
        path, note = copy, _CP1252_NOTE.format(name=name)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        first = handle.readline()
    delimiter = "\t" if tsv else sniff_delimiter(first)
    header = next(csv.reader([first], delimiter=delimiter), [])
    header = tuple(cell.strip().lower() for cell in header)
    if not any(header):
        raise LedgerError(f"{name} is empty: its first line must be the header (statement,probability,…)")
    return CsvFile(path, name, header, delimiter, note)


def read_text(path: Path, name: str) -> tuple[str, str | None]:
    """A whole (small) CSV as text, decoded as :func:`open_csv` would, and the note saying how when not UTF-8."""
    if _is_utf8(path):
        return path.read_text(encoding="utf-8-sig"), None
    return _cp1252(path, name), _CP1252_NOTE.format(name=name)


_CP1252_NOTE = "{name} is not UTF-8: read as Windows-1252 (cp1252); save it as UTF-8 to be sure"


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _cp1252(path: Path, name: str) -> str:
    """The file as Windows-1252 text, when every byte is a character there and none is NUL (UTF-16)."""
    data = path.read_bytes()
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or "\x00" in text:
        raise LedgerError(f"{name} is not UTF-8 text (nor Windows-1252): save it as UTF-8 (CSV UTF-8 in a spreadsheet)")
    return text.removeprefix("\ufeff")


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most cells (comma on a tie)."""
    counts = {d: len(next(csv.reader([header_line], delimiter=d), [])) for d in DELIMITERS}
    return max(DELIMITERS, key=lambda d: (counts[d], d == ","))


def physical_line(csv_file: CsvFile, record: int) -> int:
    """The file line on which data record ``record`` (1-based, as DuckDB counts: empty lines skipped) begins."""
    with csv_file.path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=csv_file.delimiter)
        next(reader, None)
        seen, start = 0, reader.line_num + 1
        for row in reader:
            if row:
                seen += 1
                if seen == record:
                    return start
            start = reader.line_num + 1
    return start

"""The hash chain: the canonical text of a record, and what each hash covers.

This module is a contract. Every ledger in the field was hashed by it, so
changing one character of a canonical text changes every hash and makes
every existing ledger fail ``ledger verify``. The README ("The canonical
record form") states it for readers who write their own checker;
``tests/test_chain.py`` pins it with golden SHA-256 values.

**Records.** A record is one row of a record table. Its canonical text is
a JSON object of its fields in the order of :data:`RECORD_FIELDS`
(``hash`` excluded), written with no whitespace as ``"name":value`` pairs
joined by ``,``. Values, by column type:

- ``null`` for a missing value, in every type;
- BIGINT: decimal digits, ``-`` if negative;
- BOOLEAN: ``true`` or ``false``;
- VARCHAR: ``"`` + the text + ``"``, with ``"`` and ``\\`` escaped by a
  backslash, U+0008/09/0A/0C/0D as ``\\b \\t \\n \\f \\r``, other characters
  below U+0020 as ``\\u00XX`` (upper-case hex), everything else (U+007F, all
  non-ASCII, ``/``) as itself in UTF-8;
- DATE: ``"YYYY-MM-DD"``;
- TIMESTAMP (UTC, no zone): ``"YYYY-MM-DD HH:MM:SS"``, then ``.`` and the
  microseconds with trailing zeros removed unless they are zero
  (``"2025-02-25 01:02:03.1234"``);
- DOUBLE: the shortest decimal that reads back as the same double (as
  Python's ``repr``), laid out as digits ``d₁…dₙ`` and a point position
  ``k`` (value = 0.d₁…dₙ × 10ᵏ): plain when −6 < k ≤ 21 (``0.00001``,
  ``0.1``, ``1.0``, ``100000000000000000000.0``; a whole number keeps
  ``.0``), else ``d₁.d₂…dₙe±x`` without ``+`` (``1e-7``, ``1.5e22``);
  ``-`` for negatives including ``-0.0``; ``NaN``, ``Infinity``,
  ``-Infinity`` (never stored: probabilities lie in [0, 1]);
- a list (``VARCHAR[]``, ``DOUBLE[]``): ``[`` + its elements in that form,
  joined by ``,`` + ``]`` (``[]`` when empty).

This is the text DuckDB's ``to_json`` wrote for these types from 1.1 to
2.0, which the ledger hashed before this module existed, so ledgers made
then verify unchanged. Dates and times are written from their fields, so
the session's time zone and locale never enter.

A record's hash is ``sha256(prev_head || canonical text)`` in lower-case
hex, where ``prev_head`` is the head of the chain before the record's
commit (:data:`GENESIS` for the first) and ``||`` concatenates UTF-8 text.

**Commits.** A commit's head is ``sha256(prev_head || id || "|" ||
command || "|" || committed_at || "|" || digest)`` with ``committed_at`` as
``YYYY-MM-DDTHH:MM:SS.ffffff`` (always six digits) and ``digest`` the
concatenation, in chunk order, of ``sha256`` of each chunk's record hashes
concatenated in ``seq`` order, a chunk being the commit's records with the
same ``seq // 8192`` (so a million-row import aggregates in parallel).

The SQL here (:func:`canonical_sql`, :func:`record_hash_sql`) hashes a
whole import's records set-wise, and :func:`commit_digests` aggregates
them per commit; :func:`canonical_text`, :func:`record_hash` and
:func:`commit_head` are the plain-Python reference the tests compare them
with and a checker of published records can use without a database.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = [
    "DIGEST_CHUNK",
    "DIGEST_SPAN",
    "GENESIS",
    "RECORD_FIELDS",
    "RECORD_TABLES",
    "TO_JSON_CANONICAL",
    "BadCommit",
    "BadRecord",
    "canonical_sql",
    "canonical_text",
    "commit_digests",
    "commit_head",
    "first_bad_commit",
    "first_bad_record",
    "first_orphan_record",
    "head_of",
    "record_hash",
    "record_hash_sql",
    "sql_text",
]

GENESIS = "0" * 64
DIGEST_CHUNK = 8192
DIGEST_SPAN = DIGEST_CHUNK * 16  # records :func:`commit_digests` aggregates in one statement (its memory)

# Every hashed column of every record table, in the order it is hashed.
# Frozen with the tables (migration 0001): new facts go into new tables.
RECORD_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "question_records": (
        ("seq", "BIGINT"), ("commit_id", "BIGINT"), ("id", "VARCHAR"), ("kind", "VARCHAR"),
        ("statement", "VARCHAR"), ("criteria", "VARCHAR"), ("resolve_by", "DATE"), ("options", "VARCHAR[]"),
        ("tags", "VARCHAR[]"), ("source_title", "VARCHAR"), ("source_author", "VARCHAR"),
        ("source_outlet", "VARCHAR"), ("source_url", "VARCHAR"), ("source_published", "DATE"),
        ("quote", "VARCHAR"), ("created_at", "TIMESTAMP"),
    ),
    "forecast_records": (
        ("seq", "BIGINT"), ("commit_id", "BIGINT"), ("question_id", "VARCHAR"), ("forecaster", "VARCHAR"),
        ("probability", "DOUBLE"), ("probabilities", "DOUBLE[]"), ("made_at", "TIMESTAMP"),
        ("recorded_at", "TIMESTAMP"), ("note", "VARCHAR"),
    ),
    "resolution_records": (
        ("seq", "BIGINT"), ("commit_id", "BIGINT"), ("question_id", "VARCHAR"), ("outcome", "VARCHAR"),
        ("annulled", "BOOLEAN"), ("resolved_at", "TIMESTAMP"), ("note", "VARCHAR"), ("evidence", "VARCHAR"),
        ("resolver", "VARCHAR"), ("recorded_at", "TIMESTAMP"),
    ),
    "edit_records": (
        ("seq", "BIGINT"), ("commit_id", "BIGINT"), ("question_id", "VARCHAR"), ("field", "VARCHAR"),
        ("value", "VARCHAR"), ("reason", "VARCHAR"), ("editor", "VARCHAR"), ("recorded_at", "TIMESTAMP"),
    ),
}
RECORD_TABLES = tuple(RECORD_FIELDS)

# How a character is written inside a canonical string: the one table both
# the SQL and the Python form are generated from. Backslash comes first, so
# the SQL replacements that follow never re-escape what it wrote.
_SHORT_ESCAPES = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
ESCAPES: dict[str, str] = {
    "\\": "\\\\",
    '"': '\\"',
    **{chr(code): _SHORT_ESCAPES.get(chr(code), f"\\u{code:04X}") for code in range(0x20)},
}
_TRANSLATION = str.maketrans(ESCAPES)


# -- the canonical text in SQL ---------------------------------------------


def sql_text(value: str) -> str:
    """A SQL string literal of ``value``."""
    return "'" + value.replace("'", "''") + "'"


def _sql_string(v: str) -> str:
    """A VARCHAR as a JSON string; the replacements run only on text that needs one."""
    escaped = v
    for char, escape in ESCAPES.items():  # literal characters plan faster than chr() calls
        escaped = f"replace({escaped}, {'chr(0)' if char == chr(0) else sql_text(char)}, {sql_text(escape)})"
    return f"""'"' || CASE WHEN regexp_matches({v}, '[\\x00-\\x1f"\\\\]') THEN {escaped} ELSE {v} END || '"'"""


def _sql_double(v: str) -> str:
    """A DOUBLE in the canonical layout, from DuckDB's shortest round-trip text of it.

    Without an exponent that text is already the canonical one (DuckDB
    writes plain decimals only for 1e-4 <= |x| < 1e16, inside the plain
    range); with one, its digits and point position are laid out again.
    """
    text = f"CAST({v} AS VARCHAR)"
    sign = f"CASE WHEN {v} < 0 THEN '-' ELSE '' END"
    scientific = f"""{{'digits': replace(split_part(ltrim({text}, '-'), 'e', 1), '.', ''),
                      'point': CAST(split_part({text}, 'e', 2) AS INTEGER) + 1}}"""
    # value = 0.digits × 10^point
    laid_out = """CASE
        WHEN p.point <= -6 OR p.point > 21 THEN
             left(p.digits, 1) || CASE WHEN length(p.digits) > 1 THEN '.' || substr(p.digits, 2) ELSE '' END
             || 'e' || CAST(p.point - 1 AS VARCHAR)
        WHEN p.point <= 0 THEN '0.' || repeat('0', -p.point) || p.digits
        WHEN p.point >= length(p.digits) THEN p.digits || repeat('0', p.point - length(p.digits)) || '.0'
        ELSE left(p.digits, p.point) || '.' || substr(p.digits, p.point + 1) END"""
    return f"""CASE
        WHEN isnan({v}) THEN 'NaN'
        WHEN isinf({v}) THEN {sign} || 'Infinity'
        WHEN NOT contains({text}, 'e') THEN {text}
        ELSE {sign} || list_transform([{scientific}], lambda p: {laid_out})[1] END"""


def _sql_value(kind: str, v: str) -> str:
    """The canonical text of one value of column type ``kind`` (NULL stays NULL)."""
    if kind.endswith("[]"):
        element = _sql_value(kind[:-2], "x")
        return f"'[' || array_to_string(list_transform({v}, lambda x: coalesce({element}, 'null')), ',') || ']'"
    if kind == "VARCHAR":
        return _sql_string(v)
    if kind == "DOUBLE":
        return _sql_double(v)
    if kind == "BIGINT":
        return f"CAST({v} AS VARCHAR)"
    if kind == "BOOLEAN":
        return f"CASE WHEN {v} THEN 'true' ELSE 'false' END"
    if kind == "DATE":
        return f"""'"' || strftime({v}, '%Y-%m-%d') || '"'"""
    if kind == "TIMESTAMP":
        microseconds = f"(microsecond({v}) % 1000000)"  # microsecond() counts from the minute
        fraction = f"rtrim('.' || lpad(CAST({microseconds} AS VARCHAR), 6, '0'), '0')"
        return (f"""'"' || strftime({v}, '%Y-%m-%d %H:%M:%S') """
                f"""|| CASE WHEN {microseconds} = 0 THEN '' ELSE {fraction} END || '"'""")
    raise ValueError(f"no canonical form for column type {kind}")


# The DuckDB versions whose ``to_json`` of a record's fields writes exactly its
# canonical text (the golden and generated rows of tests/test_chain.py prove
# it for the installed one). One fused function is about twice as fast as the
# portable expression, and the record hash is most of an import's and of
# verify's time; any other version gets the portable expression.
TO_JSON_CANONICAL = ((1, 1), (2, 0))


def _to_json_is_canonical() -> bool:
    import duckdb

    major_minor = tuple(int(part) for part in duckdb.__version__.split(".")[:2])
    return TO_JSON_CANONICAL[0] <= major_minor <= TO_JSON_CANONICAL[1]


def canonical_sql(table: str, alias: str, *, portable: bool | None = None) -> str:
    """SQL for the canonical text of each row ``alias`` of record table ``table``.

    ``portable`` forces the expression built from the contract (True) or
    DuckDB's ``to_json`` (False); by default ``to_json`` where it is known
    to write the canonical text (:data:`TO_JSON_CANONICAL`).
    """
    if portable is None:
        portable = not _to_json_is_canonical()
    if not portable:
        fields = ", ".join(f"{sql_text(name)}: {alias}.{name}" for name, _ in RECORD_FIELDS[table])
        return f"to_json({{{fields}}})::VARCHAR"
    pieces = []
    for position, (name, kind) in enumerate(RECORD_FIELDS[table]):
        pieces.append(sql_text(("{" if position == 0 else ",") + f'"{name}":'))
        pieces.append(f"coalesce({_sql_value(kind, f'{alias}.{name}')}, 'null')")
    return f"concat({', '.join(pieces)}, '}}')"


def record_hash_sql(table: str, alias: str, prev_head: str, *, portable: bool | None = None) -> str:
    """SQL for a record's hash; ``prev_head`` is a SQL expression of the previous head."""
    return f"sha256({prev_head} || {canonical_sql(table, alias, portable=portable)})"


def commit_digests(con, commit_id: int | None = None) -> dict[int, tuple[int, str]]:
    """Per commit (only ``commit_id``'s, if given): its record count and the ``digest`` of its record hashes.

    DuckDB joins each chunk's hashes in ``seq`` order; the chunks are hashed
    here, as they arrive: hashlib is many times faster than DuckDB's
    ``sha256`` over long texts (a million records' chunks are 70 MB). One
    statement aggregates one span of :data:`DIGEST_SPAN` seqs (whole chunks):
    ``string_agg`` over a million records at once held ~500 MiB.
    """
    where = "TRUE" if commit_id is None else f"commit_id = {int(commit_id)}"
    records = " UNION ALL ".join(f"SELECT commit_id, seq, hash FROM {t} WHERE {where}" for t in RECORD_TABLES)
    # A span's first and last seq bound exactly its records (seq // n groups contiguous ranges of seq).
    spans = con.execute(f"SELECT min(seq), max(seq) FROM ({records}) GROUP BY seq // {DIGEST_SPAN} ORDER BY 1")
    digests: dict[int, tuple[int, str]] = {}
    for first, last in spans.fetchall():
        chunks = con.execute(f"""
            SELECT commit_id, count(*), string_agg(hash, '' ORDER BY seq)
            FROM ({records}) WHERE seq BETWEEN {first} AND {last}
            GROUP BY commit_id, seq // {DIGEST_CHUNK} ORDER BY commit_id, seq // {DIGEST_CHUNK}
        """).fetchall()
        for commit, n, hashes in chunks:
            count, digest = digests.get(commit, (0, ""))
            digests[commit] = (count + n, digest + _sha256(hashes))
    return digests


def head_of(prev_head: str, commit_id: int, command: str, committed_at: datetime, digest: str) -> str:
    """A commit's head from its fields and the digest of its records (:func:`commit_digests`)."""
    at = committed_at.strftime("%H:%M:%S.%f")
    fields = f"{commit_id}|{command}|{committed_at.year:04d}-{committed_at.month:02d}-{committed_at.day:02d}T{at}|"
    return _sha256(prev_head + fields + digest)


# -- the first thing that does not match --------------------------------------


@dataclass(frozen=True)
class BadRecord:
    """A record whose hash does not cover its content (or whose commit is gone)."""

    table: str
    seq: int
    commit_id: int
    question_id: str


@dataclass(frozen=True)
class BadCommit:
    """A commit whose head, link or record count does not match; ``why`` says which."""

    id: int
    command: str
    committed_at: datetime
    why: str


def first_bad_record(con) -> BadRecord | None:
    """The first record (by table, then seq) whose stored hash is not its recomputed hash."""
    for table in RECORD_TABLES:
        question = "r.id" if table == "question_records" else "r.question_id"
        row = con.execute(
            f"""
            SELECT r.seq, r.commit_id, {question}
            FROM {table} r LEFT JOIN commits c ON c.id = r.commit_id
            WHERE c.id IS NULL OR r.hash <> {record_hash_sql(table, "r", "c.prev_head")}
            ORDER BY r.seq LIMIT 1
            """
        ).fetchone()
        if row:
            return BadRecord(table, *row)
    return None


def first_bad_commit(con) -> BadCommit | None:
    """The first commit that is missing, unlinked, short of records or not matching its head."""
    digests = commit_digests(con)
    expected_prev = GENESIS
    commits = con.execute("SELECT id, command, committed_at, n_records, prev_head, head FROM commits ORDER BY id")
    position = 0
    while rows := commits.fetchmany(4096):
        for commit_id, command, at, expected, prev_head, head in rows:
            position += 1
            found, digest = digests.get(commit_id, (0, ""))
            if commit_id != position:
                why = "a commit before it is missing"
            elif found != expected:
                why = f"it wrote {expected} records, {found} are left (deleted outside ledger)"
            elif prev_head != expected_prev:
                why = "it does not link to the head of the commit before it"
            elif head != head_of(prev_head, commit_id, command, at, digest):
                why = "its head hash does not match its records"
            else:
                expected_prev = head
                continue
            return BadCommit(commit_id, command, at, why)
    return None


def first_orphan_record(con) -> int | None:
    """The smallest seq of a record that belongs to no commit."""
    union = " UNION ALL ".join(f"SELECT seq, commit_id FROM {t}" for t in RECORD_TABLES)
    return con.execute(
        f"SELECT min(seq) FROM ({union}) WHERE commit_id NOT IN (SELECT id FROM commits)"
    ).fetchone()[0]


# -- the reference implementation in Python ---------------------------------


def _double_text(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if math.isinf(x):
        return sign + "Infinity"
    if x == 0:
        return sign + "0.0"
    _, digit_tuple, exponent = Decimal(repr(abs(x))).as_tuple()
    digits = "".join(map(str, digit_tuple)).rstrip("0")  # a Decimal of a repr has no leading zeros
    point = len(digit_tuple) + exponent  # value = 0.digits × 10^point
    n = len(digits)
    if point <= -6 or point > 21:
        return f"{sign}{digits[0]}{'.' + digits[1:] if n > 1 else ''}e{point - 1}"
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= n:
        return f"{sign}{digits}{'0' * (point - n)}.0"
    return f"{sign}{digits[:point]}.{digits[point:]}"


def _value_text(kind: str, value: Any) -> str:
    if value is None:
        return "null"
    if kind.endswith("[]"):
        return "[" + ",".join(_value_text(kind[:-2], item) for item in value) + "]"
    if kind == "VARCHAR":
        return '"' + value.translate(_TRANSLATION) + '"'
    if kind == "DOUBLE":
        return _double_text(float(value))
    if kind == "BIGINT":
        return str(int(value))
    if kind == "BOOLEAN":
        return "true" if value else "false"
    if kind == "DATE":
        if isinstance(value, datetime):
            raise TypeError("a DATE field holds a date, not a datetime")
        return f'"{value.year:04d}-{value.month:02d}-{value.day:02d}"'
    if kind == "TIMESTAMP":
        if not isinstance(value, datetime) or value.tzinfo is not None:
            raise TypeError("a TIMESTAMP field holds a naive UTC datetime")
        fraction = f".{value.microsecond:06d}".rstrip("0").rstrip(".")
        return (f'"{value.year:04d}-{value.month:02d}-{value.day:02d} '
                f'{value.hour:02d}:{value.minute:02d}:{value.second:02d}{fraction}"')
    raise ValueError(f"no canonical form for column type {kind}")


def canonical_text(table: str, row: Mapping[str, Any]) -> str:
    """The canonical text of a record: ``row`` maps each field of ``table`` to its value."""
    return "{" + ",".join(f'"{name}":{_value_text(kind, row[name])}' for name, kind in RECORD_FIELDS[table]) + "}"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_hash(prev_head: str, table: str, row: Mapping[str, Any]) -> str:
    """A record's hash: the previous head and its canonical text."""
    return _sha256(prev_head + canonical_text(table, row))


def commit_head(prev_head: str, commit_id: int, command: str, committed_at: datetime,
                records: Iterable[tuple[int, str]]) -> str:
    """A commit's head from its fields and its records' ``(seq, hash)``, in any order."""
    chunks: dict[int, list[tuple[int, str]]] = {}
    for seq, digest in records:
        chunks.setdefault(seq // DIGEST_CHUNK, []).append((seq, digest))
    digest = "".join(_sha256("".join(h for _, h in sorted(chunks[c]))) for c in sorted(chunks))
    return head_of(prev_head, commit_id, command, committed_at, digest)


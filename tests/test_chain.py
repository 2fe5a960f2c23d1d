"""The canonical record form and the chain are a contract: pinned here byte for byte.

If a test here fails, a change (ours or a dependency's) altered what the
hashes cover, and every existing ledger would fail `ledger verify`.
"""

from __future__ import annotations

import gzip
import json
import shutil
import time
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import chain, migrations
from ledger.store import Store, refresh_state

DATA = Path(__file__).parent / "data"
PREV = "e61ae4a5e66967ab0d3485d256f90f8b4f04ec407603e887debbb15b03c9f937"
AWKWARD = 'q" b\\ /\t\n\r\b\f\x00\x01\x1f\x7f\x85é😀\u2028'
AWKWARD_TEXT = '"q\\" b\\\\ /\\t\\n\\r\\b\\f\\u0000\\u0001\\u001F\x7f\x85é😀\u2028"'

# (table, row, its canonical text, sha256(PREV || text)) — written out by hand
# from the contract in ledger/chain.py, never recomputed by the code under test.
GOLDEN = [
    (
        "question_records",
        dict(seq=1, commit_id=1, id="ba19ac81d4e5f607", kind="binary", statement=AWKWARD, criteria=None,
             resolve_by=date(2027, 6, 30), options=None, tags=[], source_title="T", source_author=None,
             source_outlet=None, source_url="https://x.org/a?b=c&d", source_published=date(1, 1, 1), quote="“q”",
             created_at=datetime(2025, 2, 25, 1, 2, 3, 123400)),
        '{"seq":1,"commit_id":1,"id":"ba19ac81d4e5f607","kind":"binary","statement":' + AWKWARD_TEXT
        + ',"criteria":null,"resolve_by":"2027-06-30","options":null,"tags":[],"source_title":"T",'
        '"source_author":null,"source_outlet":null,"source_url":"https://x.org/a?b=c&d",'
        '"source_published":"0001-01-01","quote":"“q”","created_at":"2025-02-25 01:02:03.1234"}',
        "0a5a5460edb936b0d404fda0637e6d20713ef6dca9b7df035b56fdaf261f050b",
    ),
    (
        "forecast_records",
        dict(seq=2, commit_id=1, question_id="ba19ac81d4e5f607", forecaster="ann", probability=1e-05,
             probabilities=None, made_at=datetime(2025, 2, 25), recorded_at=datetime(2025, 2, 25, 1, 2, 3, 1),
             note=AWKWARD),
        '{"seq":2,"commit_id":1,"question_id":"ba19ac81d4e5f607","forecaster":"ann","probability":0.00001,'
        '"probabilities":null,"made_at":"2025-02-25 00:00:00","recorded_at":"2025-02-25 01:02:03.000001",'
        '"note":' + AWKWARD_TEXT + '}',
        "f022d174691caebbdd8ab570afbc6db0c735031ad3bf49a0d7591a30ffcadb08",
    ),
    (
        "forecast_records",
        dict(seq=3, commit_id=1, question_id="ba19ac81d4e5f607", forecaster="bob", probability=None,
             probabilities=[0.1, 1.0, 1.5, 1e-07, 0.30000000000000004, 1e22, 123456789012345678.0, -0.0, 5e-324],
             made_at=datetime(9999, 12, 31, 23, 59, 59, 999999), recorded_at=datetime(2025, 2, 25, 1, 2, 3, 100000),
             note=""),
        '{"seq":3,"commit_id":1,"question_id":"ba19ac81d4e5f607","forecaster":"bob","probability":null,'
        '"probabilities":[0.1,1.0,1.5,1e-7,0.30000000000000004,1e22,123456789012345680.0,-0.0,5e-324],'
        '"made_at":"9999-12-31 23:59:59.999999","recorded_at":"2025-02-25 01:02:03.1","note":""}',
        "9720bff55cc554a43cfb75757fbf046f041392ba1b833af95cc4cef336c1c530",
    ),
    (
        "resolution_records",
        dict(seq=4, commit_id=2, question_id="ba19ac81d4e5f607", outcome=None, annulled=True,
             resolved_at=datetime(2026, 1, 1), note=AWKWARD, evidence=None, resolver="r",
             recorded_at=datetime(2026, 1, 2, 3, 4, 5)),
        '{"seq":4,"commit_id":2,"question_id":"ba19ac81d4e5f607","outcome":null,"annulled":true,'
        '"resolved_at":"2026-01-01 00:00:00","note":' + AWKWARD_TEXT
        + ',"evidence":null,"resolver":"r","recorded_at":"2026-01-02 03:04:05"}',
        "40a1aac3f3ff2d3d2e8a827a49731650416d8dfa320e14d36fa3a67f6d098bb2",
    ),
    (
        "edit_records",
        dict(seq=5, commit_id=2, question_id="ba19ac81d4e5f607", field="tags", value='["a","b"]', reason=None,
             editor="ed", recorded_at=datetime(2026, 1, 2, 3, 4, 5, 600)),
        '{"seq":5,"commit_id":2,"question_id":"ba19ac81d4e5f607","field":"tags","value":"[\\"a\\",\\"b\\"]",'
        '"reason":null,"editor":"ed","recorded_at":"2026-01-02 03:04:05.0006"}',
        "dc3b32cf3e19307450d6b011df12d3c9d7c7d339a0cae4bebd0fe595457b4859",
    ),
]
GOLDEN_COMMIT = (
    (PREV, 7, "import a|b.csv", datetime(2026, 1, 2, 3, 4, 5), [(9000, "a" * 64), (5, "b" * 64), (8191, "c" * 64)]),
    "da30f0ddda39cfb5007a98f79a19d549d211aa705a44600f783cc36a7f0e41ae",
)


def _record_tables() -> duckdb.DuckDBPyConnection:
    """An in-memory database with the real record tables, made by the real migrations."""
    con = duckdb.connect()
    migrations.migrate(con, migrations.MIGRATIONS)
    return con


def _insert(con, table: str, row: dict) -> None:
    names = [name for name, _ in chain.RECORD_FIELDS[table]]
    con.execute(
        f"INSERT INTO {table} ({', '.join(names)}, hash) VALUES ({', '.join('?' for _ in names)}, '')",
        [row[name] for name in names],
    )


def _sql_texts(con, table: str, portable: bool | None = None) -> list[tuple[str, str]]:
    """(canonical text, hash over PREV) of every row of ``table``, computed by the SQL form."""
    text = chain.canonical_sql(table, "r", portable=portable)
    digest = chain.record_hash_sql(table, "r", chain.sql_text(PREV), portable=portable)
    return con.execute(f"SELECT {text}, {digest} FROM {table} r ORDER BY seq").fetchall()


# Both SQL forms: the portable expression, and DuckDB's to_json (used where it is canonical).
FORMS = {"portable": True, "to_json": False}


def test_to_json_is_the_form_used_on_the_installed_duckdb():
    """If this fails, DuckDB's version left the range proven here: check the to_json form, then widen the range."""
    assert not chain.canonical_sql("forecast_records", "r").startswith("concat(")


@pytest.mark.parametrize(("table", "row", "text", "digest"), GOLDEN, ids=[f"{g[0]}-{g[1]['seq']}" for g in GOLDEN])
def test_python_form_matches_the_golden_text_and_hash(table, row, text, digest):
    assert chain.canonical_text(table, row) == text
    assert chain.record_hash(PREV, table, row) == digest


SESSIONS = {
    "default": [],
    "new-york": ["SET TimeZone = 'America/New_York'"],
    "chatham-japanese-calendar": ["SET TimeZone = 'Pacific/Chatham'", "SET Calendar = 'japanese'"],
    "one-thread-nocase": ["SET threads = 1", "SET default_collation = 'nocase'"],
}


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("session", SESSIONS)
def test_sql_form_matches_the_golden_hashes_whatever_the_session_settings(session, form):
    con = _record_tables()
    for statement in SESSIONS[session]:
        con.execute(statement)
    for table, row, _, _ in GOLDEN:
        _insert(con, table, row)
    for table in chain.RECORD_TABLES:
        expected = [(text, digest) for t, row, text, digest in sorted(GOLDEN, key=lambda g: g[1]["seq"]) if t == table]
        assert _sql_texts(con, table, FORMS[form]) == expected


def test_python_form_does_not_depend_on_the_process_time_zone(monkeypatch):
    for zone in ("America/New_York", "Asia/Kolkata", "UTC"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        assert [chain.record_hash(PREV, t, row) for t, row, _, _ in GOLDEN] == [g[3] for g in GOLDEN]
    monkeypatch.delenv("TZ")
    time.tzset()


def test_commit_head_golden_in_python_and_from_the_tables():
    (prev, commit_id, command, at, records), head = GOLDEN_COMMIT
    assert chain.commit_head(prev, commit_id, command, at, records) == head
    con = _record_tables()
    for seq, digest in records:
        con.execute("INSERT INTO edit_records VALUES (?, ?, 'q', 'tags', '[]', NULL, NULL, now(), ?)",
                    [seq, commit_id, digest])
    con.execute("INSERT INTO edit_records VALUES (1, 6, 'q', 'tags', '[]', NULL, NULL, now(), ?)", ["d" * 64])
    digests = chain.commit_digests(con, commit_id)
    assert list(digests) == [commit_id] and digests[commit_id][0] == len(records)
    assert chain.head_of(prev, commit_id, command, at, digests[commit_id][1]) == head
    assert chain.commit_digests(con)[commit_id] == digests[commit_id]


def test_commit_digests_of_commits_across_spans_and_tables_match_the_python_form():
    """Records of two commits in three record tables, seqs across chunk and span boundaries (aggregated a span
    at a time), give each commit the head the Python reference computes from its (seq, hash) pairs."""
    span, chunk = chain.DIGEST_SPAN, chain.DIGEST_CHUNK
    seqs = [1, chunk - 1, chunk, span - 1, span, span + chunk + 3, 3 * span + 7, 3 * span + 8]
    golden = {table: row for table, row, _, _ in GOLDEN}  # a full row of each table (any hash will do here)
    tables = sorted(golden)
    con = _record_tables()
    records: dict[int, list[tuple[int, str]]] = {1: [], 2: []}
    for i, seq in enumerate(seqs):
        commit_id, digest, table = 1 + i % 2, f"{i:x}" * 64, tables[i % len(tables)]
        row = golden[table] | {"seq": seq, "commit_id": commit_id}
        names = [name for name, _ in chain.RECORD_FIELDS[table]]
        con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in names)}, ?)",
                    [*(row[name] for name in names), digest])
        records[commit_id].append((seq, digest))
    at = datetime(2026, 1, 2, 3, 4, 5)
    digests = chain.commit_digests(con)
    for commit_id, pairs in records.items():
        assert digests[commit_id][0] == len(pairs)
        assert chain.head_of(PREV, commit_id, "c", at, digests[commit_id][1]) == \
            chain.commit_head(PREV, commit_id, "c", at, pairs)
        assert chain.commit_digests(con, commit_id) == {commit_id: digests[commit_id]}


def test_record_fields_are_the_migrated_tables_columns():
    con = _record_tables()
    for table, fields in chain.RECORD_FIELDS.items():
        columns = con.execute(
            "SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ? ORDER BY column_index", [table]
        ).fetchall()
        assert tuple(columns) == (*fields, ("hash", "VARCHAR"))


text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
moment = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59, 999999))
number = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "question": st.fixed_dictionaries({
        "statement": text, "criteria": st.none() | text, "resolve_by": st.dates(), "options": st.none() | st.lists(text),
        "tags": st.lists(text, max_size=3), "source_published": st.none() | st.dates(), "created_at": moment,
    }),
    "forecast": st.fixed_dictionaries({
        "probability": st.none() | number, "probabilities": st.none() | st.lists(st.none() | number, max_size=4),
        "made_at": moment, "note": st.none() | text,
    }),
    "resolution": st.fixed_dictionaries({"outcome": st.none() | text, "annulled": st.booleans(), "resolved_at": moment}),
}), min_size=1, max_size=5))
def test_sql_and_python_forms_agree(rows):
    con = _record_tables()
    expected: dict[str, list[str]] = {table: [] for table in chain.RECORD_TABLES}
    for seq, generated in enumerate(rows, start=1):
        base = {"seq": seq, "commit_id": 1}
        records = {
            "question_records": {**base, "id": "q", "kind": "binary", "source_title": None, "source_author": None,
                                 "source_outlet": None, "source_url": None, "quote": None, **generated["question"]},
            "forecast_records": {**base, "question_id": "q", "forecaster": "f", "recorded_at": datetime(2025, 1, 1),
                                 **generated["forecast"]},
            "resolution_records": {**base, "question_id": "q", "note": None, "evidence": None, "resolver": None,
                                   "recorded_at": datetime(2025, 1, 1), **generated["resolution"]},
        }
        for table, row in records.items():
            _insert(con, table, row)
            expected[table].append(chain.canonical_text(table, row))
    for table in records:
        for portable in FORMS.values():
            assert [sql_text for sql_text, _ in _sql_texts(con, table, portable)] == expected[table]


def _fixture(tmp_path, name: str) -> Path:
    target = tmp_path / name.removesuffix(".gz")
    with gzip.open(DATA / name) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out)
    return target


def test_a_ledger_hashed_before_the_chain_module_still_verifies(tmp_path):
    """Written by the code that hashed DuckDB's own to_json text (tests/data/make_ledger_before_chain.py)."""
    path = _fixture(tmp_path, "ledger-before-chain-duckdb-1.5.duckdb.gz")
    with Store.open(path, create=False) as store:
        report = store.verify()
    assert (report.n_records, report.n_commits) == (23, 6)
    assert report.head == "db368044401fdec175e8e03ea1c209f19c0a14d52375afa93e6556e8b7f09369"


def test_golden_rows_written_through_a_real_ledger_file_verify(tmp_path):
    """The golden rows stored in a file, with hashes from the Python form, pass the SQL verify."""
    path = tmp_path / "golden.duckdb"
    Store.open(path).close()
    con = duckdb.connect(str(path))
    at = datetime(2026, 1, 2, 3, 4, 5)
    prev = chain.GENESIS
    for commit_id in (1, 2):
        records = [(t, row) for t, row, _, _ in GOLDEN if row["commit_id"] == commit_id]
        hashes = []
        for table, row in records:
            names = [name for name, _ in chain.RECORD_FIELDS[table]]
            digest = chain.record_hash(prev, table, row)
            con.execute(f"INSERT INTO {table} VALUES ({', '.join('?' for _ in names)}, ?)",
                        [*(row[n] for n in names), digest])
            hashes.append((row["seq"], digest))
        head = chain.commit_head(prev, commit_id, "golden", at, hashes)
        con.execute("INSERT INTO commits VALUES (?, ?, 'golden', ?, ?, ?)", [commit_id, at, len(records), prev, head])
        prev = head
    refresh_state(con, "TRUE")  # a writer keeps the questions' state beside its records (verify checks it)
    con.close()
    with Store.open(path, create=False) as store:
        assert store.verify().head == prev


zoned = st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.timezones())


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "table": st.sampled_from(["question_records", "forecast_records", "resolution_records", "edit_records"]),
    "text": text, "maybe": st.none() | text, "day": st.dates(), "moment": moment | zoned,
    "number": st.none() | number | st.integers(-10**15, 10**15), "numbers": st.none() | st.lists(st.none() | number, max_size=3),
    "words": st.lists(text, max_size=3), "flag": st.booleans(),
}), min_size=1, max_size=4), st.booleans())
def test_rows_hashed_in_python_by_the_writer_pass_the_sql_verify(rows, bulk_too):
    """A domain write's rows (hashed by the Python reference) and its commit head verify in SQL,
    alone and in a commit that also has a bulk (SQL-hashed) append."""
    import tempfile

    values = {
        "question_records": lambda r: {"id": r["text"], "kind": "binary", "statement": r["text"], "criteria": r["maybe"],
                                       "resolve_by": r["day"], "options": r["words"] or None, "tags": r["words"],
                                       "source_title": r["maybe"], "source_author": None, "source_outlet": r["text"],
                                       "source_url": None, "source_published": r["day"], "quote": r["maybe"],
                                       "created_at": r["moment"]},
        "forecast_records": lambda r: {"question_id": r["text"], "forecaster": r["text"], "probability": r["number"],
                                       "probabilities": r["numbers"], "made_at": r["moment"],
                                       "recorded_at": r["moment"], "note": r["maybe"]},
        "resolution_records": lambda r: {"question_id": r["text"], "outcome": r["maybe"], "annulled": r["flag"],
                                         "resolved_at": r["moment"], "note": r["maybe"], "evidence": None,
                                         "resolver": r["text"], "recorded_at": r["moment"]},
        # an edit's value is JSON, as every edit stores it (the questions' kept state reads it)
        "edit_records": lambda r: {"question_id": r["text"], "field": "tags", "value": json.dumps([r["text"]]),
                                   "reason": r["maybe"],
                                   "editor": None, "recorded_at": r["moment"]},
    }
    with tempfile.TemporaryDirectory() as directory, Store.open(Path(directory) / "l.duckdb") as store:
        for commit in range(2):
            with store.write(f"test {commit}", at=datetime(2020, 1, 1 + commit)) as writer:
                for row in rows:
                    writer.append_row(row["table"], values[row["table"]](row))
                if bulk_too and commit:
                    writer.append("edit_records", "SELECT 'q', 'tags', '[]', NULL, NULL, TIMESTAMP '2020-01-02', 1")
        report = store.verify()
        assert (report.n_records, report.n_commits) == (2 * len(rows) + bulk_too, 2)

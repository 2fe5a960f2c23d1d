"""`ledger score`'s tamper check remembers a full verify of an unchanged file, and nothing else.

Each test waits SETTLED seconds after its last write: a file written within
that time is never remembered (see ledger.verified).
"""

from __future__ import annotations

import json
import os
import shutil
import time

import duckdb

from ledger.store import Store
from ledger.verified import SETTLED, entry_path, verify_once

WARNING = "warning: this ledger does not verify"


def _ledger(cli, db_path) -> None:
    question = cli("add", "A", "-p", "80%", "--by", "2026", "-c", "as stated", "--at", "2025-01-01").stdout.strip()
    cli("resolve", question, "yes", "--on", "2025-06-01")
    _settle()


def _settle() -> None:
    time.sleep(SETTLED + 0.2)


def _tamper(db_path) -> None:
    con = duckdb.connect(str(db_path))
    con.execute("UPDATE forecast_records SET probability = 0.99 WHERE seq = (SELECT min(seq) FROM forecast_records)")
    con.close()


def _verify_once(db_path) -> bool:
    """Whether the check verified in full (False: a remembered verify held, nothing was hashed)."""
    with Store.open(db_path, create=False, read_only=True) as store:
        return verify_once(store) is not None


def test_a_cache_hit_skips_the_rehash_and_scores_are_the_same(cli, db_path):
    _ledger(cli, db_path)
    assert not entry_path(db_path).exists()
    first = cli("score", "--json", "--resamples", "0")
    entry = entry_path(db_path)
    remembered = json.loads(entry.read_text())
    assert remembered["path"] == os.path.realpath(db_path) and remembered["records"] > 0
    written = entry.stat().st_mtime_ns
    assert _verify_once(db_path) is False  # the hit: no hashing
    second = cli("score", "--json", "--resamples", "0")
    assert entry.stat().st_mtime_ns == written  # a hit writes nothing
    assert second.stdout == first.stdout and WARNING not in first.stderr + second.stderr


def test_a_record_edited_after_a_cached_verify_is_still_caught(cli, db_path):
    _ledger(cli, db_path)
    assert _verify_once(db_path) is True
    _tamper(db_path)
    assert WARNING in cli("score", "--resamples", "0").stderr  # at once
    _settle()
    assert WARNING in cli("score", "--resamples", "0").stderr  # and once the edit has settled


def test_a_touched_back_mtime_is_still_caught(cli, db_path):
    _ledger(cli, db_path)
    assert _verify_once(db_path) is True
    before = db_path.stat()
    _tamper(db_path)
    os.utime(db_path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert db_path.stat().st_mtime_ns == before.st_mtime_ns
    _settle()
    assert WARNING in cli("score", "--resamples", "0").stderr


def test_another_file_at_the_same_path_verifies_in_full(cli, db_path, tmp_path):
    _ledger(cli, db_path)
    assert _verify_once(db_path) is True
    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(db_path, copy)
    _tamper(copy)
    os.replace(copy, db_path)  # same path, same size class, another inode
    _settle()
    assert WARNING in cli("score", "--resamples", "0").stderr


def test_ledger_verify_is_always_in_full_and_remembers_a_success(cli, db_path):
    _ledger(cli, db_path)
    cli("verify")
    assert _verify_once(db_path) is False
    _tamper(db_path)
    _settle()
    assert cli("verify", ok=False).exit_code == 5
    assert WARNING in cli("score", "--resamples", "0").stderr


def test_a_freshly_written_file_or_a_write_ahead_log_is_never_remembered(cli, db_path):
    cli("add", "A", "-p", "80%", "--by", "2026", "-c", "as stated")
    assert _verify_once(db_path) is True and not entry_path(db_path).exists()  # written within SETTLED
    _settle()
    wal = db_path.with_name(db_path.name + ".wal")
    wal.write_bytes(b"")  # content that is not in the file itself
    try:
        assert _verify_once(db_path) is True and not entry_path(db_path).exists()
    finally:
        wal.unlink()
    assert _verify_once(db_path) is True and entry_path(db_path).exists()
    assert _verify_once(db_path) is False

"""A successful full verify of a ledger file, remembered, so ``ledger score`` need not re-hash an unchanged file.

``ledger score`` warns when the ledger does not verify, and a full verify of a
million records takes seconds: most of a score. A file that has not changed
since it last verified need not be hashed again. So a successful verify leaves,
in the user's cache directory (``$XDG_CACHE_HOME/forecast-ledger/verified``,
``~/.cache`` by default), the file's identity as it was verified: its real path,
device and inode, size, modification and status-change times in nanoseconds,
the chain head and record count, and the versions of ledger and DuckDB that
checked it. A later :func:`verify_once` that finds every one of them the same
trusts that verify; any difference is a full verify again.

Why that is enough: every write to a file moves its status-change time (ctime)
to now, and no user can set it back (``touch`` and ``os.utime`` set the
modification time, and move the ctime to now), so a record edited with any
DuckDB client changes the identity even if the modification time is put back.

Never remembered: a file with a write-ahead log beside it (its content is more
than the file); a file whose ctime is within :data:`SETTLED` seconds of now (a
second write in the same clock tick of the file system could leave the ctime as
it was); a file whose identity changed while it was being verified; a team
ledger on PostgreSQL (no file: always verified in full); any file on Windows
(its ``st_ctime`` is the creation time, which a write does not move).
``ledger verify`` always verifies in full (``again``), and remembers a success.

The entry is as trustworthy as the user's cache directory: whoever can write
it can as well change the installed program. A file changed by a writer that
ignores DuckDB's lock while it is being verified is beyond any check, cached or
not (the scores are read after the verify).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path
from typing import Any

__all__ = ["SETTLED", "cache_dir", "entry_path", "verify_once"]

SETTLED = 1.0  # seconds: far above a file system's timestamp tick (a jiffy, a few ms), below a user's pause


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/forecast-ledger`` (``~/.cache`` by default): what can be recomputed, never a record."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "forecast-ledger"


def entry_path(path: Path) -> Path:
    """Where a verify of the ledger file at ``path`` is remembered: one small JSON file a ledger."""
    digest = hashlib.sha256(os.fsencode(os.path.realpath(path))).hexdigest()[:32]
    return cache_dir() / "verified" / f"{digest}.json"


def verify_once(store, *, again: bool = False):
    """Verify ``store`` unless this very file is remembered as verified (or ``again``), and remember a success.

    Returns the :class:`~ledger.store.VerifyReport` of a full verify, or None
    when a remembered one holds. Raises :class:`~ledger.errors.Tampered` as
    :meth:`Store.verify` does; a failed verify is never remembered, and no old
    entry matches the changed file.
    """
    before = _identity(store)
    if not again and before is not None and _recalled(store.path) == before:
        return None
    report = store.verify()
    if before is not None and _identity(store) == before:
        _write(store.path, before)
    return report


def _identity(store) -> dict[str, Any] | None:
    """What must be the same for a past verify to hold; None when no verify of this ledger may be remembered."""
    path = store.path
    # A server ledger; content beyond the file; Windows, whose st_ctime is the creation time, which a write
    # does not move.
    if not isinstance(path, Path) or os.path.exists(f"{path}.wal") or os.name == "nt":
        return None
    import duckdb

    import ledger

    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except OSError:
        return None
    if time.time_ns() - st.st_ctime_ns < SETTLED * 1e9:
        return None
    n_records, head = store.head()
    return {"path": real, "device": st.st_dev, "inode": st.st_ino, "size": st.st_size, "mtime_ns": st.st_mtime_ns,
            "ctime_ns": st.st_ctime_ns, "head": head, "records": n_records, "ledger": ledger.__version__,
            "duckdb": duckdb.__version__}


def _recalled(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(entry_path(path).read_text())
    except (OSError, ValueError):  # none yet, unreadable or cut short: a full verify, as without a cache
        return None


def _write(path: Path, identity: dict[str, Any]) -> None:
    """Replace the entry atomically; a cache that cannot be written only means a full verify next time."""
    target = entry_path(path)
    temporary = target.with_name(f".{target.name}.{os.getpid()}")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(json.dumps(identity))
        os.replace(temporary, target)
    except OSError:
        with contextlib.suppress(OSError):
            temporary.unlink(missing_ok=True)

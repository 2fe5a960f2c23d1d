"""Files a command writes for the user: never a ledger, never a file the command
did not make (unless forced), never half-written.

A command that writes a file (``calendar -o``, ``review --summary``, ``export
-o``, ``extract -o``) goes through :func:`replacing`: the target is checked
first (:func:`check_target`), the content is written to a temporary file
beside it, and only a complete file is renamed over the target. A crash, a
full disk or Ctrl-C leaves the target as it was.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["check_target", "is_duckdb_file", "replacing"]

_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file


def is_duckdb_file(path: Path) -> bool:
    """Whether ``path`` (followed through symlinks) is a DuckDB database, such as a ledger."""
    try:
        with path.open("rb") as handle:
            return handle.read(12)[8:12] == _DUCKDB_MAGIC
    except OSError:
        return False


def _same(target: Path, other: Path) -> bool:
    """Whether two paths name one file (through symlinks, hard links and ``..``)."""
    try:
        return os.path.samefile(target, other)
    except OSError:
        return target.resolve() == other.resolve()


def _head(path: Path, size: int) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(size)
    except OSError:
        return b""


def check_target(path: Path, *, ledgers: Iterable[Path], force: bool = False,
                 ours: tuple[bytes, ...] = ()) -> None:
    """Refuse a target that is a ledger (ever) or an existing file this command did not write
    (unless ``force``). ``ours`` are the openings of what the command writes, so it may
    replace its own earlier output (last week's calendar) without ``--force``."""
    if path.is_dir():
        raise LedgerError(f"{path} is a folder: give a file name")
    if not path.parent.is_dir():
        raise LedgerError(f"cannot write {path}: there is no folder {path.parent}")
    for ledger in ledgers:
        for part in (ledger, ledger.with_name(ledger.name + ".wal")):
            if _same(path, part):
                raise LedgerError(f"refusing to write over the ledger {ledger}")
    if not (path.exists() or path.is_symlink()):
        return
    if is_duckdb_file(path):
        raise LedgerError(f"refusing to write over {path}: it is a DuckDB database (a ledger?)")
    if not force and not (ours and _head(path, max(map(len, ours))).startswith(ours)):
        raise LedgerError(f"{path} exists and this command did not write it; use --force to replace it")


@contextmanager
def replacing(path: Path, *, ledgers: Iterable[Path], force: bool = False,
              ours: tuple[bytes, ...] = ()) -> Iterator[Path]:
    """Yield a temporary file beside ``path``; when the block ends without an error it
    replaces ``path`` in one rename (a symlink at ``path`` is replaced, not followed).
    On any error, Ctrl-C included, the temporary file is removed and ``path`` is untouched."""
    ledgers = list(ledgers)
    check_target(path, ledgers=ledgers, force=force, ours=ours)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    temporary = Path(name)
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # the mode a plain open() would give, not mkstemp's 0600
        yield temporary
        check_target(path, ledgers=ledgers, force=force, ours=ours)  # nothing appeared meanwhile
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise

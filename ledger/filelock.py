"""The lock every ledger process takes on a ledger file before DuckDB opens it.

DuckDB (2.0.1 at least) reads a database file's headers through a
descriptor of its own *before* it takes its lock on the file, and does not
read them again once it holds it. A process that read them while another
was committing then works from a state the other has since replaced: its
next commit overwrites the other's, which is lost though both commands
succeeded, or it reads past the end of the file ("Could not read enough
bytes"). Two processes adding at once lost an add about one run in twenty
under load (``test_two_processes_adding_at_once_lose_nothing``).

So a :class:`~ledger.store.Store` first takes an ``flock`` on the file,
shared to read and exclusive to write, and lets it go only after DuckDB has
closed the file: no ledger process reads the headers while another writes.
A program that opens the file with DuckDB directly takes no such lock, and
DuckDB's own lock is all that stands between it and a ledger process.

``flock`` and DuckDB's ``fcntl`` locks are independent, with one catch:
closing *any* descriptor of a file drops every ``fcntl`` lock the process
holds on it. So the descriptor taken here is closed only after DuckDB has
closed the file, and a process holds one descriptor a file, however many
stores it opens on it. Where there is no ``flock`` (Windows, whose DuckDB
lock is mandatory, or a file system without it), nothing is taken.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None

__all__ = ["Hold", "Replaced", "hold"]


class Replaced(Exception):
    """The path names no file, or no longer the one that was locked: removed or replaced meanwhile."""


_held: dict[tuple[int, int], list[int]] = {}  # (device, inode) -> [descriptor, stores holding it]
_guard = threading.Lock()


class Hold:
    """This process's hold on a file's lock; :meth:`release` once, after DuckDB has closed the file."""

    def __init__(self, key: tuple[int, int]):
        self._key: tuple[int, int] | None = key

    def release(self) -> None:
        if self._key is None:
            return
        key, self._key = self._key, None
        with _guard:
            entry = _held[key]
            entry[1] -= 1
            if entry[1] == 0:
                del _held[key]
                os.close(entry[0])


def _key(path: Path) -> tuple[int, int]:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        raise Replaced from None
    return stat.st_dev, stat.st_ino


def hold(path: Path, *, exclusive: bool, deadline: float) -> Hold | None:
    """Take the lock on the file at ``path``, waiting until ``deadline`` (``time.monotonic()``) while
    another process holds it; raise :class:`TimeoutError` then.

    None where no lock can be taken (then DuckDB's lock is all there is); :class:`Replaced` if the
    path names no file, or another file once the lock is had.
    """
    if fcntl is None:
        return None
    key = _key(path)
    with _guard:
        if key in _held:  # another store of this process's has it: a new descriptor closed later would drop DuckDB's lock
            _held[key][1] += 1
            return Hold(key)
    try:
        # Exclusive from a descriptor open for writing: NFS emulates flock with fcntl locks, which need one.
        descriptor = os.open(path, os.O_RDWR if exclusive else os.O_RDONLY)
    except FileNotFoundError:
        raise Replaced from None
    except OSError:  # unreadable, or read-only for a writer: DuckDB will say so in its own words
        return None
    delay = 0.02
    while True:
        try:
            fcntl.flock(descriptor, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= deadline:
                os.close(descriptor)
                raise TimeoutError from None
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
        except OSError:  # a file system without flock
            os.close(descriptor)
            return None
    stat = os.fstat(descriptor)
    try:
        replaced = _key(path) != (stat.st_dev, stat.st_ino)
    except Replaced:
        replaced = True
    if replaced:  # the process that held it removed it (Store.discard_if_unused) or put another in its place
        os.close(descriptor)
        raise Replaced
    with _guard:
        _held[stat.st_dev, stat.st_ino] = [descriptor, 1]
    return Hold((stat.st_dev, stat.st_ino))

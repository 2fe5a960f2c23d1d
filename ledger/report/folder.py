"""Where a report is written, and the rule that it only ever replaces its own files.

A report folder carries a marker file (:data:`MARKER`) listing every file an
earlier ``ledger report`` wrote into it and, for the files written by key
(:meth:`ReportFolder.write_keyed`: the question pages, the side file and the
records files, each keyed by a digest of what it is made from, which covers
the code: :func:`code_digest`), that key, so an unchanged one is not written again. :class:`ReportFolder` refuses:

- the file-system root, and a path that exists and is not a folder;
- a non-empty folder without the marker (not an earlier report of ours),
  unless ``force``;
- a file inside it that the marker does not list (someone else's), unless
  ``force``;
- any path that is, or passes through, a symbolic link (so nothing is ever
  written outside the folder).

Every file is written under a temporary name in its final folder and renamed
over the old one, so a reader (or a kill -9) sees the old page or the new
one, never half of one. Only the files that cannot be written again from the
ledger (the marker, ``heads.json``) are flushed to the disk before the
rename: the pages are, by the next ``ledger report``, and one ``fsync`` a
page was most of a large report's time (103 s of 256 s for 25,000 pages).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["MARKER", "ReportFolder", "atomic_write", "code_digest"]

MARKER = ".forecast-ledger-report"


@functools.cache
def code_digest() -> str:
    """The digest of the package's code and templates, part of every key a file is written by: a file
    that other code would draw differently is written again."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in package.rglob("*") if p.suffix in (".py", ".html", ".sql") and p.is_file()):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def atomic_write(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename;
    ``durable``: on the disk before the rename (a power cut leaves the old file, not an empty one)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "xb") as handle:
            handle.write(data)
            if durable:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class ReportFolder:
    """A folder this command owns: files go in atomically, and only over files it wrote before."""

    def __init__(self, path: Path, *, force: bool = False):
        path = Path(os.path.abspath(path))
        if path.parent == path:
            raise LedgerError(f"refusing to write a report into {path}: choose a folder of its own with --out")
        if path.is_symlink():
            raise LedgerError(f"{path} is a symbolic link; give the real folder with --out")
        if path.exists() and not path.is_dir():
            raise LedgerError(f"{path} exists and is not a folder")
        self.path = path
        self.force = force
        self.owned, self._kept_keys = self._read_marker()
        if self.owned is None and path.exists() and any(path.iterdir()) and not force:
            raise LedgerError(f"{path} is not empty and is not a report folder of ours; "
                              "choose an empty or new folder, or pass --force")
        self.owned = self.owned or set()
        self.written: set[str] = set()
        self.keys: dict[str, list] = {}  # relative -> [key, size, mtime_ns] of the files written by key this run
        self._folders: dict[tuple[str, ...], Path] = {}

    def _read_marker(self) -> tuple[set[str] | None, dict[str, list]]:
        """The files an earlier run wrote, and the keys of those it wrote by key (:meth:`write_keyed`)."""
        marker = self.path / MARKER
        if marker.is_symlink() or not marker.is_file():
            return None, {}
        try:
            content = json.loads(marker.read_text(encoding="utf-8"))
            keys = content.get("keys", {})
            return set(content["files"]), keys if isinstance(keys, dict) else {}
        except (ValueError, KeyError, TypeError, OSError, AttributeError):
            return None, {}

    def target(self, relative: str) -> Path:
        """The path of ``relative`` inside the folder, its folders made, after the ownership checks."""
        parts = Path(relative).parts
        if Path(relative).is_absolute() or ".." in parts:
            raise LedgerError(f"not a path inside the report folder: {relative}")
        current = self._folder(parts[:-1])
        path = current / parts[-1]
        try:
            mode = path.lstat().st_mode  # one look serves the three checks: a page is written many thousand times
        except FileNotFoundError:
            return path
        if stat.S_ISLNK(mode):
            raise LedgerError(f"{path} is a symbolic link; refusing to write through it")
        if relative not in self.owned and not self.force:
            raise LedgerError(f"{path} exists and was not written by ledger report; move it or pass --force")
        if not stat.S_ISREG(mode):
            raise LedgerError(f"{path} exists and is not a file")
        return path

    def _folder(self, parts: tuple[str, ...]) -> Path:
        """The folder ``parts`` inside the report folder, made, none of it a symbolic link; checked once a run."""
        if parts in self._folders:
            return self._folders[parts]
        self.path.mkdir(parents=True, exist_ok=True)
        current = self.path
        for part in parts:
            current = current / part
            if current.is_symlink():
                raise LedgerError(f"{current} is a symbolic link; refusing to write through it")
            current.mkdir(exist_ok=True)
        self._folders[parts] = current
        return current

    def write(self, relative: str, data: str | bytes, *, durable: bool = False) -> Path:
        """Write one file of the report, atomically; ``durable`` for one the ledger cannot give again."""
        path = self.target(relative)
        atomic_write(path, data.encode("utf-8") if isinstance(data, str) else data, durable=durable)
        self.written.add(relative)
        return path

    def holds(self, relative: str, size: int) -> bool:
        """Whether the folder already holds our ``relative`` of this size (plotly.js is not rewritten)."""
        path = self.path / relative
        return relative in self.owned and path.is_file() and not path.is_symlink() and path.stat().st_size == size

    def write_keyed(self, relative: str, key: str, make: Callable[[], str | bytes]) -> bool:
        """Write ``make()`` unless the folder holds what an earlier run wrote for the same ``key`` (a digest
        of the file's content, or of everything it is made from), untouched since (:meth:`unchanged`).
        Whether it was written."""
        if self.unchanged(relative, key):
            return False
        look = self.write(relative, make()).lstat()
        self.keys[relative] = [key, look.st_size, look.st_mtime_ns]
        return True

    def unchanged(self, relative: str, key: str) -> bool:
        """Whether ``relative`` is what an earlier run wrote for ``key``, untouched since (same size and
        modification time: a run killed after rewriting it left the old key behind); if so it counts
        as this run's (:meth:`keep`), so a question page that did not change is not even made again."""
        kept = self._kept_keys.get(relative)
        if not (isinstance(kept, list) and len(kept) == 3 and kept[0] == key and relative in self.owned):
            return False
        try:
            look = (self.path / relative).lstat()
        except OSError:
            return False
        if not (stat.S_ISREG(look.st_mode) and [look.st_size, look.st_mtime_ns] == kept[1:]):
            return False
        self.keep(relative)
        self.keys[relative] = kept
        return True

    def earlier(self, relative: str, digest: Callable[[bytes], str]) -> bytes | None:
        """The bytes of a file an earlier run wrote by key, if ``digest`` of them is still its key (so what
        is read back is exactly what that run wrote); else None, and the file is written again."""
        kept = self._kept_keys.get(relative)
        if not (isinstance(kept, list) and len(kept) == 3 and relative in self.owned):
            return None
        path = self.path / relative
        try:
            if path.is_symlink():
                return None
            data = path.read_bytes()
        except OSError:
            return None
        if digest(data) != kept[0]:
            del self._kept_keys[relative]  # not what was written: written again, whatever its size and time say
            return None
        return data

    def remove(self, relative: str) -> None:
        """Delete a file an earlier run wrote that this one does not (a page with nothing left to show)."""
        if relative in self.owned and relative not in self.written:
            path = self.target(relative)
            if path.exists():
                path.unlink()
            self.owned.discard(relative)
            self.keys.pop(relative, None)

    def keep(self, relative: str) -> None:
        """Count an unchanged file of an earlier run as this run's."""
        self.written.add(relative)

    def finish(self) -> None:
        """Record the files that are ours (written now or before) in the marker, atomically."""
        marker = json.dumps({"generator": "Forecast Ledger", "files": sorted(self.owned | self.written),
                             "keys": self.keys}, indent=0, separators=(",", ":"))
        self.path.mkdir(parents=True, exist_ok=True)
        if (self.path / MARKER).is_symlink():
            raise LedgerError(f"{self.path / MARKER} is a symbolic link; refusing to write through it")
        atomic_write(self.path / MARKER, marker.encode("utf-8"))

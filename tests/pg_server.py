"""A throwaway PostgreSQL cluster for the tests and the team benchmark.

Loaded as a pytest plugin from ``conftest.py``. The ``pg_server`` fixture
starts one cluster per test session and per xdist worker (each worker owns
its own data directory, socket directory and port, so workers never share
a server), and stops and removes it at the end. ``pg_url`` gives each test a
fresh, empty database on it.

Where no PostgreSQL server binaries are installed the tests that need them
skip with the reason; when ``$CI`` is set they fail instead, because CI
installs Debian's ``postgresql`` and must never silently skip them.

The same :class:`Cluster` serves ``benchmarks/team_bench.py`` (with fsync on).
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["Cluster", "find_bin_dir", "missing_server_outcome", "pg_server", "pg_url"]

SUPERUSER = "ledger"


def find_bin_dir() -> Path | None:
    """Where ``initdb`` and ``pg_ctl`` live: ``$LEDGER_PG_BIN`` if set (and only there), else Debian's newest, else ``$PATH``.

    Debian keeps the server binaries out of ``$PATH`` (in
    ``/usr/lib/postgresql/<version>/bin``), so ``$PATH`` alone would miss them.
    """
    if env := os.environ.get("LEDGER_PG_BIN"):
        return Path(env) if (Path(env) / "initdb").is_file() and (Path(env) / "pg_ctl").is_file() else None
    candidates = []
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    candidates.extend(reversed(debian))
    if found := shutil.which("pg_ctl"):
        candidates.append(Path(found).parent)
    return next((d for d in candidates if (d / "initdb").is_file() and (d / "pg_ctl").is_file()), None)


def missing_server_outcome(environ: dict[str, str]) -> tuple[str, str]:
    """What a test needing PostgreSQL does when no server binary exists: ("fail" | "skip", reason).

    CI must run these tests, so there the absence is an install failure, not a skip.
    """
    reason = "no PostgreSQL server binaries (initdb, pg_ctl) found; install Debian's postgresql or set LEDGER_PG_BIN"
    return ("fail", f"{reason} (CI is set: these tests must run)") if environ.get("CI") else ("skip", reason)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_user() -> str | None:
    """The unprivileged account the server runs as when we are root (PostgreSQL refuses to run as root).

    Debian's package creates ``postgres``; ``nobody`` serves where it does not.
    """
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and neither a 'postgres' nor a 'nobody' account exists to run PostgreSQL")


@dataclass
class Cluster:
    """A cluster in a temporary directory of its own, listening on a unix socket there and on a loopback port.

    ``fsync`` is off by default: the tests need a real server, not a durable one.
    """

    bin_dir: Path
    fsync: bool = False
    root: Path | None = None
    port: int = 0

    def start(self) -> Cluster:
        user = _server_user()
        self.root = Path(tempfile.mkdtemp(prefix="ledger-pg-"))
        if user:
            entry = pwd.getpwnam(user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        try:
            self._run(user, "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")
            self.port = _free_port()
            options = (f"-k {self.root} -p {self.port} -c listen_addresses=127.0.0.1 "
                       f"-c fsync={'on' if self.fsync else 'off'} -c max_connections=100")
            self._run(user, "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                      "-w", "-t", "60", "-o", options, "start")
        except BaseException:
            self.stop()
            raise
        return self

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, dbname: str = "postgres", *, via: str = "socket") -> str:
        """A libpq URL: over the unix socket (``?host=<dir>``), or over TCP on loopback (``via="tcp"``)."""
        if via == "tcp":
            return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"
        return f"postgresql://{SUPERUSER}@/{dbname}?host={self.root}&port={self.port}"

    def psql(self, sql: str, dbname: str = "postgres", *, via: str = "socket") -> str:
        """Run SQL as the cluster's superuser with the cluster's own psql; return its unaligned output."""
        result = subprocess.run(
            [str(self.bin_dir / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
             "-d", self.url(dbname, via=via), "-c", sql],
            capture_output=True, text=True,
        )
        if result.returncode:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def create_database(self) -> str:
        """A fresh, empty database; return its name."""
        name = f"t_{uuid.uuid4().hex[:12]}"
        self.psql(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is worth a checkpoint) and remove the directory we made."""
        if self.root is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run(_server_user(), "pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)
        self.root = None

    def _run(self, user: str | None, program: str, *args: str, check: bool = True) -> None:
        result = subprocess.run([str(self.bin_dir / program), *args], user=user, capture_output=True, text=True,
                                cwd=self.root, stdin=subprocess.DEVNULL)
        if check and result.returncode:
            log = self.root / "server.log" if self.root else None
            tail = log.read_text()[-2000:] if log and log.exists() else ""
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr.strip()}\n{tail}")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Cluster]:
    """One running cluster for this session (this xdist worker); skipped or failed where none can exist."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        outcome, reason = missing_server_outcome(dict(os.environ))
        (pytest.fail if outcome == "fail" else pytest.skip)(reason)
    cluster = Cluster(bin_dir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server: Cluster) -> str:
    """The URL of a fresh, empty database for one test."""
    return pg_server.url(pg_server.create_database())

"""Where a ledger lives: a DuckDB file (a path) or a PostgreSQL server (a libpq URL).

``--db`` and ``$LEDGER_DB`` are read as text and sorted here before anything
reaches DuckDB, which would otherwise read ``postgresql:`` as an extension
prefix. Light on purpose: the CLI imports it at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["SCHEMES", "ServerUrl", "location"]

SCHEMES = ("postgresql://", "postgres://")  # libpq's URI schemes


@dataclass(frozen=True)
class ServerUrl:
    """A PostgreSQL ledger's libpq URL. ``str()`` hides the password, so the URL can be shown."""

    url: str

    @property
    def name(self) -> str:
        """The database's name (what a published page calls the ledger; it shows no host or user)."""
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(self.url)
        return parse_qs(parts.query).get("dbname", [parts.path.lstrip("/")])[-1] or "postgresql"

    def __str__(self) -> str:
        hidden = re.sub(r"^(postgres(?:ql)?://[^:/@?]*):[^@/?]*@", r"\1:***@", self.url)
        return re.sub(r"([?&]password=)[^&]*", r"\1***", hidden)


def location(text: str | Path | ServerUrl) -> Path | ServerUrl:
    """A ``postgresql://…`` or ``postgres://…`` value is a server (libpq parameters such as
    ``?host=/run/postgresql`` pass through untouched); anything else is a file path."""
    if isinstance(text, (Path, ServerUrl)):
        return text
    return ServerUrl(text) if text.lower().startswith(SCHEMES) else Path(text)

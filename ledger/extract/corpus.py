"""The labelled corpus the forecast detector is trained and judged on (``corpus/`` in the repository).

One text file holds several documents. A document starts with a header line

    === id: ID | url: URL | outlet: OUTLET | domain: DOMAIN | published: YYYY-MM-DD | licence: TEXT

followed by one sentence a line, each prefixed by its label: ``-`` (not a
forecast) or ``F`` and the probability band the wording implies for each
forecast the sentence makes, comma-separated (``F .7-.9,.55-.8 | text``).
The rules the labels follow are in ``corpus/README.md``.

Documents, not sentences, are split into train / dev / test, by a hash of
the document id and a fixed seed, so that no sentence of a held-out text was
ever seen in training; the ``awards`` domain is held out whole, as a domain
the detector never saw.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = ["Labelled", "Document", "read", "read_all", "split_of", "tuning_documents", "SPLIT_SEED",
           "UNSEEN_DOMAINS", "RETIRED_SETS"]

SPLIT_SEED = "ledger-extract-2026"
UNSEEN_DOMAINS = frozenset({"awards"})
# Held-out sets of earlier rounds whose figures and errors have been read: from issue 16's fifth round they
# are dev sets, and the detector is fitted and cross-validated on them whole, beside train and dev.
RETIRED_SETS = ("unseen", "unseen2", "unseen3")
_HEADER_KEYS = ("id", "url", "outlet", "domain", "published", "licence")
_LINE = re.compile(r"^(?P<label>-|F(?P<bands>[ \d.,\-]*))\s*\|\s(?P<text>.+)$")
_BAND = re.compile(r"^\s*(?P<low>\d*\.?\d+)\s*-\s*(?P<high>\d*\.?\d+)\s*$")


@dataclass(frozen=True)
class Labelled:
    """One sentence as labelled: its text and one probability band per forecast it makes (none: not a forecast)."""

    text: str
    bands: tuple[tuple[float, float], ...]

    @property
    def is_forecast(self) -> bool:
        return bool(self.bands)


@dataclass(frozen=True)
class Document:
    """One labelled text, with where it came from and which split it belongs to."""

    id: str
    url: str
    outlet: str
    domain: str
    published: date
    licence: str
    sentences: tuple[Labelled, ...]

    @property
    def split(self) -> str:
        return split_of(self.id, self.domain)


def split_of(document_id: str, domain: str) -> str:
    """train (60%), dev (20%) or test (20%) by a seeded hash of the id; unseen domains are always test."""
    if domain in UNSEEN_DOMAINS:
        return "test"
    share = int(hashlib.sha256(f"{SPLIT_SEED}:{document_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return "train" if share < 0.6 else "dev" if share < 0.8 else "test"


def _bands(text: str, where: str) -> tuple[tuple[float, float], ...]:
    bands = []
    for part in text.split(","):
        match = _BAND.match(part)
        if match is None or not 0 <= float(match["low"]) <= float(match["high"]) <= 1:
            raise ValueError(f"{where}: bad probability band {part.strip()!r}")
        bands.append((float(match["low"]), float(match["high"])))
    return tuple(bands)


def _header(line: str, where: str) -> dict[str, str]:
    fields = dict(part.split(": ", 1) for part in line[4:].split(" | "))
    if tuple(fields) != _HEADER_KEYS:
        raise ValueError(f"{where}: header must have {', '.join(_HEADER_KEYS)} in that order")
    return fields


def read(path: Path) -> list[Document]:
    """The documents of one corpus file; a malformed line is an error naming its place."""
    documents: list[Document] = []
    header: dict[str, str] | None = None
    sentences: list[Labelled] = []

    def close() -> None:
        if header is not None:
            documents.append(Document(header["id"], header["url"], header["outlet"], header["domain"],
                                      date.fromisoformat(header["published"]), header["licence"], tuple(sentences)))

    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{number}"
        if line.startswith("=== "):
            close()
            header, sentences = _header(line, where), []
        elif line.strip():
            match = _LINE.match(line)
            if match is None or header is None:
                raise ValueError(f"{where}: not a labelled sentence")
            bands = _bands(match["bands"], where) if match["label"] != "-" else ()
            sentences.append(Labelled(match["text"].strip(), bands))
    close()
    return documents


def read_all(directory: Path) -> list[Document]:
    """Every document under ``directory`` (``*.txt``), in file order; ids must be unique."""
    documents = [document for path in sorted(directory.glob("*.txt")) for document in read(path)]
    seen: set[str] = set()
    for document in documents:
        if document.id in seen:
            raise ValueError(f"document id {document.id} appears twice")
        seen.add(document.id)
    return documents


def tuning_documents(root: Path) -> list[Document]:
    """What the detector is fitted and cross-validated on, under ``root`` (the ``corpus/`` directory): the
    train and dev splits of ``sentences`` and the retired held-out sets; never the test split."""
    documents = [document for document in read_all(root / "sentences") if document.split in ("train", "dev")]
    return documents + [document for name in RETIRED_SETS for document in read_all(root / name)]

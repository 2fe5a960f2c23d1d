"""The charts as PNG and SVG images beside the page (``ledger report --png``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ledger.errors import MissingDependency

__all__ = ["find_browser", "write_images"]


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will drive: ``$BROWSER_PATH``, else one on PATH."""
    import os

    if path := os.environ.get("BROWSER_PATH"):
        return path if Path(path).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def write_images(figures: dict[str, dict], out: Path) -> list[Path]:
    """Each chart as PNG and SVG beside the page (kaleido + the system's Chrome/Chromium)."""
    import os

    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise MissingDependency(
            "--png needs kaleido: pip install 'forecast-ledger[png]' (it drives your Chrome or Chromium)") from None
    browser = find_browser()
    if browser is None:
        raise MissingDependency(
            "--png needs Chrome or Chromium: install it (e.g. apt install chromium) or set BROWSER_PATH")
    os.environ.setdefault("BROWSER_PATH", browser)
    import plotly.graph_objects as go
    import plotly.io as pio

    figs, paths = [], []
    for name, figure in figures.items():
        fig = go.Figure(figure)
        for ext in ("png", "svg"):
            figs.append(fig)
            paths.append(out / f"{name}.{ext}")
    try:
        pio.write_images(figs, paths, width=900, height=540, scale=2)
    except Exception as error:  # kaleido reports a missing or broken browser in many ways
        raise MissingDependency(f"could not draw the charts with {browser}: {error}") from None
    return paths

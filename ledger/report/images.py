"""The charts as PNG and SVG images beside the page (``ledger report --png``)."""

from __future__ import annotations

import shutil
from pathlib import Path

from ledger.errors import MissingDependency

__all__ = ["RENDER_TIMEOUT", "find_browser", "write_images"]

# Seconds one image may take once the browser is up (kaleido's default is 90). Images take well under
# a second each on an idle machine; the bound is generous for a loaded one, and still ends a hung render.
RENDER_TIMEOUT = 300


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will drive: ``$BROWSER_PATH``, else one on PATH."""
    import os

    if path := os.environ.get("BROWSER_PATH"):
        return path if Path(path).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def write_images(figures: dict[str, dict], folder) -> list[Path]:
    """Each chart as PNG and SVG beside the page (kaleido + the system's Chrome/Chromium), into the
    :class:`~ledger.report.folder.ReportFolder` ``folder`` (so only over files it wrote before)."""
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
    import kaleido
    import plotly.graph_objects as go

    jobs, paths = [], []
    for name, figure in figures.items():
        fig = go.Figure(figure)
        for ext in ("png", "svg"):
            path = folder.target(f"{name}.{ext}")
            jobs.append({"fig": fig, "path": path, "opts": {"format": ext, "width": 900, "height": 540, "scale": 2}})
            paths.append(path)
            folder.keep(f"{name}.{ext}")
    try:
        # One browser for every image. No MathJax (no chart has TeX): kaleido's page would fetch it from a
        # CDN on every load and reload, which offline waits on the network, and on a hung one never ends.
        kaleido.write_fig_from_object_sync(jobs, kopts={"mathjax": False, "timeout": RENDER_TIMEOUT},
                                           cancel_on_error=True)
    except Exception as error:  # kaleido reports a missing or broken browser in many ways
        raise MissingDependency(f"could not draw the charts with {browser}: {error!r}") from None
    return paths

"""The published dashboard: a static site built from the scoring module.

:func:`build` writes ``index.html`` (and ``plotly.min.js`` once beside it,
``report.css``, ``report.js``), or a Markdown summary, for a selection of the
ledger. Every number comes from :func:`ledger.scoring.score`; the package
only chooses, formats and draws, in four steps:

- :mod:`~ledger.report.collect` gathers the data (one scoring pass, the
  store's listings);
- :mod:`~ledger.report.charts` turns it into plotly figures;
- :mod:`~ledger.report.render` writes the HTML or Markdown page (user text
  escaped: see its docstring);
- :mod:`~ledger.report.images` exports the charts as PNG/SVG.

Size: the resolved and open tables show the most recent ``max_rows`` /
``max_open`` rows with the total and a pointer to ``ledger export``;
breakdowns with more than ``MAX_GROUPS`` groups give only their number. So
``index.html`` stays bounded whatever the size of the ledger.
"""

from __future__ import annotations

from pathlib import Path

from ledger.errors import LedgerError
from ledger.publish import publish
from ledger.report.collect import ReportOptions, collect, default_out
from ledger.report.charts import build_figures
from ledger.report.images import write_images
from ledger.report.render import render_html, render_markdown, safe_url, script_json, write_assets

__all__ = ["FORMATS", "ReportOptions", "build", "collect", "safe_url", "script_json"]

FORMATS = ("html", "md")


def build(store, out: Path | None = None, options: ReportOptions | None = None) -> Path:
    """Write the site (or the Markdown summary) and return the path of the page to open."""
    options = options or ReportOptions()
    if options.fmt not in FORMATS:
        raise LedgerError(f"--format must be html or md, got {options.fmt!r}")
    out = Path(out) if out else default_out(options)
    if out.exists() and not out.is_dir():
        raise LedgerError(f"{out} exists and is not a folder")
    data = collect(store, options)
    out.mkdir(parents=True, exist_ok=True)
    if options.fmt == "md":
        target = out / "index.md"
        target.write_text(render_markdown(data), encoding="utf-8")
        return target
    figures = build_figures(data)
    target = out / "index.html"
    target.write_text(render_html(data, figures, cdn=options.cdn), encoding="utf-8")
    write_assets(out, cdn=options.cdn)
    publish(store, out, options.selection, data["score"])
    if options.png:
        write_images(figures, out)
    return target

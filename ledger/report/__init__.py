"""The published track record: a static site built from the scoring module.

:func:`build` writes, into a report folder it owns (:mod:`~ledger.report.folder`):

- ``index.html``, the overview of the selection;
- ``f/<slug>.html``, one page per forecaster: their record alone;
- ``q/<question id>.html``, one page per question, at a URL that stays the
  same across publishes (the id never changes), rendered again only when
  what it shows changed (:meth:`~ledger.report.folder.ReportFolder.write_keyed`);
- ``data/questions.js``, the rows the pages' tables search, filter, sort
  and paginate in the browser (so no page grows with the ledger);
- ``report.css``, ``report.js``; and plotly.js once per reports root, in
  ``assets/`` beside the report folders (or ``--assets DIR``).

Or, with ``--format md``, ``index.md``: a Markdown summary. Every number comes
from :func:`ledger.scoring.score`; the package only chooses, formats and
draws, in four steps:

- :mod:`~ledger.report.collect` gathers the data (scoring passes, the store's listings);
- :mod:`~ledger.report.charts` turns it into plotly figures;
- :mod:`~ledger.report.render` writes the HTML pages or the Markdown (user text escaped: see its docstring);
- :mod:`~ledger.report.images` exports the charts as PNG/SVG.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import astuple
from functools import partial
from pathlib import Path

from ledger.errors import LedgerError
from ledger.publish import publish
from ledger.report.charts import build_figures
from ledger.report.collect import (
    ReportOptions, collect, collect_site, default_reports_root, site_steps, slugify, table_row,
)
from ledger.report.folder import ReportFolder
from ledger.report.images import write_images
from ledger.report.render import (
    ASSETS, DATA_FILE, HERE, cdn_url, plotly_file, render_markdown, render_page, rows_script, safe_url, script_json,
)

__all__ = ["FORMATS", "ReportOptions", "build", "collect", "default_out", "safe_url", "script_json", "site_steps"]

FORMATS = ("html", "md")


def default_out(options: ReportOptions) -> Path:
    """``<reports root>/<slug of the title>``: see :func:`~ledger.report.collect.default_reports_root`."""
    return default_reports_root() / slugify(options.heading())


def build(store, out: Path | None = None, options: ReportOptions | None = None,
          on_progress: Callable[[int], None] = lambda n: None) -> Path:
    """Write the site (or the Markdown summary) and return the path of the page to open;
    ``on_progress(n)``: n more of the :func:`~ledger.report.collect.site_steps` steps done."""
    options = options or ReportOptions()
    if options.fmt not in FORMATS:
        raise LedgerError(f"--format must be html or md, got {options.fmt!r}")
    out = Path(out) if out else default_out(options)
    folder = ReportFolder(out, force=options.force)  # refused before any work is done
    if options.fmt == "md":
        target = folder.write("index.md", render_markdown(collect(store, options)))
        folder.finish()
        on_progress(1)
        return target
    site = collect_site(store, options, on_progress)
    plotly_path = None if options.cdn else _write_plotly(*_assets_folder(folder, options))
    overview = site["overview"]

    def plotly_src(page_dir: Path) -> str:
        return cdn_url() if plotly_path is None else Path(os.path.relpath(plotly_path, page_dir)).as_posix()

    common = {"site": site, "cdn": options.cdn, "options": options, "generated_at": overview["generated_at"],
              "integrity": overview["integrity"]}
    figures = build_figures(overview)
    target = folder.write("index.html", render_page(
        "record.html", root="", plotly_src=plotly_src(folder.path), figures=figures, d=overview, person=None,
        **common))
    for name, record in site["forecasters"].items():
        folder.write(f"f/{site['slugs'][name]}.html", render_page(
            "record.html", root="../", plotly_src=plotly_src(folder.path / "f"), figures=build_figures(record),
            d=record, person=name, **common))
    rows = []  # the side file's rows: small, unlike the histories, which go a batch at a time
    stamp = _question_page_stamp(site, options)
    for batch in site["batches"]:
        for question in batch:
            scores = site["scores"].get(question.id, [])
            folder.write_keyed(f"q/{question.id}.html", _question_page_key(stamp, question, scores), partial(
                render_page, "question.html", root="../", plotly_src=None, q=question, scores=scores, **common))
            rows.append(table_row(question, scores, site["slugs"]))
        on_progress(len(batch))
    folder.write(DATA_FILE, rows_script(rows))
    for asset in ASSETS:
        folder.write(asset, (HERE / asset).read_bytes())
    publish(store, folder, options.selection, overview["score"])
    on_progress(1)
    if options.png:
        write_images(figures, folder)
    folder.finish()
    return target


QUESTION_PAGE_SOURCES = ("base.html", "question.html", "render.py", "../format.py")  # what draws a question page


def _question_page_stamp(site: dict, options: ReportOptions) -> bytes:
    """What every question page is made from besides its question: the templates and the code that
    formats them, the site's title, the forecasters' links, the policy and where scripts may come from."""
    digest = hashlib.blake2b(digest_size=16)
    for name in QUESTION_PAGE_SOURCES:
        digest.update((HERE / name).read_bytes())
    digest.update(repr((site["overview"]["title"], sorted(site["slugs"].items()), options.selection.policy,
                        options.cdn)).encode("utf-8"))
    return digest.digest()


def _question_page_key(stamp: bytes, question, scores: list) -> str:
    """A digest of everything a question page shows: the page is rendered again only when it changes.
    The scores count to 12 significant digits (the page shows 3 or 4): DuckDB's parallel sums differ
    in the last bits from one run to the next, which would make every page new every time."""
    digest = hashlib.blake2b(stamp, digest_size=16)
    shown = sorted(tuple(f"{v:.12g}" if isinstance(v, float) else v for v in astuple(row)) for row in scores)
    digest.update(repr((question, shown)).encode("utf-8"))
    return digest.hexdigest()


def _assets_folder(folder: ReportFolder, options: ReportOptions) -> tuple[ReportFolder, str]:
    """Where plotly.js goes, and under which folder name in it: ``--assets``, else ``assets/``
    beside the report folders when the report is in the reports root (one copy for all of
    them), else ``assets/`` inside the report folder."""
    if options.assets is not None:
        return ReportFolder(options.assets, force=options.force), ""
    if folder.path.parent == Path(os.path.abspath(default_reports_root())):
        return ReportFolder(folder.path.parent / "assets", force=options.force), ""
    return folder, "assets/"


def _write_plotly(assets: ReportFolder, prefix: str) -> Path:
    """plotly.js, once per assets folder (not rewritten when the same file is there already)."""
    from plotly.offline import get_plotlyjs

    relative = prefix + plotly_file()
    source = get_plotlyjs().encode("utf-8")
    if assets.holds(relative, len(source)):
        assets.keep(relative)
    else:
        assets.write(relative, source)
    if prefix == "":
        assets.finish()
    return assets.path / relative

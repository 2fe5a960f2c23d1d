"""The published track record: a static site built from the scoring module.

:func:`build` writes, into a report folder it owns (:mod:`~ledger.report.folder`):

- ``index.html``, the overview of the selection;
- ``f/<slug>.html``, one page per forecaster: their record alone;
- ``q/<prefix>.html``, the questions whose ids start with the same three
  characters, each at ``q/<prefix>.html#<question id>``, a URL that stays
  the same across publishes (the id never changes); a page is made again
  only when its questions changed (:mod:`~ledger.report.questions`);
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

import os
from collections.abc import Callable
from functools import partial
from pathlib import Path

from ledger.errors import LedgerError
from ledger.publish import publish
from ledger.report.charts import build_figures
from ledger.report.collect import (
    HISTORY_BATCH, ReportOptions, collect, collect_site, default_reports_root, site_steps, slugify, table_row,
)
from ledger.report.folder import ReportFolder
from ledger.report.images import write_images
from ledger.report.questions import (
    MOVED_PAGE, PREFIX_MARK, PREFIX_PAGE, SECTIONS_MARK, SHARD, fill_page, moved_page, page_digest, page_keys,
    question_section, shards,
)
from ledger.report.render import (
    ASSETS, DATA_FILE, HERE, cdn_url, plotly_file, read_rows, render_markdown, render_page, rows_script,
    safe_url, script_json,
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
    from markupsafe import Markup

    site = collect_site(store, options, on_progress)
    plotly_path = None if options.cdn else _write_plotly(*_assets_folder(folder, options))
    overview = site["overview"]

    def plotly_src(page_dir: Path) -> str:
        return cdn_url() if plotly_path is None else Path(os.path.relpath(plotly_path, page_dir)).as_posix()

    common = {"site": site, "cdn": options.cdn, "options": options, "generated_at": overview["generated_at"],
              "integrity": overview["integrity"], "question_prefix": SHARD}
    figures = build_figures(overview)
    target = folder.write("index.html", render_page(
        "record.html", root="", plotly_src=plotly_src(folder.path), figures=figures, d=overview, person=None,
        **common))
    for name, record in site["forecasters"].items():
        folder.write(f"f/{site['slugs'][name]}.html", render_page(
            "record.html", root="../", plotly_src=plotly_src(folder.path / "f"), figures=build_figures(record),
            d=record, person=name, **common))
    rows = _write_question_pages(folder, store, site, options, render_page(
        "question.html", root="../", plotly_src=None, prefix=Markup(PREFIX_MARK), sections=Markup(SECTIONS_MARK),
        **common), on_progress)
    side = rows_script(rows)
    folder.write_keyed(DATA_FILE, page_digest(side), lambda: side)
    for asset in ASSETS:
        folder.write(asset, (HERE / asset).read_bytes())
    publish(store, folder, options.selection, overview["score"])
    on_progress(1)
    if options.png:
        write_images(figures, folder)
    folder.finish()
    return target


def _write_question_pages(folder: ReportFolder, store, site: dict, options: ReportOptions, shell: str,
                          on_progress: Callable[[int], None]) -> list[str]:
    """Every question page (:mod:`~ledger.report.questions`) whose key changed since the last run, the
    others not even made (nor their histories read: a republish costs what changed); at an earlier
    report's page of one question, a link to its place now; an earlier prefix page with no question
    left, removed. The side file's rows, in the site's order (soonest resolve-by first): an unchanged
    page's from the earlier side file, which holds exactly what its unchanged questions give."""
    selection = options.selection
    scope = {"tag": selection.tag, "forecaster": selection.forecaster}
    digests, chosen = store.history_digests(**scope, prefix=SHARD)
    keys = page_keys(shell, selection, digests, chosen)
    earlier = folder.earlier(DATA_FILE, page_digest)
    rows = read_rows(earlier) if earlier is not None else {}
    kept = [page for page, (key, ids) in keys.items() if all(i in rows for i in ids) and folder.unchanged(page, key)]
    on_progress(sum(len(keys[page][1]) for page in kept))
    changed = sorted(keys.keys() - set(kept))
    rows = {i: rows[i] for page in kept for i in keys[page][1]}
    slugs, scores = site["slugs"], site["scores"]
    prefixes = [page.removeprefix("q/").removesuffix(".html") for page in changed]
    batches = store.history_batches(**scope, by_id=True, size=HISTORY_BATCH, prefixes=prefixes) if changed else ()
    for page, questions in shards(_each(batches, on_progress)):
        html = fill_page(shell, page, "".join(
            question_section(q, scores.get(q.id, []), slugs, selection.policy) for q in questions))
        folder.write_keyed(page, keys[page][0], lambda html=html: html)
        rows.update((q.id, script_json(table_row(q, scores.get(q.id, []), slugs))) for q in questions)
    for relative in sorted(folder.owned - folder.written):
        if moved := MOVED_PAGE.fullmatch(relative):
            folder.write_keyed(relative, "moved", partial(moved_page, moved[1]))
        elif PREFIX_PAGE.fullmatch(relative):
            folder.remove(relative)
    return [rows[question_id] for question_id, _ in chosen]


def _each(batches, on_progress: Callable[[int], None]):
    """The questions of the batches one by one, ``on_progress`` counting each batch done."""
    for batch in batches:
        yield from batch
        on_progress(len(batch))


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

"""``ledger report`` and ``ledger demo``: publish a track record as a static site."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Db, TagFilter, check_known, open_store

app = typer.Typer()

Out = Annotated[Path | None, typer.Option(
    "--out", "-o", metavar="FOLDER",
    help="Folder to write (default: reports/<title>/ in the project, else in the data directory).",
    show_default=False)]
Png = Annotated[bool, typer.Option("--png", help="Also write each chart as PNG and SVG (needs kaleido and Chrome/Chromium).")]
Cdn = Annotated[bool, typer.Option("--cdn", help="Load plotly.js from its CDN instead of writing it beside the pages.")]
Force = Annotated[bool, typer.Option(
    "--force", help="Write into a folder that is not an earlier report, over files ledger did not write.")]
Assets = Annotated[Path | None, typer.Option(
    "--assets", metavar="FOLDER", help="Where the shared plotly.js goes (default: reports/assets/).",
    show_default=False)]


def shown(path: Path) -> str:
    """A path as the user can type it: relative when it is under the current folder."""
    absolute = Path(os.path.abspath(path))
    try:
        return str(absolute.relative_to(Path.cwd()))
    except ValueError:
        return str(absolute)


def build_with_progress(store, out: Path | None, options, *, label: str = "writing the report") -> Path:
    """:func:`ledger.report.build` with a bar on a terminal: its scoring passes, pages and records."""
    from ledger.cli.progress import progress
    from ledger.report import build, site_steps

    with progress(label, total=lambda: site_steps(store, options)) as advance:
        return build(store, out, options, on_progress=advance)


@app.command()
def report(
    out: Out = None,
    title: Annotated[str | None, typer.Option("--title", help="Site title (default: Forecast track record).")] = None,
    forecaster: Annotated[str | None, typer.Option("--forecaster", "-f", help="Only this forecaster's forecasts.")] = None,
    tag: TagFilter = None,
    policy: Annotated[str, typer.Option("--policy", help="Which forecasts count: time-averaged, first or last.")]
    = "time-averaged",
    exclude_backfilled: Annotated[
        bool, typer.Option("--exclude-backfilled", help="Leave out forecasts logged after the fact.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="html (the site) or md (a Markdown summary).")] = "html",
    png: Png = False,
    cdn: Cdn = False,
    assets: Assets = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Write the site: an overview, a page per forecaster and per question, the chain head.

    Prints the path of the page to open (index.html, or index.md with --format md); says on
    stderr where it wrote. Only ever replaces files an earlier report wrote.

    Example: ledger report --forecaster ana --title "Ana's track record" --png
    """
    from ledger.cli.output import say
    from ledger.cli.progress import progress
    from ledger.report import ReportOptions
    from ledger.scoring import Selection

    selection = Selection(policy=policy, forecaster=forecaster, tag=tag, exclude_backfilled=exclude_backfilled)
    options = ReportOptions(title=title, selection=selection, fmt=fmt, png=png, cdn=cdn, force=force, assets=assets)
    with open_store(db) as store:
        check_known(store, forecaster=forecaster, tag=tag)
        from ledger.verified import verify_once

        # a dashboard of a ledger that fails its own chain would vouch for what it cannot; a verify of this
        # very file, unchanged since, holds (ledger.verified), and a full one here is remembered as well
        with progress("verifying the chain"):
            verify_once(store)
        page = build_with_progress(store, out, options)
    say(f"wrote the report into {shown(page.parent)}/" + (" and the charts as PNG/SVG" if png and fmt == "html" else ""))
    typer.echo(shown(page))


@app.command()
def demo(
    out: Out = None,
    demo_db: Annotated[
        Path | None,
        typer.Option("--demo-db", metavar="FILE",
                     help="The demo's own ledger file (default: $XDG_DATA_HOME/forecast-ledger/demo-ledger.duckdb).",
                     show_default=False),
    ] = None,
    png: Png = False,
    cdn: Cdn = False,
    assets: Assets = None,
    force: Force = False,
) -> None:
    """Build a demo ledger (the worked example plus a synthetic track record) and its site.

    The demo has its own ledger file, rebuilt fresh each run (only ever over a demo ledger it
    made); your ledger is never touched. Prints the path of the page to open.

    Example: ledger demo && xdg-open reports/demo/index.html
    """
    from ledger.cli.output import say
    from ledger.cli.progress import progress
    from ledger.demo import HISTORY_DAYS, build_demo_ledger
    from ledger.report import ReportOptions
    from ledger.report.collect import default_reports_root

    with progress("writing the demo's history (days)", total=HISTORY_DAYS) as advance:
        store, made = build_demo_ledger(demo_db, on_progress=advance)
    say(f"demo ledger: {made.questions} questions, {made.forecasts} forecasts in {made.path}")
    options = ReportOptions(title="Demo: a forecasting track record", png=png, cdn=cdn, force=force, assets=assets)
    # The report reads the records still open in memory: the same records the file holds, not reopened.
    with store:
        page = build_with_progress(store, out or default_reports_root() / "demo", options,
                                   label="scoring the demo and writing its site")
    say(f"open {shown(page)} in a browser")
    typer.echo(shown(page))

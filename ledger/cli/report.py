"""``ledger report`` and ``ledger demo``: publish a track record as a static dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Db, TagFilter, open_store

app = typer.Typer()

Out = Annotated[Path | None, typer.Option("--out", "-o", help="Folder to write (default: reports/<title>/).")]
Png = Annotated[bool, typer.Option("--png", help="Also write each chart as PNG and SVG (needs kaleido and Chrome/Chromium).")]
Cdn = Annotated[bool, typer.Option("--cdn", help="Load plotly.js from its CDN instead of writing it beside the page.")]


@app.command()
def report(
    out: Out = None,
    title: Annotated[str | None, typer.Option("--title", help="Page title (default: Forecast track record).")] = None,
    forecaster: Annotated[str | None, typer.Option("--forecaster", "-f", help="Only this forecaster's forecasts.")] = None,
    tag: TagFilter = None,
    policy: Annotated[str, typer.Option("--policy", help="Which forecasts count: time-averaged, first or last.")]
    = "time-averaged",
    exclude_backfilled: Annotated[
        bool, typer.Option("--exclude-backfilled", help="Leave out forecasts logged after the fact.")] = False,
    fmt: Annotated[str, typer.Option("--format", help="html (the dashboard) or md (a Markdown summary).")] = "html",
    png: Png = False,
    cdn: Cdn = False,
    db: Db = None,
) -> None:
    """Write the dashboard: calibration, scores, breakdowns, every prediction, the chain head.

    Prints the path of the page (index.html, or index.md with --format md).

    Example: ledger report --forecaster ana --title "Ana's track record" --png
    """
    from ledger.cli.output import say
    from ledger.report import ReportOptions, build
    from ledger.scoring import Selection

    selection = Selection(policy=policy, forecaster=forecaster, tag=tag, exclude_backfilled=exclude_backfilled)
    options = ReportOptions(title=title, selection=selection, fmt=fmt, png=png, cdn=cdn)
    with open_store(db) as store:
        store.verify()  # a dashboard of a ledger that fails its own chain would vouch for what it cannot
        page = build(store, out, options)
    say(f"wrote {page}" + (" and the charts as PNG/SVG" if png and fmt == "html" else ""))
    typer.echo(str(page))


@app.command()
def demo(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write.")] = Path("reports/demo"),
    demo_db: Annotated[
        Path | None,
        typer.Option("--demo-db", help="The demo's own ledger file (default: $XDG_DATA_HOME/forecast-ledger/demo.duckdb).",
                     show_default=False),
    ] = None,
    png: Png = False,
    cdn: Cdn = False,
) -> None:
    """Build a demo ledger (the worked example plus a synthetic track record) and its dashboard.

    The demo has its own ledger file, rebuilt fresh each run; your ledger is never touched.
    Prints the path of the page to open.

    Example: ledger demo && xdg-open reports/demo/index.html
    """
    from ledger.demo import build_demo_ledger
    from ledger.cli.output import say
    from ledger.report import ReportOptions, build
    from ledger.store import Store

    made = build_demo_ledger(demo_db)
    say(f"demo ledger: {made.questions} questions, {made.forecasts} forecasts in {made.path}")
    options = ReportOptions(title="Demo: a forecasting track record", png=png, cdn=cdn)
    with Store.open(made.path, create=False) as store:
        page = build(store, out, options)
    say(f"open {page} in a browser")
    typer.echo(str(page))

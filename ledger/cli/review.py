"""Review commands: due, review and calendar."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Db, ForecasterFilter, Json, TagFilter, open_store
from ledger.errors import LedgerError

app = typer.Typer()

FORCE_TTY_ENV = "LEDGER_REVIEW_FORCE_TTY"

Within = Annotated[
    str,
    typer.Option("--within", "-w", help="Also questions due within this span: 30d, 2w, 3m (0d: due today or overdue)."),
]
Overdue = Annotated[
    bool, typer.Option("--overdue", help="Only questions whose resolve-by date has passed (ignores --within).")
]


@app.command()
def due(
    within: Within = "30d",
    overdue: Overdue = False,
    forecaster: ForecasterFilter = None,
    tag: TagFilter = None,
    json_: Json = False,
    db: Db = None,
) -> None:
    """List unresolved questions past or near their resolve-by date, oldest first.

    With --json: the rows of `ledger list --json` plus days_overdue (negative
    when not yet due) — with `ledger resolve`, the scriptable form of a review.

    Example: ledger due --within 2w --tag russia
    """
    from ledger.format import forecast_text, short_id
    from ledger.cli.output import emit_json, emit_table, say
    from ledger.review import due_questions, overdue_text, parse_span

    days = parse_span(within)
    with open_store(db) as store:
        rows = due_questions(store, within_days=days, overdue_only=overdue, forecaster=forecaster, tag=tag)
    if json_:
        emit_json(rows)
        return
    if not rows:
        say("nothing overdue" if overdue else f"nothing overdue or due within {within}")
        return
    emit_table(  # a terminal line is narrow: forecaster and tags are in `ledger show` and --json
        ["id", "resolve_by", "when", "forecast", "statement"],
        [
            [short_id(row["id"]), row["resolve_by"], overdue_text(row["days_overdue"]),
             forecast_text(row, (row["forecasts"] or [None])[-1]), row["statement"]]
            for row in rows
        ],
        flex="statement",
    )


@app.command()
def review(
    within: Within = "30d",
    overdue: Overdue = False,
    forecaster: ForecasterFilter = None,
    tag: TagFilter = None,
    reviewer: Annotated[
        str | None, typer.Option("--reviewer", help="Who resolves (default: $LEDGER_FORECASTER, else your login name).")
    ] = None,
    summary: Annotated[
        Path | None, typer.Option("--summary", help="Write the session's minutes as Markdown to this file.")
    ] = None,
    db: Db = None,
) -> None:
    """Review due questions one by one on the terminal: resolve, annul, extend, skip or quit.

    Each decision is committed as it is made: quitting midway keeps every
    decision so far. At the end, a summary (and with --summary, Markdown
    minutes). Needs a terminal; for scripts use `ledger due --json` with
    `ledger resolve` / `ledger annul` / `ledger edit --by`. (Tests drive it
    with scripted input by setting LEDGER_REVIEW_FORCE_TTY=1.)

    Example: ledger review --overdue --summary minutes/2025-11.md
    """
    if not (sys.stdin.isatty() or os.environ.get(FORCE_TTY_ENV) == "1"):
        raise LedgerError(
            "ledger review is interactive and needs a terminal; in scripts use `ledger due --json` "
            "to find due questions and `ledger resolve ID OUTCOME` (or `ledger annul`, `ledger edit --by`)"
        )
    from ledger.format import plural
    from ledger.models import default_forecaster
    from ledger.cli.output import say
    from ledger.review import ReviewSession, due_questions, parse_span, run_review, summary_markdown, summary_text
    from ledger.store import Store, default_path

    days = parse_span(within)
    path = db or default_path()
    with Store.open(path, create=False) as store:
        questions = due_questions(store, within_days=days, overdue_only=overdue, forecaster=forecaster, tag=tag)
    scope = "resolve-by passed" if overdue else f"resolve-by passed or within {within}"
    scope += "".join(f"; {name} {value}" for name, value in (("forecaster", forecaster), ("tag", tag)) if value)
    session = ReviewSession(path, reviewer=reviewer or default_forecaster(), scope=scope,
                            forecaster=forecaster, tag=tag)
    if questions:
        typer.echo(f"{plural(len(questions), 'question')} to review ({scope})")
    else:
        say(f"nothing to review ({scope})")
    result = run_review(session, questions)
    typer.echo(summary_text(result))
    if summary is not None:
        summary.write_text(summary_markdown(result), encoding="utf-8")
        say(f"minutes written to {summary}")


@app.command()
def calendar(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    db: Db = None,
) -> None:
    """Write an iCalendar (.ics) file: one all-day event per open question on its resolve-by date.

    Event UIDs are stable, so importing a newer file updates the events
    instead of duplicating them.

    Example: ledger calendar -o ~/forecasts.ics
    """
    from ledger.cli.output import say
    from ledger.review import build_calendar

    with open_store(db) as store:
        data = build_calendar(store)
    if output is None:
        typer.echo(data, nl=False)
    else:
        output.write_bytes(data)
        say(f"calendar written to {output}")

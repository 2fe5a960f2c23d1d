"""Review commands: due, review and calendar, and the review's terminal conversation.

The library (:mod:`ledger.review`) knows what is due and applies decisions;
this module asks for them: :func:`run_review` walks the reviewer through the
due questions, :func:`describe` shows each one, and :func:`summary_text`
closes the session.
"""

from __future__ import annotations

import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.common import (
    Csv, Db, Force, ForecasterFilter, Json, Limit, Offset, Search, Sort, TagFilter, check_known, check_output, check_sort,
    open_store, reask, writing_output,
)
from ledger.errors import ExitCode, LedgerError
from ledger.format import forecast_text, local_time, short_id, source_line, visible
from ledger.parse import parse_date

if TYPE_CHECKING:  # ledger.review is imported where it is used: every command's start-up imports this module
    from ledger import review as review_stage
    from ledger.records import StoredQuestion

__all__ = ["app", "describe", "run_review", "summary_text"]

app = typer.Typer()

FORCE_TTY_ENV = "LEDGER_REVIEW_FORCE_TTY"  # tests drive the conversation with scripted input
# How the files this module writes begin, so a later run may replace its own earlier output.
CALENDAR_OPENING = (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Forecast Ledger//",)
MINUTES_OPENING = (b"# Forecast review, ",)

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
    search: Search = None,
    sort: Sort = "resolve-by",
    limit: Limit = None,
    offset: Offset = 0,
    json_: Json = False,
    csv_: Csv = False,
    db: Db = None,
) -> None:
    """List unresolved questions past or near their resolve-by date, oldest first.

    With --json: the rows of `ledger list --json` plus days_overdue (negative
    when not yet due) — with `ledger resolve`, the scriptable form of a review.
    --limit, --offset, --sort and --search work as in `ledger list`.

    Example: ledger due --within 2w --tag russia --search treaty --limit 10
    """
    from ledger import review as review_stage
    from ledger.cli.listing import emit_listing

    check_sort(sort)
    days = review_stage.parse_span(within)
    selection = review_stage.due_selection(within_days=days, overdue_only=overdue, forecaster=forecaster, tag=tag,
                                           search=search)
    with open_store(db) as store:
        check_known(store, forecaster=forecaster, tag=tag)
        emit_listing(store, selection, sort=sort, limit=limit, offset=offset, json_=json_, csv_=csv_,
                     table=_due_table, due_on=date.today(),
                     empty="nothing overdue" if overdue else f"nothing overdue or due within {within}")


def _due_table(rows) -> tuple[list[str], list[list]]:
    """A terminal line is narrow: forecaster and tags are in `ledger show` and --json."""
    from ledger import review as review_stage

    due = [review_stage.due_question(row) for row in rows]
    return (["id", "resolve_by", "when", "forecast", "statement"],
            [[short_id(row.id), row.resolve_by, review_stage.overdue_text(row.days_overdue),
              forecast_text(row, row.latest_forecast), row.statement] for row in due])


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
    force: Force = False,
    db: Db = None,
) -> None:
    """Review due questions one by one on the terminal: resolve, annul, extend, skip or quit.

    Each decision is committed as it is made: quitting midway keeps every
    decision so far. At the end, a summary (and with --summary, Markdown
    minutes). Needs a terminal; for scripts use `ledger due --json` with
    `ledger resolve` / `ledger annul` / `ledger edit --by`. Ctrl-C ends the
    session with exit code 130, the input ending (Ctrl-D) with 1; every
    decision made before is kept.

    Example: ledger review --overdue --summary minutes/2025-11.md
    """
    from ledger import review as review_stage

    if not (sys.stdin.isatty() or os.environ.get(FORCE_TTY_ENV) == "1"):
        raise LedgerError(
            "ledger review is interactive and needs a terminal; in scripts use `ledger due --json` "
            "to find due questions and `ledger resolve ID OUTCOME` (or `ledger annul`, `ledger edit --by`)"
        )
    from ledger.cli.output import say
    from ledger.format import plural
    from ledger.models import default_forecaster
    from ledger.store import Store, default_path

    days = review_stage.parse_span(within)
    check_output(summary, db, force=force, ours=MINUTES_OPENING)
    path = db or default_path()
    with Store.open(path, create=False) as store:
        questions = review_stage.due_questions(store, within_days=days, overdue_only=overdue, forecaster=forecaster, tag=tag)
    scope = "resolve-by passed" if overdue else f"resolve-by passed or within {within}"
    scope += "".join(f"; {name} {value}" for name, value in (("forecaster", forecaster), ("tag", tag)) if value)
    session = review_stage.ReviewSession(path, reviewer=reviewer or default_forecaster(), scope=scope,
                            forecaster=forecaster, tag=tag)
    if questions:
        typer.echo(f"{plural(len(questions), 'question')} to review ({scope})")
    else:
        say(f"nothing to review ({scope})")
    result, stopped = run_review(session, questions)
    typer.echo(summary_text(result))
    if summary is not None:
        with writing_output(summary, db, force=force, ours=MINUTES_OPENING) as temporary:
            temporary.write_text(review_stage.summary_markdown(result), encoding="utf-8")
        say(f"minutes written to {summary}")
    if stopped is not None:
        raise typer.Exit(stopped)


@app.command()
def calendar(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Write an iCalendar (.ics) file: one all-day event per open question on its resolve-by date.

    Event UIDs are stable, so importing a newer file updates the events
    instead of duplicating them. Replaces an earlier calendar of ours
    without --force; never the ledger.

    Example: ledger calendar -o ~/forecasts.ics
    """
    from ledger.calendar import build_calendar
    from ledger.cli.output import say

    with open_store(db) as store:
        data = build_calendar(store)
    if output is None:
        typer.echo(data, nl=False)
    else:
        with writing_output(output, db, force=force, ours=CALENDAR_OPENING) as temporary:
            temporary.write_bytes(data)
        say(f"calendar written to {output}")


# -- the terminal conversation ------------------------------------------------

MENU = "[r]esolve, [a]nnul, [e]xtend, [s]kip, [q]uit"
_ACTIONS = {"r": "resolve", "a": "annul", "e": "extend", "s": "skip", "q": "quit"}

def describe(question: StoredQuestion, *, today: date | None = None) -> str:
    """A question as the reviewer sees it: statement, criteria, source, quote, forecasts.

    User text is printed as text: control characters and bidi overrides are shown
    as escapes (``\\x1b``, ``\\u202e``), never obeyed.
    """
    from ledger import review as review_stage

    days = review_stage.days_overdue(question, today=today)
    resolve_by = str(question.resolve_by)
    if question.original_resolve_by != question.resolve_by:
        resolve_by += f" (originally {question.original_resolve_by})"
    lines = [
        question.statement,
        f"  id {short_id(question.id)} · resolve by {resolve_by} · {review_stage.overdue_text(days)}",
        f"  criteria: {question.criteria or '(none given)'}",
    ]
    if question.options:
        lines.append(f"  options: {' / '.join(question.options)}")
    if question.tags:
        lines.append(f"  tags: {', '.join(question.tags)}")
    if question.source:
        lines.append(f"  source: {source_line(question.source)}")
    if question.quote:
        lines.append(f"  quote: “{question.quote}”")
    lines.append("  forecasts:" if question.forecasts else "  forecasts: none")
    for forecast in question.forecasts:
        value = forecast_text(question, forecast)
        mark = "  (backfilled)" if forecast.backfilled else ""
        note = f" — {forecast.note}" if forecast.note else ""
        lines.append(f"    {local_time(forecast.made_at)}  {value} by {forecast.forecaster}{note}{mark}")
    return "\n".join(visible(line) for line in lines)


def _choose(text: str) -> str:
    answer = text.strip().lower()
    for key, action in _ACTIONS.items():
        if answer in (key, action):
            return action
    raise LedgerError(f"choose one of {MENU}")


def _nonempty(text: str) -> str:
    if not text.strip():
        raise LedgerError("this cannot be empty")
    return text.strip()


def run_review(
    session: review_stage.ReviewSession, questions: list[StoredQuestion]
) -> tuple[review_stage.Summary, int | None]:
    """Walk the reviewer through ``questions`` on the terminal; return the session summary
    and, when the session did not end by choice, the exit code to end with.

    Every decision is committed when it is made. Quitting ends the session with
    what was decided (exit 0); Ctrl-C too, but exits 130, and the input ending
    (Ctrl-D) exits 1, so a script can tell that the review did not finish.
    """
    index, stopped = 0, None
    try:
        while index < len(questions):
            question = questions[index]
            typer.echo(f"\n[{index + 1}/{len(questions)}] " + describe(question))
            action = typer.prompt(f"Decision — {MENU}", value_proc=reask(_choose))
            if action == "quit":
                break
            try:
                if _ask_and_apply(session, question, action):
                    index += 1
            except LedgerError as error:
                typer.echo(f"error: {error}", err=True)
    except (typer.Abort, KeyboardInterrupt) as error:
        interrupted = isinstance(error, KeyboardInterrupt) or isinstance(error.__context__, KeyboardInterrupt)
        stopped = int(ExitCode.INTERRUPTED) if interrupted else int(ExitCode.USER_ERROR)
        typer.echo(f"\nstopped ({'interrupted' if interrupted else 'input ended'}): "
                   "every decision made so far is kept.")
    return session.finish(questions[index:], n_due=len(questions)), stopped


def _ask_and_apply(session: review_stage.ReviewSession, question: StoredQuestion, action: str) -> bool:
    """Ask what ``action`` needs and apply it; False when the reviewer took it back."""
    from ledger import review as review_stage

    if action == "skip":
        session.skip(question)
        typer.echo(f"skipped {short_id(question.id)}")
        return True
    if action == "resolve":
        choices = "yes/no" if question.options is None else " / ".join(question.options)
        outcome = typer.prompt(f"Outcome ({choices})", value_proc=reask(lambda t: review_stage.outcome_for(question, t)))
        known_at = typer.prompt("Date the outcome became known (YYYY-MM-DD)", default="today",
                                value_proc=reask(review_stage.parse_known_on))
        note = typer.prompt("Note (optional)", default="", show_default=False)
        evidence = typer.prompt("Evidence URL (optional)", default="", show_default=False,
                                value_proc=reask(review_stage.check_evidence))
        known_text = "today" if known_at is None else f"{known_at:%Y-%m-%d}"
        if not typer.confirm(f"Record: {short_id(question.id)} resolved {outcome}, known {known_text}?", default=True):
            return False
        decision = session.resolve(question, outcome, known_at=known_at, note=note, evidence=evidence)
        typer.echo(f"resolved {short_id(question.id)} {decision.outcome}"
                   + (f" (late: {decision.days_late} days after the resolve-by date)" if decision.late else ""))
        return True
    if action == "annul":
        reason = typer.prompt("Reason to annul (the criteria could not be applied because…)",
                              value_proc=reask(_nonempty))
        if not typer.confirm(f"Record: {short_id(question.id)} annulled?", default=True):
            return False
        session.annul(question, reason)
        typer.echo(f"annulled {short_id(question.id)}")
        return True
    # extend
    new_date = typer.prompt("New resolve-by date (2027-06-30, 2027-Q3, +3m)",
                            value_proc=reask(lambda t: _extension_date(question, t)))
    reason = typer.prompt("Reason for the extension (shown in the history)", value_proc=reask(_nonempty))
    if not typer.confirm(f"Record: {short_id(question.id)} resolve-by {question.resolve_by} → {new_date}?",
                         default=True):
        return False
    session.extend(question, new_date, reason)
    typer.echo(f"extended {short_id(question.id)} to {new_date}")
    return True


def _extension_date(question: StoredQuestion, text: str) -> date:
    from ledger import review as review_stage

    new_date = parse_date(text)
    review_stage.check_extension(question, new_date)
    return new_date



def summary_text(summary: review_stage.Summary) -> str:
    """The end-of-session summary for the terminal."""
    from ledger import review as review_stage

    c = summary.counts
    lines = [
        "",
        "review summary",
        f"  resolved {c['resolved']}, annulled {c['annulled']}, extended {c['extended']}, "
        f"skipped {c['skipped']}" + (f", not reviewed {c['not_reviewed']}" if c["not_reviewed"] else ""),
        f"  late (recorded after the resolve-by date): {c['late']}",
        f"  scores: {review_stage.score_movement(summary)}",
    ]
    return "\n".join(lines)

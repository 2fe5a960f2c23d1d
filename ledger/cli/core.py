"""Everyday commands: init, add, forecast, list, show, resolve, annul, edit,
import, export, verify, sql and schema."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.common import (
    Csv, Db, Force, ForecasterFilter, Json, Limit, Offset, QuestionId, Search, Sort, TagFilter, check_known, check_output,
    check_sort, open_store, writing_output,
)
from ledger.errors import LedgerError
from ledger.format import short_id

if TYPE_CHECKING:
    from ledger.records import QuestionHistory

app = typer.Typer()

Forecaster = Annotated[
    str | None,
    typer.Option("--forecaster", "-f", help="Who forecasts (default: $LEDGER_FORECASTER, else your login name)."),
]
Status = Annotated[str, typer.Option("--status", "-s", help="open, due, resolved, annulled or all.")]
STATUSES = ("open", "due", "resolved", "annulled", "all")


def _forecaster(name: str | None) -> str:
    from ledger.models import default_forecaster

    return name or default_forecaster()


def _role_prefix(text: str) -> str:
    """--role-prefix checked before anything is opened: a bad one is a usage error (exit 2)."""
    from ledger.store_pg import role_prefix

    try:
        return role_prefix(text)
    except LedgerError as error:
        raise typer.BadParameter(str(error)) from None


@app.command()
def init(
    db: Db = None,
    create_roles: Annotated[bool, typer.Option(
        "--create-roles", help="PostgreSQL only: create the writer and reader roles instead of printing their SQL.")]
    = False,
    role_prefix: Annotated[str, typer.Option(
        "--role-prefix", callback=_role_prefix,
        help="PostgreSQL only: the roles are PREFIX_writer and PREFIX_reader (one ledger's roles beside another's).")]
    = "ledger",
) -> None:
    """Create an empty ledger (other commands create it on first write too).

    For a team ledger (--db postgresql://…) it creates the schema and prints
    the SQL of a writer role (INSERT and SELECT, no UPDATE or DELETE) and a
    reader role; --create-roles runs it instead.

    Example: ledger init --db ~/forecasts.duckdb
    Example: ledger init --db postgresql://owner@db.example.org/forecasts --create-roles --role-prefix desk
    """
    from ledger.cli.output import say
    from ledger.location import ServerUrl
    from ledger.store import Store, default_path

    path = db or default_path()
    if isinstance(path, ServerUrl):
        _init_server(path, create_roles=create_roles, prefix=role_prefix)
        return
    if create_roles or role_prefix != "ledger":
        raise LedgerError("--create-roles and --role-prefix are for a team ledger on PostgreSQL (--db postgresql://…), "
                          "not a file")
    if path.exists():
        Store.open(path, create=False).close()
        say(f"ledger already exists at {path} (schema up to date)")
        return
    Store.open(path).close()
    say(f"created a new ledger at {path}")


def _init_server(url, *, create_roles: bool, prefix: str) -> None:
    """The schema on the server, then the roles: created (as the owner), or their SQL printed on stdout."""
    from ledger.cli.output import say
    from ledger.store import Store
    from ledger.store_pg import create_roles as make_roles
    from ledger.store_pg import role_sql

    with Store.open(url) as store:
        say(f"created a new ledger at {url}" if store.created else f"ledger already exists at {url} (schema up to date)")
        if create_roles:
            make_roles(store, prefix)
            say(f"created roles {prefix}_writer (SELECT, INSERT) and {prefix}_reader (SELECT); "
                f"grant one to each analyst: CREATE ROLE alice LOGIN PASSWORD '…' IN ROLE {prefix}_writer")
            return
    typer.echo(role_sql(prefix))
    say("the SQL above makes the writer and reader roles; run it as the owner, or run `ledger init --create-roles`")


@app.command()
def add(
    statement: Annotated[str | None, typer.Argument(help="The question, as a resolvable statement.")] = None,
    probability: Annotated[str | None, typer.Option("-p", "--probability", help="P(yes): 0.7 or 70%.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Resolve-by: 2027-06-30, 2027-Q3, 2027, +90d, +6m.")] = None,
    criteria: Annotated[str | None, typer.Option("--criteria", "-c", help="How it will be resolved (required).")] = None,
    options: Annotated[
        str | None, typer.Option("--options", help="Multiple choice: the options, e.g. A,B,C (with --probabilities).")
    ] = None,
    probabilities: Annotated[
        str | None, typer.Option("--probabilities", help="Multiple choice: one per option, e.g. 0.2,0.5,0.3.")
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag (repeatable).")] = None,
    forecaster: Forecaster = None,
    source_url: Annotated[str | None, typer.Option(help="URL of the analysis.")] = None,
    source_title: Annotated[str | None, typer.Option(help="Title of the analysis.")] = None,
    source_author: Annotated[str | None, typer.Option(help="Author of the analysis.")] = None,
    source_outlet: Annotated[str | None, typer.Option(help="Outlet (newsletter, paper).")] = None,
    source_date: Annotated[str | None, typer.Option(help="Publication date of the analysis.")] = None,
    quote: Annotated[str | None, typer.Option(help="The sentence the prediction was taken from.")] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="When the forecast was made, if earlier (marks it backfilled).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Log every prediction in a prediction file (YAML), atomically.")
    ] = None,
    max_size: Annotated[
        str, typer.Option("--max-size", help="Largest prediction file read: 2MB, 500KB or bytes.")
    ] = "2MB",
    db: Db = None,
) -> None:
    """Log a prediction (a question and your forecast) and print its id.

    Example: ledger add "Russia and China sign a new defence treaty" -p 15% --by 2027 -c "Signed treaty text published"

    Multiple choice: ledger add "Who wins?" --options A,B,C --probabilities 0.2,0.5,0.3 --by 2027 -c "Official result"
    """
    if file is not None:
        if statement or probability or probabilities or options or by:
            raise LedgerError("give either a statement with -p and --by, or --file, not both")
        from ledger.parse import parse_size

        log_prediction_file(file, db, max_bytes=parse_size(max_size))
        return
    if statement is None or by is None or (probability is None and probabilities is None):
        raise LedgerError('add needs a statement, -p PROBABILITY (or --options with --probabilities), --by DATE '
                          'and --criteria (e.g. ledger add "X happens" -p 70% --by 2027 -c "how it resolves")')
    if (options is None) != (probabilities is None) or (probability is not None and options is not None):
        raise LedgerError("a multiple-choice question takes --options and --probabilities (and no -p)")
    if not criteria or not criteria.strip():
        raise LedgerError("add needs --criteria: how the question will be resolved (prediction files need it too)")
    from ledger.models import Forecast, Question, Source

    source_fields = {"url": source_url, "title": source_title, "author": source_author,
                     "outlet": source_outlet, "published": source_date}
    source = Source(**source_fields) if any(source_fields.values()) else None
    question = Question(statement=statement, criteria=criteria, resolve_by=by, tags=tag or [],
                        options=_split(options), source=source, quote=quote)
    forecast = Forecast(forecaster=_forecaster(forecaster), probability=probability,
                        probabilities=_split(probabilities), made_at=at)
    with open_store(db, write=True) as store, store.write("add") as writer:
        question_id = writer.add_question(question, forecast)
    typer.echo(short_id(question_id))


def _split(text: str | None) -> list[str] | None:
    """``A,B,C`` as a list (options, probabilities); None when the option was not given."""
    return None if text is None else [part.strip() for part in text.split(",")]


def log_prediction_file(path: Path, db: Path | None, *, max_bytes: int | None = None) -> None:
    """Log a prediction file, print the new ids (stdout) and a count (stderr)."""
    from ledger.cli.output import say
    from ledger.predictions import MAX_FILE_BYTES, log_file, read_file

    loaded = read_file(path, max_bytes=max_bytes or MAX_FILE_BYTES)
    with open_store(db, write=True) as store:
        ids = log_file(store, loaded.file, lines=loaded.lines, name=str(path))
    for question_id in ids:
        typer.echo(short_id(question_id))
    say(f"logged {len(ids)} predictions from {path}")


@app.command()
def forecast(
    question: QuestionId,
    probability: Annotated[str | None, typer.Option("-p", "--probability", help="P(yes): 0.7 or 70%.")] = None,
    probabilities: Annotated[
        str | None, typer.Option("--probabilities", help="Multiple choice: one per option, e.g. 0.5,0.3,0.2.")
    ] = None,
    forecaster: Forecaster = None,
    note: Annotated[str | None, typer.Option("--note", "-n", help="Why the forecast changed.")] = None,
    at: Annotated[str | None, typer.Option("--at", help="When it was made, if earlier (backfilled).")] = None,
    db: Db = None,
) -> None:
    """Add a revision (or another forecaster's forecast); nothing earlier is overwritten.

    Example: ledger forecast 3f9a1c2e -p 55% --note "talks stalled"
    """
    from ledger.models import Forecast

    if (probability is None) == (probabilities is None):
        raise LedgerError("give -p for a yes/no question or --probabilities for a multiple-choice one")
    new = Forecast(forecaster=_forecaster(forecaster), probability=probability, probabilities=_split(probabilities),
                   note=note, made_at=at)
    with open_store(db, write=True) as store:
        question_id = store.resolve_id(question)
        with store.write("forecast") as writer:
            writer.add_forecast(question_id, new)
    from ledger.cli.output import say

    for line in writer.warnings:
        say(line)
    say(f"forecast recorded on {short_id(question_id)}")


@app.command("list")
def list_(
    status: Status = "open",
    tag: TagFilter = None,
    forecaster: ForecasterFilter = None,
    search: Search = None,
    sort: Sort = "resolve-by",
    limit: Limit = None,
    offset: Offset = 0,
    json_: Json = False,
    csv_: Csv = False,
    db: Db = None,
) -> None:
    """List questions (open ones by default), soonest resolve-by first.

    On a terminal the table shows 50 rows and says how many more there are;
    --json and --csv (and a pipe) get every row, streamed, unless --limit.
    The CSV columns are always the same, whatever the rows hold.

    Example: ledger list --status resolved --search treaty --sort created --limit 20 --offset 20
    """
    from ledger.cli.listing import emit_listing

    if status not in STATUSES:
        raise LedgerError(f"--status must be one of {', '.join(STATUSES)}, not {status!r}")
    check_sort(sort)
    selection = {"status": status, "tag": tag, "forecaster": forecaster, "search": search}
    with open_store(db) as store:
        check_known(store, forecaster=forecaster, tag=tag)
        emit_listing(store, selection, sort=sort, limit=limit, offset=offset, json_=json_, csv_=csv_, table=_list_table)


def _list_table(rows) -> tuple[list[str], list[list]]:
    """A terminal line is narrow: the statement gets the room, details are in `show`."""
    from ledger.format import forecast_text, outcome_text

    return (["id", "resolve_by", "status", "forecast", "statement"],
            [[short_id(row.id), row.resolve_by, " ".join(filter(None, (row.status, outcome_text(row)))),
              forecast_text(row, row.latest_forecast), row.statement] for row in rows])


@app.command()
def show(
    question: QuestionId,
    json_: Json = False,
    csv_: Csv = False,
    db: Db = None,
) -> None:
    """Show a question with its source, quote, and every forecast, resolution and edit in order.

    Example: ledger show 3f9a
    """
    from ledger.cli.output import emit_json, emit_records_csv

    with open_store(db) as store:
        record = store.question(store.resolve_id(question))
    if json_:
        emit_json(record)
    elif csv_:
        emit_records_csv([record])
    else:
        _print_question(record)


def _print_question(q: QuestionHistory) -> None:
    from rich.markup import escape as markup_escape

    from ledger.cli.output import console
    from ledger.format import forecast_text, local_time, source_line, visible

    def escape(text) -> str:  # user text: neither rich markup nor terminal control sequences
        return markup_escape(visible(text))

    out = console()
    out.print(f"[bold]{escape(q.statement)}[/bold]")
    out.print(f"id {short_id(q.id)} · {q.kind.replace('_', ' ')} · status {q.status}"
              + (" (resolved late)" if q.resolved_late else ""))
    resolve_by = str(q.resolve_by)
    if q.resolve_by != q.original_resolve_by:
        resolve_by += f" (originally {q.original_resolve_by})"
    out.print(f"resolve by {resolve_by}")
    if q.options:
        out.print("options: " + escape(", ".join(q.options)))
    out.print("criteria: " + escape(q.criteria or "(none given)"))
    if q.tags:
        out.print("tags: " + escape(", ".join(q.tags)))
    if q.source:
        out.print("source: " + escape(source_line(q.source)))
    if q.quote:
        out.print(f"quote: “{escape(q.quote)}”")
    out.print("\n[bold]history[/bold]")
    events = [(f.recorded_at, "forecast", f) for f in q.forecasts]
    events += [(r.recorded_at, "resolution", r) for r in q.resolutions]
    events += [(e.recorded_at, "edit", e) for e in q.edits]
    for _, kind, event in sorted(events, key=lambda item: item[0]):
        if kind == "forecast":
            value = escape(forecast_text(q, event))
            mark = f"  [yellow]backfilled: recorded {local_time(event.recorded_at)}[/yellow]" if event.backfilled else ""
            note = f" — {escape(event.note)}" if event.note else ""
            out.print(f"  {local_time(event.made_at)}  forecast {value} by {escape(event.forecaster)}{note}{mark}")
        elif kind == "resolution":
            what = "annulled" if event.annulled else f"resolved {escape(event.outcome)}"
            superseded = "" if event.current else "  [dim](superseded)[/dim]"
            known = f" (known {local_time(event.resolved_at)})"
            extra = "".join(f" — {escape(text)}" for text in (event.note, event.evidence) if text)
            out.print(f"  {local_time(event.recorded_at)}  {what}{known}{extra}{superseded}")
        else:
            reason = f" — {escape(event.reason)}" if event.reason else ""
            out.print(f"  {local_time(event.recorded_at)}  edit {event.field} → {escape(str(event.value))}{reason}")


@app.command()
def resolve(
    question: QuestionId,
    outcome: Annotated[str, typer.Argument(help="yes, no, or one of the question's options.")],
    note: Annotated[str | None, typer.Option("--note", "-n", help="How it resolved.")] = None,
    evidence: Annotated[str | None, typer.Option("--evidence", "-e", help="URL of the evidence.")] = None,
    on: Annotated[str | None, typer.Option(
        "--on", help="When the outcome became known (default: now; a correction keeps the first known moment)."
    )] = None,
    resolver: Forecaster = None,
    db: Db = None,
) -> None:
    """Resolve a question. Resolving again records a correction that supersedes, kept in history.

    A correction keeps the moment the outcome first became known unless --on is given.

    Example: ledger resolve 3f9a no --on 2026-03-01 --evidence https://example.org/news
    """
    from ledger.models import Resolution

    resolution = Resolution(outcome=outcome, resolved_at=on, note=note, evidence=evidence,
                            resolver=_forecaster(resolver))
    _record_resolution(db, question, resolution, "resolve")


@app.command()
def annul(
    question: QuestionId,
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why the criteria could not be applied.")],
    on: Annotated[str | None, typer.Option("--on", help="When it became clear (default: now).")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="Annul a question that already has an outcome (a retraction, disclosed beside every score)."
    )] = False,
    resolver: Forecaster = None,
    db: Db = None,
) -> None:
    """Annul a question (ambiguous; the criteria could not be applied). It no longer counts in scores.

    Annulling a resolved question is a retraction: it needs --force, stays in
    history, and `ledger score` and the dashboard disclose it with the Brier
    score had it counted.

    Example: ledger annul 3f9a --reason "the treaty was never defined"
    """
    from ledger.models import Resolution

    resolution = Resolution(annulled=True, note=reason, resolved_at=on, resolver=_forecaster(resolver))
    _record_resolution(db, question, resolution, "annul", force=force)


def _record_resolution(db, question: str, resolution, command: str, *, force: bool = False) -> None:
    from ledger.cli.output import say

    with open_store(db, write=True) as store:
        question_id = store.resolve_id(question)
        with store.write(command) as writer:
            corrected = writer.resolve(question_id, resolution, force=force)
    what = "annulled" if resolution.annulled else f"resolved {resolution.outcome}"
    what += " (a retraction: disclosed beside every score)" if corrected and force else ""
    say(f"{short_id(question_id)} {what}" + (" (a correction: the earlier resolution is kept in history)" if corrected else ""))


@app.command()
def edit(
    question: QuestionId,
    criteria: Annotated[str | None, typer.Option("--criteria", "-c", help="New resolution criteria.")] = None,
    by: Annotated[str | None, typer.Option("--by", help="New resolve-by date.")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="Replace the tags (repeatable).")] = None,
    reason: Annotated[str | None, typer.Option("--reason", "-r", help="Why (shown in history).")] = None,
    db: Db = None,
) -> None:
    """Edit criteria, resolve-by or tags. Every edit is logged and shown in history.

    The statement cannot be edited: forecasts were made on its words, and
    changing them would change what those forecasts meant. Annul the
    question and add a new one instead.

    Example: ledger edit 3f9a --by 2027-Q2 --reason "vote postponed"
    """
    from ledger.models import default_forecaster
    from ledger.cli.output import say
    from ledger.parse import parse_date

    changes = {"criteria": criteria, "resolve_by": parse_date(by) if by else None, "tags": tag}
    changes = {field: value for field, value in changes.items() if value is not None}
    if not changes:
        raise LedgerError("nothing to edit: give --criteria, --by or --tag")
    with open_store(db, write=True) as store:
        question_id = store.resolve_id(question)
        with store.write("edit") as writer:
            for field, value in changes.items():
                writer.edit(question_id, field, value, reason=reason, editor=default_forecaster())
    say(f"{short_id(question_id)}: edited {', '.join(changes)}")


PEER_CHOICES = ("auto", "ledger", "fatebook", "predictionbook", "metaculus", "manifold", "cultivate", "wide")


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(
        help="Files to import: ours (CSV, TSV, JSONL, Parquet) or a peer's export; - reads stdin.")],
    from_: Annotated[str, typer.Option("--from", help=f"{', '.join(PEER_CHOICES)} (default: auto, detected).")] = "auto",
    wide: Annotated[bool, typer.Option("--wide", help="A wide contest sheet (one row per entrant, one column "
                                                      "per question), as --from wide.")] = False,
    fmt: Annotated[str | None, typer.Option("--format", help="Our columns as csv, jsonl or parquet (default: from "
                                                             "the name).")] = None,
    resolve_by: Annotated[str | None, typer.Option("--resolve-by", help="Resolve-by for rows without one.")] = None,
    made_at: Annotated[str | None, typer.Option("--made-at", help="When the forecasts were made, for rows without made_at.")] = None,
    resolved_at: Annotated[
        str | None, typer.Option("--resolved-at", help="When the outcomes became known, for rows without resolved_at.")
    ] = None,
    forecaster: Forecaster = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t", help="A tag for every question (repeatable).")] = None,
    map_: Annotated[list[str] | None, typer.Option("--map", help="Read column SRC as ledger column DEST, e.g. "
                                                                 "--map category=tags (repeatable).")] = None,
    skip_existing: Annotated[bool, typer.Option(
        "--skip-existing", help="Skip questions already in the ledger instead of refusing the import.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Check and count everything; write nothing.")] = False,
    db: Db = None,
) -> None:
    """Import track records atomically: our own columns (see the README) or a peer's export.

    Peers' exports (Fatebook, PredictionBook, Metaculus, Manifold, Good Judgment
    Open, wide contest sheets) are recognised and the format said on stderr.
    A default (--resolve-by, --made-at, --forecaster…) fills only rows without
    that value; times with an offset are converted to UTC, times without one are
    UTC. Forecasts that entered with their outcome, or after their resolve-by
    date, are marked backfilled; the summary says how many.

    Example: ledger import scott_2021.csv --resolve-by 2021-12-31 --made-at 2021-04-26 --resolved-at 2022-01-24 --forecaster scott

    Example: ledger import fatebook-forecasts.csv --dry-run
    """
    from ledger.io import FORMATS, import_files, import_steps, parse_mapping
    from ledger.cli.output import say
    from ledger.cli.progress import progress
    from ledger.parse import parse_date, parse_moment

    if fmt is not None and fmt not in FORMATS:
        raise LedgerError(f"unknown --format {fmt!r}: use {', '.join(FORMATS)}")
    if from_ not in PEER_CHOICES:
        raise LedgerError(f"unknown --from {from_!r}: use {', '.join(PEER_CHOICES)}")
    if wide and from_ not in ("auto", "wide"):
        raise LedgerError(f"--wide is --from wide: not with --from {from_}")
    options = {
        "fmt": fmt, "peer": "wide" if wide else ("ledger" if fmt else from_),
        "resolve_by": parse_date(resolve_by) if resolve_by else None, "forecaster": forecaster,
        "made_at": parse_moment(made_at) if made_at else None,
        "resolved_at": parse_moment(resolved_at) if resolved_at else None,
        "tags": tag or [], "mapping": parse_mapping(map_ or []), "skip_existing": skip_existing, "dry_run": dry_run,
    }
    with _import_inputs(files, fmt) as (paths, names), \
            progress(f"importing {', '.join(names)}", total=import_steps(len(paths))) as advance:
        options["on_progress"] = advance
        if dry_run:
            result = _dry_run(db, paths, names, options)
        else:
            with open_store(db, write=True) as store:
                result = import_files(store, paths, names=names, **options)
    for line in result.notes:
        say(line)
    say(_import_summary(result, names, dry_run=dry_run))
    if result.resolved_at_import:
        moment = f", {result.recorded_at:%Y-%m-%d %H:%M} UTC" if result.recorded_at else ""
        say(f"{result.resolved_at_import} outcomes had no resolved_at: recorded as known at the import time"
            f"{moment} (give --resolved-at DATE if you know when)")


def _dry_run(db: Path | None, paths: list[Path], names: list[str], options: dict):
    """Import into the ledger and roll back; with no ledger yet, into a throwaway one (nothing is created)."""
    import tempfile

    from ledger.io import import_files
    from ledger.location import ServerUrl
    from ledger.store import Store, default_path

    path = db or default_path()
    if isinstance(path, ServerUrl) or path.exists():  # a team ledger on a server always exists
        with open_store(path, write=True) as store:
            return import_files(store, paths, names=names, **options)
    with tempfile.TemporaryDirectory(prefix="ledger-dry-run-") as tmp:
        store = Store.open(Path(tmp) / "ledger.duckdb")
        try:
            return import_files(store, paths, names=names, **options)
        finally:
            store.close()


def _import_summary(result, names: list[str], *, dry_run: bool) -> str:
    verb = "would import" if dry_run else "imported"
    shown = list(result.forecasters[:5]) + ([f"{len(result.forecasters) - 5} more"] if len(result.forecasters) > 5 else [])
    by = f" by {', '.join(shown)}" if shown else ""
    skipped = f"; skipped {result.skipped} already in the ledger" if result.skipped else ""
    return (f"{verb} {result.forecasts} forecasts{by} on {result.questions} questions "
            f"({result.resolutions} resolved or annulled; {result.backfilled} backfilled{skipped}) "
            f"from {', '.join(names)}" + ("; nothing written" if dry_run else ""))


@contextmanager
def _import_inputs(files: list[Path], fmt: str | None):
    """The files to read, with the names messages use; ``-`` is stdin, saved to a temporary file first."""
    import tempfile

    if not any(str(f) == "-" for f in files):
        yield files, [str(f) for f in files]
        return
    if sum(str(f) == "-" for f in files) > 1:
        raise LedgerError("- (stdin) can be given once")
    import sys

    data = sys.stdin.buffer.read()
    suffix = {"jsonl": ".jsonl", "parquet": ".parquet"}.get(fmt or "", "")
    if not suffix:
        first = data.lstrip()[:1]
        suffix = ".json" if first in (b"{", b"[") else ".zip" if data[:2] == b"PK" else ".csv"
    with tempfile.TemporaryDirectory(prefix="ledger-stdin-") as tmp:
        stdin = Path(tmp) / f"stdin{suffix}"
        stdin.write_bytes(data)
        paths = [stdin if str(f) == "-" else f for f in files]
        yield paths, ["stdin" if str(f) == "-" else str(f) for f in files]


# How an earlier export of ours begins (CSV header, JSONL first key), so it may be replaced.
EXPORT_OPENINGS = (b"question_key,statement,", b'{"question_key":')


@app.command()
def export(
    fmt: Annotated[str | None, typer.Option(
        "--format", help="jsonl, csv or parquet (default: from the -o name, else jsonl).")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")] = None,
    force: Force = False,
    db: Db = None,
) -> None:
    """Export every forecast with its question and resolution; `ledger import` reads it back.

    Replaces an earlier CSV or JSONL export without --force; never the ledger.

    Example: ledger export -o track-record.csv
    """
    import sys
    from contextlib import nullcontext

    from ledger.io import FORMATS, detect_format
    from ledger.io import export as export_rows
    from ledger.cli.output import say
    from ledger.cli.progress import progress

    if fmt is not None and fmt not in FORMATS:
        raise LedgerError(f"unknown --format {fmt!r}: use {', '.join(FORMATS)}")
    check_output(output, db, force=force, ours=EXPORT_OPENINGS)
    if fmt is None:
        fmt = detect_format(output) if output is not None else "jsonl"
    if fmt == "parquet" and output is None:
        raise LedgerError("parquet is binary: give -o FILE")
    # A million forecasts take seconds in one COPY that reports no count: a spinner on a terminal,
    # unless the rows themselves are printed on that terminal.
    spinner = progress("exporting forecasts") if output is not None or not sys.stdout.isatty() else nullcontext()
    with open_store(db) as store, spinner:
        if output is None:
            count = export_rows(store, None, fmt)
        else:
            with writing_output(output, db, force=force, ours=EXPORT_OPENINGS) as temporary:
                count = export_rows(store, temporary, fmt)
    if output is not None:
        say(f"exported {count} forecasts to {output}")


@app.command()
def verify(
    site: Annotated[Path | None, typer.Argument(help="A published report folder to check instead of a ledger file.")] = None,
    head: Annotated[str | None, typer.Option("--head", help="A head you saved earlier: prove it is part of today's chain.")]
    = None,
    json_: Json = False,
    csv_: Csv = False,
    db: Db = None,
) -> None:
    """Recompute the hash chain; name the first record that does not match.

    With SITE_DIR (a folder `ledger report` wrote) it checks the published
    records instead: every hash and commit head, that the page's head is the
    chain's head, that every head in heads.json is part of the chain, and that
    the page's headline figures recompute from the published records.

    Exit code 0: intact (prints the record count and the chain head to compare
    with a published dashboard). Exit code 5: tampered, or --head not in the chain.

    Example: ledger verify reports/forecast-track-record --head e948c1d2a0b3
    """
    from ledger.cli.output import emit_json, emit_records_csv
    from ledger.errors import Tampered
    from ledger.publish import head_in_chain, verify_site

    if site is not None:
        result = verify_site(site, head)
        line = (f"ok: {result['records']} published records in {result['commits']} commits; head {result['head']}; "
                f"{result['n_scored']} scored, Brier {result['brier']}, log loss {result['log_loss']}, "
                f"{result['n_backfilled']} backfilled recomputed")
    else:
        from ledger.cli.progress import progress
        from ledger.verified import verify_once

        # A million records take seconds in a few SQL passes that report no count: a spinner, on a terminal only.
        with open_store(db) as store, progress("verifying the chain"):
            report = verify_once(store, again=True)  # in full, remembered for a later `ledger score`
            if head is not None and not head_in_chain(head, [c["head"] for c in store.commits()]):
                raise Tampered(f"head {head} is not a head of this ledger's chain")
        result = {"ok": True, "records": report.n_records, "commits": report.n_commits, "head": report.head}
        line = f"ok: {report.n_records} records in {report.n_commits} commits; head {report.head}"
    if json_:
        emit_json(result)
    elif csv_:
        emit_records_csv([result])
    else:
        typer.echo(line + (f"; {head} is part of this chain" if head else ""))


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="A SELECT over the views questions, forecasts, resolutions, edits.",
                                         metavar="QUERY")],
    json_: Json = False,
    csv_: Csv = False,
    db: Db = None,
) -> None:
    """Run a read-only SQL query over the ledger's documented views.

    Example: ledger sql "SELECT forecaster, count(*) FROM forecasts GROUP BY ALL" --csv
    """
    from ledger.cli.output import emit_csv, emit_json, emit_table
    from ledger.store import Store, default_path

    with Store.open(db or default_path(), create=False, read_only=True) as store:
        columns, rows = store.query(query)
    if json_:
        emit_json([dict(zip(columns, row, strict=True)) for row in rows])
    elif csv_:
        emit_csv(columns, rows)
    else:
        emit_table(columns, rows)


@app.command()
def schema() -> None:
    """Print the JSON Schema of prediction files (for editors such as VS Code).

    Example: ledger schema > predictions/schema.json
    """
    from ledger.models import json_schema
    from ledger.cli.output import emit_json

    emit_json(json_schema())

"""``ledger extract``: draft a prediction file from an analysis."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from ledger.cli.common import Csv, Db, Json, reask, writing_output
from ledger.errors import LedgerError

app = typer.Typer()

ACTIONS = {"a": "accept", "e": "edit", "s": "skip", "q": "quit"}


def _read_input(file: str, max_bytes: int) -> str:
    """The analysis as text, refused beyond ``max_bytes``: reads no further than that, so a wrong file
    (a log, a dump, /dev/zero) costs nothing and is not parsed for minutes."""
    name = "stdin" if file == "-" else file
    try:
        if file == "-":
            raw = sys.stdin.buffer.read(max_bytes + 1)
        else:
            with Path(file).open("rb") as handle:
                raw = handle.read(max_bytes + 1)
    except OSError as error:
        raise LedgerError(f"cannot read {file}: {error.strerror}") from None
    if len(raw) > max_bytes:
        raise LedgerError(f"{name} is larger than {max_bytes:,} bytes; if it really is one analysis, "
                          "raise the limit with --max-size")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise LedgerError(f"{name} is not UTF-8 text") from None


def _source(metadata: dict[str, str], options: dict[str, str | None], name: str) -> dict:
    """Options win over what the document declares; a date must parse wherever it came from."""
    from ledger.parse import parse_date

    source = {**metadata, **{key: value for key, value in options.items() if value}}
    if source.get("published"):
        try:
            source["published"] = parse_date(source["published"])
        except LedgerError as error:
            where = "--date" if options.get("published") else f"the date declared in {name}"
            raise LedgerError(f"{where}: {error}") from None
    return source


def _choice(value: str) -> str:
    action = value.strip().lower()[:1]
    if action not in ACTIONS:
        raise LedgerError("type a, e, s or q")
    return action


def _optional_date(value: str):
    from ledger.parse import parse_date

    return parse_date(value) if value.strip() else None


def _show(number: int, total: int, candidate) -> None:
    from ledger.format import visible

    typer.echo(visible(f"\n[{number}/{total}] {candidate.quote}", newlines=True))
    typer.echo(visible(f"  statement:   {candidate.statement}"))
    typer.echo(f"  probability: {candidate.probability} (cue {candidate.cue!r}, range "
               f"{candidate.probability_range[0]}-{candidate.probability_range[1]})")
    if candidate.conditional:
        typer.echo(visible(f"  condition:   {candidate.condition}"))


def _review(candidates) -> list[dict]:
    """Walk through the candidates: accept, edit, skip or quit. Returns the entries kept.

    An entry stays a draft unless it was edited with both a resolve-by date
    and criteria: only then has a person supplied what extraction cannot know.
    """
    from dataclasses import replace

    from ledger.extract import drafts
    from ledger.parse import parse_probability

    kept = []
    for number, candidate in enumerate(candidates, 1):
        _show(number, len(candidates), candidate)
        action = typer.prompt("[a]ccept, [e]dit, [s]kip, [q]uit", default="a", value_proc=reask(_choice))
        if action == "q":
            break
        if action == "s":
            continue
        if action == "a":
            kept.append(drafts.entry(candidate))
            continue
        statement = typer.prompt("statement", default=candidate.statement).strip()
        probability = typer.prompt("probability", default=str(candidate.probability), value_proc=reask(parse_probability))
        resolve_by = typer.prompt("resolve by (blank: later)", default="", show_default=False, value_proc=reask(_optional_date))
        criteria = typer.prompt("criteria (blank: later)", default="", show_default=False).strip() or None
        edited = replace(candidate, statement=statement or candidate.statement, probability=probability)
        complete = resolve_by is not None and criteria is not None
        kept.append(drafts.entry(edited, draft=not complete, resolve_by=resolve_by, criteria=criteria))
    return kept


@app.command()
def extract(
    file: Annotated[str, typer.Argument(help="The analysis: a text, Markdown or HTML file, or - for stdin.")],
    title: Annotated[str | None, typer.Option(help="Title of the analysis.")] = None,
    author: Annotated[str | None, typer.Option(help="Author of the analysis.")] = None,
    url: Annotated[str | None, typer.Option(help="URL of the analysis.")] = None,
    date: Annotated[str | None, typer.Option(help="Publication date (2025-02-25).")] = None,
    outlet: Annotated[str | None, typer.Option(help="Outlet: newsletter, paper, blog.")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the draft prediction file here (default: print it).")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite the output file if it exists.")] = False,
    interactive: Annotated[
        bool, typer.Option("--interactive", "-i", help="Review each candidate on the terminal, then write (and log).")
    ] = False,
    min_confidence: Annotated[
        float | None, typer.Option("--min-confidence", min=0.0, max=1.0,
                                   help="Keep sentences the detector is at least this sure of (default: its "
                                        "cross-validated threshold); higher trades recall for precision.")
    ] = None,
    max_size: Annotated[
        str, typer.Option("--max-size", help="Largest input read: 2MB, 500KB or bytes (an analysis is rarely 100KB).")
    ] = "2MB",
    horizon_days: Annotated[
        int | None, typer.Option("--horizon", min=1, help="Days after publication proposed as resolve_by when the "
                                                          "text names no time (default 365; flagged as the default).")
    ] = None,
    as_json: Json = False,
    as_csv: Csv = False,
    db: Db = None,
) -> None:
    """Find the forecasts in an analysis and draft a prediction file to review.

    Reads plain text, Markdown (front matter gives title, author, url, date,
    outlet) or HTML. A learned detector picks the sentences that forecast in
    the text's own voice; each forecast becomes an entry, most confident
    first, with a self-contained draft statement, the probability its wording
    implies (and which lexicon source says so), the exact quote, a proposed
    resolve_by read from the text's time expressions relative to the
    publication date, from the sentence, its neighbours, the title or the
    text's other sentences (or a flagged default, --horizon days, one year
    unless told) and drafted criteria.
    Every entry is marked draft: true; `ledger add --file` refuses it until a
    person has reviewed it. Input over 2 MB is refused unless --max-size.

    Example: ledger extract analysis.md --date 2025-02-25 --min-confidence 0.5 -o predictions/analysis.yaml
    """
    from ledger.extract import document, drafts
    from ledger.extract import extract as find_candidates
    from ledger.cli.output import emit_json, say
    from ledger.parse import parse_size

    name = "stdin" if file == "-" else Path(file).name
    raw = _read_input(file, parse_size(max_size))
    parsed = document.read_document(raw)
    source = _source(parsed.metadata, {"title": title, "author": author, "url": url,
                                       "published": date, "outlet": outlet}, name)
    candidates = find_candidates(parsed.paragraphs, published=source.get("published"), outlet=source.get("outlet"),
                                 title=source.get("title"), min_confidence=min_confidence,
                                 **({"default_days": horizon_days} if horizon_days else {}))
    if as_json:
        emit_json([candidate.as_dict() for candidate in candidates])
        return
    if as_csv:
        from ledger.cli.output import emit_records_csv

        emit_records_csv(candidate.as_dict() for candidate in candidates)
        return
    if not candidates:
        say(f"no forecasts found in {name}; nothing written")
        return
    if interactive:
        if output is None:
            stem = "extract" if file == "-" else Path(file).stem
            output = Path(typer.prompt("write to", default=f"predictions/{stem}.yaml"))
        entries = _review(candidates)
        if not entries:
            say("no candidate kept; nothing written")
            return
    else:
        entries = [drafts.entry(candidate) for candidate in candidates]
    if output is not None and output.exists() and not force:
        raise LedgerError(f"{output} exists (it may hold a review); use --force to overwrite it")
    data = drafts.prediction_file(entries, source)
    text = drafts.to_yaml(data, origin=name, path=str(output or "predictions/NAME.yaml"))
    if output is None:
        typer.echo(text, nl=False)
        say(f"{len(entries)} draft predictions; review them before logging")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    with writing_output(output, db, force=True) as temporary:  # never a ledger, even with --force
        temporary.write_text(text, encoding="utf-8")
    drafted = sum(entry["draft"] for entry in entries)
    say(f"wrote {len(entries)} predictions to {output} ({drafted} still drafts); "
        f"review them, then: ledger add --file {output}")
    if interactive and drafted == 0 and typer.confirm("log them in the ledger now?", default=False):
        from ledger.cli.core import log_prediction_file

        log_prediction_file(output, db)

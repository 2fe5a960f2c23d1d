"""Metaculus: the "Download data" zip, and the API's posts JSON.

**Download zip** (``utils/csv_utils.generate_data`` in Metaculus/metaculus):
``question_data.csv`` (``Question ID, Question URL, Question Title, …,
Question Type, MC Options (All), …, Scheduled Close Time, Resolution,
Resolution Known Time``) and ``forecast_data.csv`` (``Question ID, Forecaster
ID, Forecaster Username, Is Bot, Start Time, End Time, Forecaster Count,
Probability Yes, Probability Yes Per Category, Continuous CDF, …``), written
by Python's ``csv`` module: times are ``str(datetime)``
(``2024-01-05 12:34:56.123456+00:00``), lists are Python reprs
(``['A', 'B']``, ``[0.2, None, 0.8]``), None is an empty cell. User rows and
aggregate rows are mixed: an aggregate row has no Forecaster ID and the
method (``recency_weighted``, ``unweighted``, ``metaculus_prediction``,
``single_aggregation``, ``geometric_mean``) as its username. The zip, or
``forecast_data.csv`` with ``question_data.csv`` beside it, may be named.

**API posts JSON** (``GET /api/posts/``: ``{"results": [post, …]}``, or one
post): each post's ``question`` (or ``group_of_questions.questions``) has
``type``, ``options``, ``resolution``, ``scheduled_resolve_time``,
``actual_resolve_time``, ``aggregations.<method>.history[]`` and
``my_forecasts.history[]`` with ``start_time`` in epoch seconds and
``forecast_values`` (``[1 − p, p]`` for binary).

Mapping:

- binary and multiple-choice questions (``metaculus:<question id>``); numeric,
  discrete and date questions are skipped and counted;
- every user forecast → a forecast by its username at ``Start Time``; every
  aggregate → a forecast by ``metaculus-<method>`` (e.g.
  ``metaculus-recency_weighted``), so the community can be compared;
- resolution yes/no/option as is; ``annulled`` and ``ambiguous`` → annulled;
- API: an aggregate history entry of a multiple-choice question carries only
  per-option medians (``centers``), not a distribution: skipped and counted.
  For binary the centre is the community prediction. ``my_forecasts`` do not
  name the user: they take ``forecaster=`` (``--forecaster``), else stay blank.
- resolve_by: the API's ``scheduled_resolve_time``; the zip has none, so its
  ``Scheduled Close Time`` is used, and a note says so.
- **Not carried over**: withdrawals and expiries (``End Time`` without a
  following forecast: the ledger keeps a forecast standing until the next one,
  so these are counted in a note), Metaculus' own scores (peer, baseline,
  coverage), comments, continuous forecasts, and options added or removed over
  time (an option not offered yet has no probability: stored as 0, counted).
"""

from __future__ import annotations

import ast
import csv
import io
import zipfile
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .rows import (
    Notes, PeerFormatError, PeerImport, annulled, csv_dicts, from_epoch_s, json_head, key, load_json, parse_time,
    renormalise, table, utc_date,
)

__all__ = ["NAME", "detect", "read"]

NAME = "metaculus"
QUESTIONS, FORECASTS = "question_data.csv", "forecast_data.csv"
SCORED_TYPES = ("binary", "multiple_choice")
AGGREGATION_METHODS = ("recency_weighted", "unweighted", "single_aggregation", "metaculus_prediction",
                       "geometric_mean")
VOID = {"annulled": "annulled on Metaculus", "ambiguous": "resolved ambiguous on Metaculus"}


def detect(path: Path) -> bool:
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as archive:
                names = {Path(n).name for n in archive.namelist()}
        except (OSError, zipfile.BadZipFile):
            return False
        return {QUESTIONS, FORECASTS} <= names
    if path.name in (QUESTIONS, FORECASTS):
        return True
    head = json_head(path).lstrip()
    return head[:1] in "[{" and ('"aggregations"' in head or '"my_forecasts"' in head) and '"question' in head


def read(path: Path, forecaster: str | None = None, **_options) -> PeerImport:
    """Read the zip (or its two CSVs), or a posts JSON; ``forecaster`` names who ``my_forecasts`` are."""
    if path.suffix.lower() == ".zip":
        with zipfile.ZipFile(path) as archive:
            by_name = {Path(n).name: n for n in archive.namelist()}
            texts = [archive.read(by_name[name]).decode("utf-8-sig") for name in (QUESTIONS, FORECASTS)]
        return _read_download(*texts)
    if path.name in (QUESTIONS, FORECASTS):
        folder = path.parent
        if not (folder / QUESTIONS).exists() or not (folder / FORECASTS).exists():
            raise PeerFormatError(f"{path.name} needs {QUESTIONS} and {FORECASTS} together (or the zip)")
        return _read_download(*((folder / n).read_text(encoding="utf-8-sig") for n in (QUESTIONS, FORECASTS)))
    return _read_posts(load_json(path), forecaster)


def _python_list(text: str | None, what: str) -> list | None:
    """A list cell as Metaculus writes it (a Python repr); blank is None."""
    if text is None or not text.strip():
        return None
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise PeerFormatError(f"{what} {text!r} is not a list") from None
    if not isinstance(value, list):
        raise PeerFormatError(f"{what} {text!r} is not a list")
    return value


def _outcome(resolution: str | None, options: list[str] | None, notes: Notes) -> dict:
    """The outcome columns for a Metaculus resolution text."""
    if resolution is None or resolution == "":
        return {}
    if resolution in VOID:
        notes.add("{n} question{s} resolved annulled or ambiguous on Metaculus: imported as annulled")
        return annulled(VOID[resolution])
    if options is None and resolution in ("yes", "no"):
        return {"outcome": resolution}
    if options is not None and resolution in options:
        return {"outcome": resolution}
    raise PeerFormatError(f"resolution {resolution!r} is not yes, no, annulled, ambiguous or an option")


def _distribution(values: list, notes: Notes) -> list[float]:
    """A multiple-choice forecast: None (option not offered yet) → 0, rounding divided out."""
    if any(v is None for v in values):
        notes.add("{n} multiple-choice forecast{s} gave no probability to an option not yet offered: "
                  "stored as 0")
    probabilities, changed = renormalise([0.0 if v is None else float(v) for v in values])
    if changed:
        notes.add("{n} multiple-choice forecast{s} did not sum to 1 (rounding): renormalised")
    return probabilities


def _read_download(questions_text: str, forecasts_text: str) -> PeerImport:
    notes = Notes()
    questions, skipped = {}, defaultdict(int)
    for line, record in csv_dicts(io.StringIO(questions_text, newline="")):
        with _at(QUESTIONS, line):
            _question(record, questions, skipped, notes)
    notes.add("the download has no scheduled resolution date: resolve_by is each question's scheduled close time")
    rows = []
    ends = defaultdict(list)  # (question, forecaster) → [(start, end)] to find withdrawals
    for line, record in csv_dicts(io.StringIO(forecasts_text, newline="")):
        qid = record["Question ID"]
        if qid in skipped:
            skipped[qid] += 1
            continue
        if qid not in questions:
            notes.add("skipped {n} forecast{s} on questions missing from question_data.csv")
            continue
        with _at(FORECASTS, line):
            forecaster = _forecaster(record)
            start = parse_time(record["Start Time"], what="Start Time")
            ends[(qid, forecaster)].append((start, parse_time(record.get("End Time"), what="End Time")))
            rows.append({**questions[qid], "forecaster": forecaster, "made_at": start,
                         **_values(questions[qid], record, notes), "at": f"{FORECASTS} line {line}"})
    notes.add("skipped {n} numeric, discrete or date question{s}", len(skipped))
    notes.add("skipped {n} forecast{s} on them", sum(skipped.values()))
    notes.add("{n} forecast{s} ended on Metaculus (withdrawn or expired) with none after them: the ledger "
              "keeps a forecast standing until the next one or the outcome", _withdrawals(ends))
    return table(rows, notes, NAME)


@contextmanager
def _at(name: str, line: int) -> Iterator[None]:
    """Name the file and the line a row begins on in a reader's message about that row."""
    try:
        yield
    except PeerFormatError as error:
        raise PeerFormatError(f"{name} line {line}: {error}") from None


def _question(record: dict, questions: dict, skipped: dict, notes: Notes) -> None:
    """One question_data.csv row into ``questions`` (a scored type) or ``skipped`` (numeric, date…)."""
    qtype = record["Question Type"]
    if qtype not in SCORED_TYPES:
        skipped[record["Question ID"]] = 0
        return
    options = _python_list(record.get("MC Options (All)"), "MC Options (All)") if qtype != "binary" else None
    question = {
        "statement": record["Question Title"],
        "question_key": key(NAME, record["Question ID"]),
        "resolve_by": utc_date(parse_time(record["Scheduled Close Time"], what="Scheduled Close Time")),
        "options": options,
        "resolved_at": parse_time(record.get("Resolution Known Time"), what="Resolution Known Time"),
        "tags": _python_list(record.get("Categories"), "Categories") or None,
        "source_outlet": "Metaculus",
        "source_url": record.get("Question URL") or None,
        **_outcome(record.get("Resolution") or None, options, notes),
    }
    if "outcome" not in question:
        question["resolved_at"] = None
    questions[record["Question ID"]] = question


def _forecaster(record: dict) -> str:
    """The user's name (or anonymised id), or ``metaculus-<method>`` for an aggregate row."""
    if "Forecaster (Anonymized)" in record:
        name = record["Forecaster (Anonymized)"]
        return f"metaculus-{name}" if name in AGGREGATION_METHODS else name
    if record.get("Forecaster ID"):
        return record["Forecaster Username"]
    return f"metaculus-{record['Forecaster Username']}"


def _values(question: dict, record: dict, notes: Notes) -> dict:
    """The probability column(s) of one forecast row."""
    per_category = _python_list(record.get("Probability Yes Per Category"), "Probability Yes Per Category")
    if question["options"] is None:
        if record.get("Probability Yes"):
            return {"probability": float(record["Probability Yes"])}
        if per_category and len(per_category) == 2:  # geometric_mean writes [P(no), P(yes)] for binary
            return {"probability": float(per_category[1])}
        raise PeerFormatError(f"question {record['Question ID']}: a binary forecast without Probability Yes")
    if per_category is None or len(per_category) != len(question["options"]):
        raise PeerFormatError(f"question {record['Question ID']}: Probability Yes Per Category does not "
                              "match MC Options (All)")
    return {"probabilities": _distribution(per_category, notes)}


def _withdrawals(ends: dict) -> int:
    """How many forecasts ended with no forecast of the same forecaster right after (withdrawn or expired)."""
    count = 0
    for spans in ends.values():
        spans.sort()
        count += sum(1 for i, (_start, end) in enumerate(spans)
                     if end is not None and (i + 1 == len(spans) or spans[i + 1][0] > end))
    return count


def _read_posts(document, forecaster: str | None) -> PeerImport:
    if isinstance(document, dict) and isinstance(document.get("results"), list):
        posts = document["results"]
    elif isinstance(document, list):
        posts = document
    elif isinstance(document, dict) and ("question" in document or "group_of_questions" in document):
        posts = [document]
    else:
        raise PeerFormatError("not a Metaculus posts JSON (no results, question or group_of_questions)")
    notes = Notes()
    rows = []
    for post in posts:
        for question in _questions_of(post, notes):
            rows.extend(_post_question_rows(post, question, forecaster, notes))
    return table(rows, notes, NAME)


def _questions_of(post: dict, notes: Notes) -> list[dict]:
    if post.get("question"):
        return [post["question"]]
    if post.get("group_of_questions"):
        return list(post["group_of_questions"].get("questions") or [])
    notes.add("skipped {n} conditional or notebook post{s}")
    return []


def _post_question_rows(post: dict, question: dict, forecaster: str | None, notes: Notes) -> list[dict]:
    if question.get("type") not in SCORED_TYPES:
        notes.add("skipped {n} numeric, discrete or date question{s}")
        return []
    options = question.get("options") if question["type"] == "multiple_choice" else None
    base = {
        "statement": question.get("title") or post.get("title"),
        "question_key": key(NAME, question["id"]),
        "resolve_by": utc_date(parse_time(question.get("scheduled_resolve_time")
                                          or post.get("scheduled_resolve_time"), what="scheduled_resolve_time")),
        "criteria": question.get("resolution_criteria") or None,
        "options": options,
        "source_outlet": "Metaculus",
        "source_url": f"https://www.metaculus.com/questions/{post['id']}/" if post.get("id") else None,
        **_outcome(question.get("resolution"), options, notes),
    }
    if "outcome" in base:
        base["resolved_at"] = parse_time(question.get("actual_resolve_time"), what="actual_resolve_time")
    rows = []
    mine = (question.get("my_forecasts") or {}).get("history") or []
    if forecaster is None:
        notes.add("{n} of my_forecasts name no forecaster: they take --forecaster", len(mine))
    for entry in mine:
        rows.append({**base, "forecaster": forecaster, "made_at": from_epoch_s(entry["start_time"]),
                     **_api_values(options, entry.get("forecast_values"), notes)})
    for method, aggregation in (question.get("aggregations") or {}).items():
        for entry in (aggregation or {}).get("history") or []:
            values = entry.get("forecast_values")
            if values is None and options is None and entry.get("centers"):
                values = [1 - entry["centers"][0], entry["centers"][0]]
            if values is None:
                notes.add("skipped {n} multiple-choice aggregate entr{ies} without forecast_values (the API's "
                          "history gives only per-option medians)")
                continue
            rows.append({**base, "forecaster": f"metaculus-{method}", "made_at": from_epoch_s(entry["start_time"]),
                         **_api_values(options, values, notes)})
    return rows


def _api_values(options: list[str] | None, values: list, notes: Notes) -> dict:
    if options is None:
        return {"probability": float(values[-1])}
    return {"probabilities": _distribution(values, notes)}

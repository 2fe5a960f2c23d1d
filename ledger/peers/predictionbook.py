"""PredictionBook: the API's ``my_predictions`` JSON, and the public scrape dump CSVs.

**API JSON** (``GET /api/my_predictions``, bellroy/predictionbook's
``PredictionSerializer``): ``{"user": {...}, "predictions": [...]}`` (the
public ``/api/predictions`` answers a bare array of the same objects). Each
prediction has ``description``, ``deadline``, ``created_at``, ``outcome``
(true/false/null), ``last_judgement_at``, ``withdrawn`` and ``responses[]``
with ``confidence`` (0–100, or null for a comment-only response),
``created_at``, ``user_label`` and ``comment``. Times are ISO with ``Z``
(the site runs in UTC).

**Public dump** (jbeshir/predictionbook-extractor ``-export`` and
``-exportresponses``): two CSV files without header. Predictions: ``id,
created (epoch s), deadline (epoch s), mean confidence (0–1), wager count,
outcome (0 unknown, 1 right, 2 wrong), creator, title``. Responses:
``prediction id, time (epoch s), confidence (0–1, NaN for a comment),
user, comment``. Either file may be named; the other is found beside it.

Mapping:

- a prediction → a yes/no question (``predictionbook:<id>``), ``deadline`` →
  resolve_by, the judgement → outcome with ``last_judgement_at`` → resolved_at;
- every response with a confidence → a forecast by its ``user_label`` at its
  time, its comment → note; comment-only responses are skipped (counted);
- **withdrawn** predictions are imported as annulled ("withdrawn on
  PredictionBook"), not dropped: they stay visible and never count in a
  score. ``my_predictions`` itself leaves withdrawn ones out; the dump cannot
  tell them from open ones (it shows them as unknown).
- **Not carried over**: visibility (private/group), groups, tags, the
  site's mean confidence (a crowd mean with no time, not a forecast), the
  judgement history before the last judgement. The site's own
  ``my_predictions.csv`` holds only that mean, so it is refused with a line
  pointing to the JSON.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .rows import (
    Notes, PeerFormatError, PeerImport, annulled, companion, csv_records, from_epoch_s, json_head, key, load_json,
    parse_time, table, utc_date,
)

__all__ = ["NAME", "detect", "read"]

NAME = "predictionbook"
URL = "https://predictionbook.com/predictions/{}"
SITE_CSV_HEADER = ("creator_label", "mean_confidence", "description_with_group")
DUMP_OUTCOMES = {"0": {}, "1": {"outcome": "yes"}, "2": {"outcome": "no"}}


def detect(path: Path) -> bool:
    return _json_shape(path) or _dump_kind(path) is not None or _site_csv(path)


def read(path: Path, responses: Path | str | None = None, predictions: Path | str | None = None,
         **_options) -> PeerImport:
    """Read the JSON, or the dump pair; ``responses``/``predictions`` name the dump's other file."""
    if _site_csv(path):
        raise PeerFormatError(f"{path.name} is PredictionBook's my_predictions.csv, which holds only each "
                              "prediction's mean confidence, not your forecasts: export the API's "
                              "my_predictions JSON instead")
    kind = _dump_kind(path)
    if kind == "predictions":
        return _read_dump(path, companion(path, responses, lambda p: _dump_kind(p) == "responses", "responses"))
    if kind == "responses":
        return _read_dump(companion(path, predictions, lambda p: _dump_kind(p) == "predictions", "predictions"), path)
    return _read_json(path)


def _json_shape(path: Path) -> bool:
    head = json_head(path).lstrip()
    return head[:1] in "[{" and '"responses"' in head and ('"deadline"' in head or '"creator_label"' in head)


def _first_record(path: Path) -> list[str]:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return next(csv.reader(handle), [])
    except (OSError, UnicodeDecodeError, csv.Error):
        return []


def _dump_kind(path: Path) -> str | None:
    """``predictions`` or ``responses`` when the first record has the extractor's shape."""
    if path.suffix.lower() != ".csv":
        return None
    record = _first_record(path)
    if len(record) == 8 and all(f.isdigit() for f in record[:3]) and record[5] in DUMP_OUTCOMES:
        return "predictions"
    if len(record) == 5 and record[0].isdigit() and record[1].isdigit() and _is_number(record[2]):
        return "responses"
    return None


def _site_csv(path: Path) -> bool:
    return path.suffix.lower() == ".csv" and all(name in _first_record(path) for name in SITE_CSV_HEADER)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_json(path: Path) -> PeerImport:
    document = load_json(path)
    predictions = document.get("predictions") if isinstance(document, dict) else document
    if not isinstance(predictions, list):
        raise PeerFormatError(f"{path.name}: no predictions list (expected PredictionBook's my_predictions JSON)")
    notes = Notes()
    rows = []
    for prediction in predictions:
        question = _question_from_json(prediction, notes)
        for response in prediction.get("responses") or []:
            if response.get("confidence") is None:
                notes.add("skipped {n} comment-only response{s} (no confidence)")
                continue
            rows.append({
                **question,
                "probability": response["confidence"] / 100,
                "forecaster": response.get("user_label"),
                "made_at": parse_time(response.get("created_at"), what="response created_at"),
                "note": response.get("comment") or None,
            })
    return table(rows, notes, NAME)


def _question_from_json(prediction: dict, notes: Notes) -> dict:
    """The question columns shared by every forecast on one prediction."""
    if prediction.get("withdrawn"):
        notes.add("{n} withdrawn prediction{s} imported as annulled")
        outcome = annulled("withdrawn on PredictionBook")
    else:
        outcome = {True: {"outcome": "yes"}, False: {"outcome": "no"}, None: {}}[prediction.get("outcome")]
    resolved_at = parse_time(prediction.get("last_judgement_at"), what="last_judgement_at")
    if outcome and resolved_at is None and not prediction.get("withdrawn"):
        notes.add("{n} judged prediction{s} without last_judgement_at (older export): resolution time unknown")
    return {
        "statement": prediction.get("description"),
        "question_key": key(NAME, prediction["id"]),
        "resolve_by": utc_date(parse_time(prediction.get("deadline"), what="deadline")),
        "resolved_at": resolved_at if outcome else None,
        "source_outlet": "PredictionBook",
        "source_url": URL.format(prediction["id"]),
        **outcome,
    }


def _read_dump(predictions_path: Path, responses_path: Path) -> PeerImport:
    notes = Notes()
    questions = {}
    with predictions_path.open(encoding="utf-8-sig", newline="") as handle:
        for line, record in csv_records(handle):
            if len(record) != 8 or record[5] not in DUMP_OUTCOMES:
                raise PeerFormatError(f"{predictions_path.name} line {line}: not a PredictionBook dump prediction")
            pid, _created, deadline, _mean, _wagers, outcome, _creator, title = record
            questions[pid] = {
                "statement": title,
                "question_key": key(NAME, pid),
                "resolve_by": utc_date(from_epoch_s(int(deadline))),
                "source_outlet": "PredictionBook",
                "source_url": URL.format(pid),
                **DUMP_OUTCOMES[outcome],
            }
    notes.add("the dump has no judgement time: resolved questions take the import's resolution time")
    rows = []
    with responses_path.open(encoding="utf-8-sig", newline="") as handle:
        for line, record in csv_records(handle):
            if len(record) != 5 or not _is_number(record[2]):
                raise PeerFormatError(f"{responses_path.name} line {line}: not a PredictionBook dump response")
            pid, when, confidence, user, comment = record
            if math.isnan(float(confidence)):
                notes.add("skipped {n} comment-only response{s} (no confidence)")
                continue
            if pid not in questions:
                notes.add("skipped {n} response{s} on predictions missing from the predictions file")
                continue
            rows.append({**questions[pid], "probability": float(confidence), "forecaster": user or None,
                         "made_at": from_epoch_s(int(when)), "note": comment or None,
                         "at": f"{responses_path.name} line {line}"})
    return table(rows, notes, NAME)

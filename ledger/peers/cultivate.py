"""Good Judgment Open / Cultivate Labs: the API's questions and prediction sets JSON.

Layout (cultivate-hfc/gfc-api-docs ``_questions.md``, ``_prediction_sets.md``):
``{"questions": [...]}`` with ``id``, ``name``, ``type``
(``Forecast::Binary::Question`` has one answer, ``Forecast::Question`` several),
``description``, ``ends_at`` (forecasting closes), ``resolved_at``,
``voided_at``, ``clarifications[]`` and ``answers[]`` (``id``, ``name``, and
after resolution ``probability`` 1.0 for the correct answer, 0.0 otherwise);
and ``{"prediction_sets": [...]}`` with ``question_id``, ``created_at``,
``membership_guid`` (the forecaster), ``rationale`` and ``predictions[]``
(``answer_id``, ``forecasted_probability``, ``final_probability`` = the
consensus after this forecast, ``made_after_correctness_known``). Times are
ISO 8601 with ``Z`` or an offset. Both documents may be one file, or two
files side by side (either named).

Mapping:

- a single-answer question → yes/no (``forecasted_probability`` of its answer);
  several answers → multiple choice in the API's answer order;
- probabilities that sum to 1 within rounding (0.3333 × 3) are renormalised,
  counted in a note;
- forecaster = ``membership_guid``; rationale → note; description and
  clarifications → criteria;
- the consensus after each prediction set (``final_probability``) becomes a
  forecast by ``cultivate-consensus`` at that set's time: the crowd as it
  stood then, not a later summary;
- resolved: the answer with probability 1 → outcome; ``voided_at`` → annulled;
- resolve_by: the API has only ``ends_at`` (when forecasting closes): used,
  and said in a note;
- forecasts ``made_after_correctness_known`` are skipped (Good Judgment
  invalidates them), counted.
- **Not carried over**: Good Judgment's own Brier and accuracy scores,
  ordinal scoring (the ledger scores multiple choice unordered), question
  metadata (topic, region), answers' own close times.
"""

from __future__ import annotations

from pathlib import Path

from .rows import (
    Notes, PeerFormatError, PeerImport, annulled, companion, json_head, key, load_json, parse_time,
    renormalise, table, utc_date,
)

__all__ = ["NAME", "detect", "read", "CONSENSUS"]

NAME = "cultivate"
CONSENSUS = "cultivate-consensus"
BINARY = "Forecast::Binary::Question"


def _kinds(path: Path) -> set[str]:
    """Which of the two API documents a JSON file's start shows."""
    head = json_head(path).lstrip()
    if not head.startswith("{"):
        return set()
    kinds = set()
    if '"questions"' in head and '"answers"' in head:
        kinds.add("questions")
    if '"prediction_sets"' in head and '"membership_guid"' in head:
        kinds.add("prediction_sets")
    return kinds


def detect(path: Path) -> bool:
    return bool(_kinds(path))


def read(path: Path, questions: Path | str | None = None, prediction_sets: Path | str | None = None,
         **_options) -> PeerImport:
    """Read both documents: from ``path``, from each other's file beside it, or as named."""
    kinds = _kinds(path)
    document = load_json(path)
    if "questions" not in kinds:
        document = {**load_json(companion(path, questions, lambda p: "questions" in _kinds(p), "questions")),
                    **document}
    if "prediction_sets" not in kinds:
        other = companion(path, prediction_sets, lambda p: "prediction_sets" in _kinds(p), "prediction_sets")
        document = {**document, **load_json(other)}
    return _read(document.get("questions") or [], document.get("prediction_sets") or [])


def _read(questions: list[dict], sets: list[dict]) -> PeerImport:
    notes = Notes()
    by_id = {q["id"]: _question(q, notes) for q in questions}
    rows = []
    for prediction_set in sorted(sets, key=lambda s: parse_time(s["created_at"])):
        question = by_id.get(prediction_set["question_id"])
        if question is None:
            notes.add("skipped {n} prediction set{s} on questions not in the questions document")
            continue
        predictions = prediction_set.get("predictions") or []
        if any(p.get("made_after_correctness_known") for p in predictions):
            notes.add("skipped {n} prediction set{s} made after an answer's correctness was known")
            continue
        made_at = parse_time(prediction_set["created_at"], what="created_at")
        answers = {p["answer_id"]: p for p in predictions}
        common = {**question["columns"], "made_at": made_at}
        rows.append({**common, "forecaster": prediction_set.get("membership_guid"),
                     "note": prediction_set.get("rationale") or None,
                     **_values(question, answers, "forecasted_probability", notes)})
        if all(p.get("final_probability") is not None for p in predictions):
            rows.append({**common, "forecaster": CONSENSUS, **_values(question, answers, "final_probability", notes)})
    notes.add("Good Judgment has no resolve-by date: resolve_by is each question's ends_at (forecasting closes)")
    return table(rows, notes, NAME)


def _question(question: dict, notes: Notes) -> dict:
    """The question columns and its answer ids in order."""
    answers = question.get("answers") or []
    if not answers:
        raise PeerFormatError(f"question {question['id']} has no answers")
    binary = question.get("type") == BINARY or len(answers) == 1
    options = None if binary else [a["name"] for a in answers]
    criteria = [question.get("description") or ""] + [
        f"Clarification ({c.get('created_at', '')[:10]}): {c.get('content', '')}" for c in question.get("clarifications") or []
    ]
    columns = {
        "statement": question["name"],
        "question_key": key(NAME, question["id"]),
        "resolve_by": utc_date(parse_time(question.get("ends_at"), what="ends_at")),
        "criteria": "\n\n".join(c for c in criteria if c) or None,
        "options": options,
        "source_outlet": "Good Judgment Open / Cultivate",
        **_outcome(question, answers, binary, notes),
    }
    return {"columns": columns, "answer_ids": [a["id"] for a in answers], "binary": binary}


def _outcome(question: dict, answers: list[dict], binary: bool, notes: Notes) -> dict:
    if question.get("voided_at"):
        notes.add("{n} voided question{s} imported as annulled")
        return {**annulled("voided on Good Judgment"), "resolved_at": parse_time(question["voided_at"])}
    if not question.get("resolved?") and not question.get("resolved_at"):
        return {}
    correct = [a for a in answers if a.get("probability") == 1.0]
    resolved_at = parse_time(question.get("resolved_at"), what="resolved_at")
    note = "; ".join(question.get("resolution_notes") or []) or None
    if binary:
        if answers[0].get("probability") not in (0.0, 1.0):
            raise PeerFormatError(f"question {question['id']}: resolved without a 0 or 1 answer probability")
        return {"outcome": "yes" if correct else "no", "resolved_at": resolved_at, "resolution_note": note}
    if len(correct) != 1:
        raise PeerFormatError(f"question {question['id']}: resolved, but not exactly one answer has probability 1")
    return {"outcome": correct[0]["name"], "resolved_at": resolved_at, "resolution_note": note}


def _values(question: dict, answers: dict, field: str, notes: Notes) -> dict:
    """The probability column(s) from one prediction set's ``field`` per answer."""
    if question["binary"]:
        return {"probability": float(answers[question["answer_ids"][0]][field])}
    missing = [a for a in question["answer_ids"] if a not in answers]
    if missing:
        raise PeerFormatError(f"question {question['columns']['question_key']}: a prediction set lacks answers {missing}")
    probabilities, changed = renormalise([float(answers[a][field]) for a in question["answer_ids"]])
    if changed:
        notes.add("{n} forecast{s} summing to 1 only within rounding (e.g. 0.3333 × 3) renormalised")
    return {"probabilities": probabilities}

"""Periodic review: what is due, resolving it honestly, and the minutes.

The stage behind ``ledger due`` and ``ledger review``, usable without the CLI:

- :func:`due_questions` lists unresolved questions past or near their
  resolve-by date, oldest first, with ``days_overdue``.
- :class:`ReviewSession` applies a reviewer's decisions (resolve, annul,
  extend, skip). Each decision is its own transaction on a freshly opened
  ledger, so quitting (or a crash) keeps every decision made so far, and the
  ledger is not held locked while the reviewer thinks.
- :func:`summary_markdown` renders the session's minutes.

The terminal conversation around a session is the CLI's
(:mod:`ledger.cli.review`); reminders are :mod:`ledger.calendar`'s.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError
from ledger.format import is_http_url, local_time, number, plural, short_id
from ledger.parse import parse_date, parse_moment, utc_now
from ledger.records import DueQuestion, StoredQuestion, question_fields
from ledger.store import question_model

if TYPE_CHECKING:
    from ledger.store import Store

__all__ = [
    "Decision", "ReviewSession", "Summary", "check_evidence", "check_extension", "days_overdue", "due_question", "due_questions",
    "due_selection",
    "outcome_for", "overdue_text", "parse_known_on", "parse_span", "score_movement", "session_scores",
    "summary_markdown",
]

_SPAN = re.compile(r"^\+?(\d+)\s*([dwmy]?)$", re.IGNORECASE)


# -- what is due -------------------------------------------------------------


def parse_span(text: str, *, today: date | None = None) -> int:
    """A span from today in days: ``30d``, ``2w``, ``3m``, ``1y`` (a bare number is days)."""
    match = _SPAN.match(str(text).strip())
    if not match:
        raise LedgerError(f"not a span: {text!r} (use e.g. 30d, 2w, 3m or 1y)")
    count, unit = match.group(1), (match.group(2) or "d").lower()
    today = today or date.today()
    return (parse_date(f"+{count}{unit}", today=today) - today).days


def days_overdue(question: StoredQuestion, *, today: date | None = None) -> int:
    """Days since the resolve-by date: positive when overdue, negative when not yet due."""
    return ((today or date.today()) - question.resolve_by).days


def overdue_text(days: int) -> str:
    if days > 0:
        return f"{plural(days, 'day')} overdue"
    if days == 0:
        return "due today"
    return f"due in {plural(-days, 'day')}"


def due_questions(
    store: Store,
    *,
    within_days: int = 30,
    overdue_only: bool = False,
    forecaster: str | None = None,
    tag: str | None = None,
    today: date | None = None,
) -> list[DueQuestion]:
    """Unresolved questions whose resolve-by is past or within ``within_days``, oldest first.

    Each carries ``days_overdue`` (negative when not yet due). ``overdue_only``
    keeps only past resolve-by dates.
    """
    today = today or date.today()
    rows = store.questions(**due_selection(within_days=within_days, overdue_only=overdue_only, forecaster=forecaster,
                                           tag=tag))
    return [due_question(row, today=today) for row in rows if not overdue_only or days_overdue(row, today=today) > 0]


def due_selection(*, within_days: int = 30, overdue_only: bool = False, forecaster: str | None = None,
                  tag: str | None = None, search: str | None = None) -> dict[str, Any]:
    """The filters of :meth:`Store.questions` that choose what is due (``ledger due`` pages and streams them)."""
    return {"status": "due" if overdue_only else "open", "tag": tag, "forecaster": forecaster,
            "due_within_days": 0 if overdue_only else within_days, "search": search}


def due_question(row: StoredQuestion, *, today: date | None = None) -> DueQuestion:
    """A listed question as a review sees it: with ``days_overdue``."""
    return DueQuestion(**question_fields(row), days_overdue=days_overdue(row, today=today))


# -- scores ------------------------------------------------------------------


def session_scores(store: Store, *, forecaster: str | None = None, tag: str | None = None) -> dict[str, Any]:
    """The score a review session reports before and after: ``ledger score``'s overall numbers.

    Default policy (time-averaged), narrowed to the review's forecaster and
    tag filters. Only ``brier`` and ``n_questions`` are used, so resampling
    (which only feeds intervals and p-values) is kept to the minimum.
    """
    from ledger.scoring import score

    result = score(store, forecaster=forecaster, tag=tag, n_resamples=1)
    return {"brier": result.brier, "n_questions": result.n_questions, "policy": result.selection.policy}


# -- a review session --------------------------------------------------------


@dataclass
class Decision:
    """One decision of a review, as it was committed to the ledger."""

    question_id: str
    statement: str
    action: str  # resolved | annulled | extended | skipped
    resolve_by: date  # the resolve-by date when the question was reviewed
    days_overdue: int
    outcome: str | None = None
    known_on: date | None = None
    note: str | None = None  # the resolution note, or the reason to annul or extend
    evidence: str | None = None
    new_resolve_by: date | None = None
    late: bool = False  # resolution recorded after the resolve-by date
    days_late: int = 0


@dataclass
class Summary:
    reviewer: str
    started_at: datetime
    ended_at: datetime
    scope: str
    n_due: int
    decisions: list[Decision]
    not_reviewed: list[StoredQuestion]
    scores_before: dict[str, Any]
    scores_after: dict[str, Any]
    score_scope: str = ""

    def of(self, action: str) -> list[Decision]:
        return [d for d in self.decisions if d.action == action]

    @property
    def counts(self) -> dict[str, int]:
        counts = {action: len(self.of(action)) for action in ("resolved", "annulled", "extended", "skipped")}
        counts["late"] = sum(d.late for d in self.decisions)
        counts["not_reviewed"] = len(self.not_reviewed)
        return counts


@dataclass
class ReviewSession:
    """Applies a reviewer's decisions to the ledger at ``path``, one transaction each."""

    path: Path
    reviewer: str
    scope: str = ""
    forecaster: str | None = None  # the review's filters, which the reported score follows
    tag: str | None = None
    decisions: list[Decision] = field(default_factory=list)
    started_at: datetime = field(default_factory=utc_now)
    scores_before: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        with self._store() as store:
            self.scores_before = session_scores(store, forecaster=self.forecaster, tag=self.tag)

    @contextmanager
    def _store(self) -> Iterator[Store]:
        from ledger.store import Store

        store = Store.open(self.path, create=False)
        try:
            yield store
        finally:
            store.close()

    def _check_unresolved(self, store: Store, question_id: str) -> StoredQuestion:
        current = store.question(question_id)
        if current.status in ("resolved", "annulled"):
            raise LedgerError(f"{short_id(question_id)} was {current.status} meanwhile "
                              f"(see `ledger show {short_id(question_id)}`)")
        return current

    def _decision(self, question: StoredQuestion, action: str, **fields: Any) -> Decision:
        decision = Decision(
            question_id=question.id, statement=question.statement, action=action,
            resolve_by=question.resolve_by, days_overdue=days_overdue(question), **fields,
        )
        self.decisions.append(decision)
        return decision

    def _resolve(self, question: StoredQuestion, resolution, command: str, action: str, **fields) -> Decision:
        with self._store() as store:
            self._check_unresolved(store, question.id)
            with store.write(command) as writer:
                writer.resolve(question.id, resolution)
            after = store.question(question.id)
        late = bool(after.resolved_late)
        recorded = after.resolutions[-1].recorded_at.date()
        return self._decision(question, action, late=late,
                              days_late=(recorded - after.resolve_by).days if late else 0, **fields)

    def resolve(
        self,
        question: StoredQuestion,
        outcome: str,
        *,
        known_at: datetime | None = None,
        note: str | None = None,
        evidence: str | None = None,
    ) -> Decision:
        """Record the outcome (yes/no/option) and when it became known (default: now)."""
        from ledger.models import Resolution

        resolution = Resolution(outcome=outcome, resolved_at=known_at, note=note or None,
                                evidence=evidence or None, resolver=self.reviewer)
        normalised = outcome_for(question, outcome)
        return self._resolve(question, resolution, "review: resolve", "resolved", outcome=normalised,
                             known_on=known_at.date() if known_at else date.today(),
                             note=note or None, evidence=evidence or None)

    def annul(self, question: StoredQuestion, reason: str) -> Decision:
        """Annul: the criteria could not be applied. Needs a reason."""
        from ledger.models import Resolution

        if not reason or not reason.strip():
            raise LedgerError("annulling needs a reason")
        resolution = Resolution(annulled=True, note=reason, resolver=self.reviewer)
        return self._resolve(question, resolution, "review: annul", "annulled", note=reason.strip())

    def extend(self, question: StoredQuestion, new_date: date, reason: str) -> Decision:
        """Move the resolve-by date later; the edit and its reason show in the history."""
        check_extension(question, new_date)
        if not reason or not reason.strip():
            raise LedgerError("extending needs a reason (it is shown in the history)")
        with self._store() as store:
            self._check_unresolved(store, question.id)
            with store.write("review: extend") as writer:
                writer.edit(question.id, "resolve_by", new_date, reason=reason.strip(), editor=self.reviewer)
        return self._decision(question, "extended", new_resolve_by=new_date, note=reason.strip())

    def skip(self, question: StoredQuestion) -> Decision:
        """Leave the question for the next review (nothing is written)."""
        return self._decision(question, "skipped")

    def finish(self, not_reviewed: list[StoredQuestion] | None = None, *, n_due: int | None = None) -> Summary:
        with self._store() as store:
            scores_after = session_scores(store, forecaster=self.forecaster, tag=self.tag)
        not_reviewed = not_reviewed or []
        return Summary(
            reviewer=self.reviewer, started_at=self.started_at, ended_at=utc_now(), scope=self.scope,
            n_due=n_due if n_due is not None else len(self.decisions) + len(not_reviewed),
            decisions=list(self.decisions), not_reviewed=not_reviewed,
            scores_before=self.scores_before, scores_after=scores_after,
            score_scope="; ".join(f"{name} {value}" for name, value in
                                  (("forecaster", self.forecaster), ("tag", self.tag)) if value),
        )


def outcome_for(question: StoredQuestion, answer: str) -> str:
    return question_model(question).outcome_for(answer)


def check_extension(question: StoredQuestion, new_date: date, *, today: date | None = None) -> None:
    """An extension moves the resolve-by date into the future, later than it was."""
    today = today or date.today()
    if new_date <= question.resolve_by:
        raise LedgerError(f"the new date must be later than the current resolve-by date {question.resolve_by}")
    if new_date <= today:
        raise LedgerError(f"the new date must be in the future (after {today}), or the question stays overdue")


def parse_known_on(text: str, *, today: date | None = None) -> datetime | None:
    """When the outcome became known: a date or time, not in the future. ``today``/empty: now."""
    text = text.strip()
    today = today or date.today()
    if text.lower() in ("", "today", "now"):
        return None
    moment = parse_moment(text)
    now = utc_now()
    if len(text) == 10 and date.fromisoformat(text) == today:
        return min(moment, now)  # a bare date of today: midnight UTC may still be ahead here
    if moment > now:
        raise LedgerError("an outcome cannot become known in the future")
    return moment


def check_evidence(text: str) -> str | None:
    """An evidence URL (http or https), or None for none."""
    text = text.strip()
    if not text or text == "-":
        return None
    if not is_http_url(text):
        raise LedgerError("evidence must be an http(s) URL (or leave it empty)")
    return text


# -- the summary --------------------------------------------------------------


def _brier(scores: dict[str, Any]) -> str:
    if scores.get("brier") is None:
        return "none (0 questions scored)"
    return f"{number(scores['brier'], 4)} on {plural(scores['n_questions'], 'question')}"


def score_movement(summary: Summary) -> str:
    before, after = summary.scores_before, summary.scores_after
    text = f"Brier {_brier(before)} → {_brier(after)}"
    if before.get("brier") is not None and after.get("brier") is not None:
        text += f" ({after.brier - before['brier']:+.4f}; lower is better)"
    return text


def summary_markdown(summary: Summary) -> str:
    """The session as Markdown minutes for the team. User text is escaped (principle 5)."""
    from ledger.markdown import escape_md, md_link
    c = summary.counts

    def ref(d: Decision | StoredQuestion) -> str:
        question_id = d.question_id if isinstance(d, Decision) else d.id
        return f"{escape_md(d.statement)} (`ledger show {short_id(question_id)}`)"

    lines = [
        f"# Forecast review, {local_time(summary.started_at)[:10]}",
        "",
        f"- Reviewer: {escape_md(summary.reviewer)}",
        f"- Session: {local_time(summary.started_at)} to {local_time(summary.ended_at)[11:]} (local time)",
        f"- Questions due: {summary.n_due}" + (f" ({escape_md(summary.scope)})" if summary.scope else ""),
        "",
        "| decision | questions |",
        "|---|---:|",
        f"| resolved | {c['resolved']} |",
        f"| annulled | {c['annulled']} |",
        f"| extended | {c['extended']} |",
        f"| skipped | {c['skipped']} |",
        f"| not reviewed | {c['not_reviewed']} |",
        f"| late: resolved or annulled after the resolve-by date | {c['late']} |",
        "",
        "## Scores",
        "",
        f"{escape_md(score_movement(summary))}.",
        "",
        "Binary Brier score as `ledger score` computes it "
        f"({escape_md(summary.scores_after.get('policy', 'time-averaged'))} policy"
        + (f"; {escape_md(summary.score_scope)}" if summary.score_scope else "")
        + "): resolved yes/no questions only; annulled questions and forecasts made after the outcome "
        "was known do not count.",
    ]

    def section(title: str, items: list[str]) -> None:
        if items:
            lines.extend(["", f"## {title}", "", *items])

    def late(d: Decision) -> str:
        return f"; **late**: recorded {d.days_late} days after the resolve-by date {d.resolve_by}" if d.late else ""

    resolved = []
    for d in summary.of("resolved"):
        item = f"- **{escape_md(d.outcome)}**: {ref(d)}; known {d.known_on}{late(d)}"
        if d.note:
            item += f"  \n  Note: {escape_md(d.note)}"
        if d.evidence:
            item += f"  \n  Evidence: {md_link(d.evidence)}"
        resolved.append(item)
    section("Resolved", resolved)
    section("Annulled", [f"- {ref(d)}{late(d)}  \n  Reason: {escape_md(d.note)}" for d in summary.of("annulled")])
    section("Extended", [f"- {ref(d)}: resolve-by {d.resolve_by} → {d.new_resolve_by}"
                         f"  \n  Reason: {escape_md(d.note)}"
                         for d in summary.of("extended")])
    section("Skipped", [f"- {ref(d)}: resolve-by {d.resolve_by}, {overdue_text(d.days_overdue)}"
                        for d in summary.of("skipped")])
    section("Not reviewed (the session ended early)",
            [f"- {ref(q)}: resolve-by {q.resolve_by}, {overdue_text(days_overdue(q))}"
             for q in summary.not_reviewed])
    return "\n".join(lines) + "\n"

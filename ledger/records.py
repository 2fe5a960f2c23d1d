"""What the store reads back: a stored question with its forecasts, resolution, history and status.

Frozen dataclasses, built straight from DuckDB's rows (no validation: the
store only holds what the models validated on the way in), so a listing of
many questions stays cheap. Their :meth:`as_json` is the ``--json``
contract of ``ledger list``, ``show`` and ``due`` (README "Revise, list,
show"): the field names and order below are that contract.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any

__all__ = [
    "DueQuestion", "QuestionHistory", "ResolutionEntry", "StoredEdit", "StoredForecast", "StoredQuestion",
    "StoredResolution", "StoredSource", "plain", "question_fields",
]


def plain(value: Any) -> Any:
    """``value`` with every record in it turned into a dict of its fields, in order (lists stay lists)."""
    if hasattr(value, "__dataclass_fields__"):
        return {name: plain(getattr(value, name)) for name in value.__dataclass_fields__}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value


class _Record:
    __slots__ = ()

    def as_json(self) -> dict[str, Any]:
        """The record as the ``--json`` output prints it (before dates become ISO text)."""
        return plain(self)


@dataclass(frozen=True, slots=True)
class StoredForecast(_Record):
    probability: float | None
    probabilities: list[float] | None
    forecaster: str
    made_at: datetime
    recorded_at: datetime
    backfilled: bool
    note: str | None


@dataclass(frozen=True, slots=True)
class StoredResolution(_Record):
    """The current resolution of a question: an outcome, or annulled."""

    outcome: str | None
    annulled: bool
    resolved_at: datetime
    note: str | None
    evidence: str | None
    resolver: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class ResolutionEntry(StoredResolution):
    """One resolution in a question's history; ``current`` unless a later one superseded it."""

    current: bool


@dataclass(frozen=True, slots=True)
class StoredEdit(_Record):
    field: str
    value: Any  # the new criteria (text), resolve-by (ISO date text) or tags (a list)
    reason: str | None
    editor: str | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class StoredSource(_Record):
    title: str | None
    author: str | None
    outlet: str | None
    url: str | None
    published: date | None


@dataclass(frozen=True, slots=True)
class StoredQuestion(_Record):
    """A question as it stands: current criteria, resolve-by and tags after edits, and its status."""

    id: str
    kind: str
    statement: str
    criteria: str | None
    resolve_by: date
    original_resolve_by: date
    options: list[str] | None
    tags: list[str]
    status: str  # open, due, resolved or annulled
    resolved_late: bool
    created_at: datetime
    quote: str | None
    source: StoredSource | None
    forecasts: tuple[StoredForecast, ...]  # in the order they were made
    resolution: StoredResolution | None
    corrected_from: str | None  # what the current resolution replaced: an earlier outcome, or 'annulled'

    @property
    def latest_forecast(self) -> StoredForecast | None:
        """The last forecast made on the question, by anyone."""
        return self.forecasts[-1] if self.forecasts else None


@dataclass(frozen=True, slots=True)
class QuestionHistory(StoredQuestion):
    """A question with every resolution (corrections included) and every edit, in order (``ledger show``)."""

    resolutions: tuple[ResolutionEntry, ...]
    edits: tuple[StoredEdit, ...]


@dataclass(frozen=True, slots=True)
class DueQuestion(StoredQuestion):
    """A question in a review's list: ``days_overdue`` is negative while it is not yet due (``ledger due``)."""

    days_overdue: int


def question_fields(question: StoredQuestion) -> dict[str, Any]:
    """The fields of ``question`` as keyword arguments, to build a wider record from it."""
    return {f.name: getattr(question, f.name) for f in fields(StoredQuestion)}

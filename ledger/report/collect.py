"""What the report shows: one scoring pass and the store's public listings.

:func:`collect` gathers everything the page needs into one dict; the
charts and the templates only draw and format it, computing nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.scoring import Selection

if TYPE_CHECKING:
    from ledger.scoring import Grouping, QuestionScore

__all__ = ["BREAKDOWNS", "MAX_GROUPS", "MAX_OPEN", "MAX_ROWS", "ReportOptions", "collect", "default_out", "slugify"]

MAX_ROWS = 500
MAX_OPEN = 200
MAX_GROUPS = 30
BREAKDOWNS = ("forecaster", "tag", "source")


@dataclass
class ReportOptions:
    """What to report on, and how to write it."""

    title: str | None = None
    selection: Selection = field(default_factory=Selection)  # which forecasts count, as `ledger score` reads it
    fmt: str = "html"
    png: bool = False
    cdn: bool = False
    max_rows: int = MAX_ROWS
    max_open: int = MAX_OPEN
    n_resamples: int | None = None  # None: the scoring module's default

    def heading(self) -> str:
        if self.title:
            return self.title
        parts = ["Forecast track record"]
        if self.selection.forecaster:
            parts.append(f"of {self.selection.forecaster}")
        if self.selection.tag:
            parts.append(f"on {self.selection.tag}")
        return " ".join(parts)


def slugify(text: str) -> str:
    """A folder name for a title: ``Ana's 2025 record`` -> ``ana-s-2025-record``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "report"


def default_out(options: ReportOptions) -> Path:
    return Path("reports") / slugify(options.heading())


def collect(store, options: ReportOptions) -> dict[str, Any]:
    """Everything the page shows: one :func:`ledger.scoring.score` pass and the store's public listings."""
    from ledger.scoring import Options, analyst_levels, score

    selection = options.selection  # checked when it was made, so a bad --policy costs no query
    scope = {"tag": selection.tag, "forecaster": selection.forecaster}
    resolved_rows = store.questions(status="closed", latest_first=True, limit=options.max_rows, **scope)
    open_rows = store.questions(status="open", limit=options.max_open, **scope)
    resample = {} if options.n_resamples is None else {"n_resamples": options.n_resamples}
    main = score(store, selection, Options(
        question_ids=[row.id for row in resolved_rows], groupings=BREAKDOWNS, max_groups=MAX_GROUPS,
        calibrations={"folded": analyst_levels(fold=True)}, **resample))
    breakdowns: dict[str, Grouping] = {}
    for by, grouping in main.groupings.items():
        # one forecaster or source is no breakdown; one tag still says which
        if grouping.n_groups < 2 and not (by == "tag" and grouping.n_groups == 1):
            continue
        groups = sorted(grouping.groups, key=lambda g: (g.brier is None, g.brier or 0.0, g.group))
        breakdowns[by] = replace(grouping, groups=tuple(groups))
    n_records, head = store.head()
    statuses = store.status_counts(**scope)
    scores: dict[str, list[QuestionScore]] = {}
    for row in main.questions:
        scores.setdefault(row.question_id, []).append(row)
    return {
        "title": options.heading(),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "options": options,
        "score": main,
        "folded": main.calibrations["folded"],
        "breakdowns": breakdowns,
        "status": statuses,
        "corrections": store.corrections(**scope),
        "integrity": {"records": n_records, "head": head, "ledger": Path(store.path).name},
        "resolved": resolved_rows,
        "question_scores": scores,  # question id -> each forecaster's score on it
        "resolved_total": statuses["resolved"] + statuses["annulled"],
        "open": open_rows,
        "open_total": statuses["open"] + statuses["due"],
    }

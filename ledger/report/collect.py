"""What the report shows: scoring passes and the store's public listings.

:func:`collect_site` gathers what the site's pages are drawn from: the overview
record (one :func:`collect` of the selection), one record per forecaster (a
:func:`collect` of the forecaster's part of that one selection, made once), and
each forecaster's score on each question of the selection. The charts and the
templates only draw and format it, computing nothing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.format import forecast_text, outcome_text
from ledger.scoring import Selection

if TYPE_CHECKING:
    from ledger.scoring import QuestionScore, Scored

__all__ = [
    "BREAKDOWNS", "HISTORY_BATCH", "MAX_GROUPS", "MIN_LISTED", "SMALL_SAMPLE", "ReportOptions", "collect", "collect_site", "default_reports_root",
    "forecaster_slugs", "project_root", "site_steps", "slugify", "table_row",
]

MAX_GROUPS = 30
BREAKDOWNS = ("forecaster", "tag", "source")
SMALL_SAMPLE = 30  # fewer resolved questions than this: too few to judge calibration
MIN_LISTED = 5  # a tag or source with fewer questions is counted, not listed (its score says nothing)
# Histories read at a time: each read costs a pass over the questions view besides its questions (0.18 s
# a read of CPU at 25,000 questions, measured; ten times that at 250,000, estimated): reads of 5,000 at 1M forecasts
# would spend ~90 s on those passes, reads of 25,000 ~18 s.
HISTORY_BATCH = 25_000


@dataclass
class ReportOptions:
    """What to report on, and how to write it."""

    title: str | None = None
    selection: Selection = field(default_factory=Selection)  # which forecasts count, as `ledger score` reads it
    fmt: str = "html"
    png: bool = False
    cdn: bool = False
    force: bool = False  # write over files (and into folders) that are not an earlier report's
    assets: Path | None = None  # where the shared plotly.js goes (default: beside the report folders)
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
    """A folder or file name for a title: ``Ana's 2025 record`` -> ``ana-s-2025-record``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "report"


def project_root(start: Path | None = None) -> Path | None:
    """The project the command runs in: the nearest folder, from ``start`` (the current one) up,
    that holds a ``predictions/`` folder (where a project keeps its prediction files)."""
    here = Path(os.path.abspath(start or Path.cwd()))
    for folder in (here, *here.parents):
        if (folder / "predictions").is_dir():
            return folder
    return None


def default_reports_root() -> Path:
    """``<project>/reports`` inside a project, else ``reports`` in the data directory."""
    from ledger.store import data_dir

    project = project_root()
    return project / "reports" if project else data_dir() / "reports"


def forecaster_slugs(names: list[str]) -> dict[str, str]:
    """A file name per forecaster (``f/<slug>.html``): the slug of the name, numbered on a clash."""
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for name in sorted(names):
        base = slugify(name)
        slug, n = base, 2
        while slug in taken:
            slug, n = f"{base}-{n}", n + 1
        taken.add(slug)
        slugs[name] = slug
    return slugs


def collect(store, options: ReportOptions, scored: Scored | None = None, overview: dict[str, Any] | None = None,
            status: dict[str, int] | None = None) -> dict[str, Any]:
    """One record: a :func:`ledger.scoring.score` pass of ``scored`` (default: the options' selection,
    made here) and counts. The overview's, or with ``overview`` (that record) one forecaster's, whose
    ``scored`` is the forecaster's part of the overview's selection and whose corrections are the
    overview's on the questions the forecaster forecast on (what the store's filter would choose).
    ``status``: the record's questions by status, if already counted (else the store counts them)."""
    from ledger.scoring import Options, Scored, analyst_levels, score

    if scored is None:
        with Scored(store, options.selection) as scored:  # checked when it was made: a bad --policy costs no query
            return collect(store, options, scored)
    selection = scored.selection
    scope = {"tag": selection.tag, "forecaster": selection.forecaster}
    resample = {} if options.n_resamples is None else {"n_resamples": options.n_resamples}
    # A forecaster's record asks for no per-question scores (the overview's serve every page) and
    # no breakdown by forecaster (one forecaster is none).
    groupings = tuple(by for by in BREAKDOWNS if overview is None or by != "forecaster")
    main = score(scored, options=Options(
        include_questions=overview is None, groupings=groupings, max_groups=MAX_GROUPS,
        calibrations={"folded": analyst_levels(fold=True)}, **resample))
    breakdowns, unlisted = {}, {}
    for by, grouping in main.groupings.items():
        # one forecaster or source is no breakdown; one tag still says which
        if grouping.n_groups < 2 and not (by == "tag" and grouping.n_groups == 1):
            continue
        # most questions first, so a group of one or two questions never tops the table
        groups = sorted(grouping.groups, key=lambda g: (-g.n_questions, g.group))
        listed = groups if by == "forecaster" else [g for g in groups if g.n_questions >= MIN_LISTED]
        breakdowns[by] = replace(grouping, groups=tuple(listed))
        unlisted[by] = len(groups) - len(listed)
    n_records, head = store.head()
    statuses = store.status_counts(**scope) if status is None else status
    scores: dict[str, list[QuestionScore]] = {}
    for row in main.questions or ():
        scores.setdefault(row.question_id, []).append(row)
    return {
        "title": options.heading() if overview is None else selection.forecaster,
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "options": options,
        "selection": selection,
        "score": main,
        "scores": scores,
        "folded": main.calibrations["folded"],
        "breakdowns": breakdowns,
        "unlisted": unlisted,
        "status": statuses,
        "small_sample": main.n_questions < SMALL_SAMPLE,
        "min_listed": MIN_LISTED,
        # retractions included: each says what it was
        "corrections": store.corrected(**scope) if overview is None else [
            q for q in overview["corrections"] if any(f.forecaster == selection.forecaster for f in q.forecasts)],
        "integrity": {"records": n_records, "head": head, "ledger": store.path.name},
    }


def table_row(question, scores: list[QuestionScore], slugs: dict[str, str]) -> dict[str, Any]:
    """One question (a :class:`~ledger.records.StoredQuestion`) as a row of the browser's tables
    (``data/questions.js``): short keys, no HTML."""
    resolution = question.resolution
    latest, counts, backfilled = {}, {}, {}
    for f in question.forecasts:
        latest[f.forecaster] = f
        counts[f.forecaster] = counts.get(f.forecaster, 0) + 1
        backfilled[f.forecaster] = backfilled.get(f.forecaster, False) or f.backfilled
    by_forecaster = {row.forecaster: row for row in scores}
    lines = []
    for name, f in latest.items():
        scored = by_forecaster.get(name)
        value = None if scored is None else scored.brier if question.kind == "binary" else scored.brier_multi
        lines.append([name, slugs.get(name, ""), forecast_text(question, f), counts[name], value, backfilled[name]])
    source = question.source
    resolved_at = resolution.resolved_at if resolution else None
    return {
        "id": question.id, "s": question.statement, "st": question.status, "tags": list(question.tags or []),
        "src": (source.outlet or source.author or source.title or "") if source else "",
        "by": str(question.resolve_by), "at": resolved_at.strftime("%Y-%m-%d") if resolved_at else "",
        "o": outcome_text(question), "f": lines,
        # what a correction or retraction replaced; only on such rows, so the side file stays small
        **({"was": question.corrected_from} if question.corrected_from else {}),
    }


def site_steps(store, options: ReportOptions) -> int:
    """How many steps :func:`ledger.report.build` reports through ``on_progress`` for a site: one a
    scoring pass (the overview's and each forecaster's), one a question page, one for the records."""
    selection = options.selection
    if options.fmt != "html":
        return 1
    names = 1 if selection.forecaster else len(store.forecasters(tag=selection.tag))
    questions = sum(store.status_counts(tag=selection.tag, forecaster=selection.forecaster).values())
    return 1 + (names if names > 1 else 0) + questions + 1


def collect_site(store, options: ReportOptions, on_progress: Callable[[int], None] = lambda n: None) -> dict[str, Any]:
    """What the site's pages are drawn from: the overview, a record per forecaster, and ``scores``, each
    forecaster's score on each question (the question pages read their histories themselves, and only
    those of pages that changed: :func:`ledger.report.build`). ``on_progress(1)`` after each scoring pass."""
    from ledger.scoring import Scored

    selection = options.selection
    with Scored(store, selection) as whole:  # the one selection made: each forecaster's pass scores a part of it
        overview = collect(store, options, whole)
        on_progress(1)
        names = [selection.forecaster] if selection.forecaster else store.forecasters(tag=selection.tag)
        if len(names) == 1:
            people = {names[0]: overview}
        else:
            # every forecaster's questions by status in one count, where the scope is the store's filter
            counts = whole.status_counts() if selection.since is None else {}
            people = {}
            for name in names:
                with whole.narrowed(name) as part:
                    people[name] = collect(store, options, part, overview, counts.get(name))
                on_progress(1)
    return {"overview": overview, "forecasters": people, "slugs": forecaster_slugs(names),
            "scores": overview["scores"]}

"""The question pages: every question of the site, a page per id prefix (``q/<prefix>.html#<id>``).

A file per question cannot be fast: 250,000 files cost more to create than
the whole report may take (and each was rendered by Jinja: 48 s of 97 s for
25,000 of them). So the questions whose ids start with the same
:data:`SHARD` characters share one static page, at most ``16 ** SHARD``
files whatever the ledger's size, each question a ``<section>`` whose
``id`` is the question id: a link is ``q/<prefix>.html#<id>``
(:func:`question_href`), and the page needs no script to be read.

A section is made by plain string formatting, every piece of user text
escaped as Jinja's autoescaping (markupsafe) does it and isolated in
``<bdi>``; links only from ``http(s)`` URLs. The page around the sections
(head, navigation, footer) comes from ``question.html`` once a run. A page
is made again only when what it is made from changed (:func:`page_keys`; the
others are kept by :meth:`~ledger.report.folder.ReportFolder.unchanged`, their
histories not even read).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import groupby
from typing import TYPE_CHECKING

from ledger.format import count, number
from ledger.report.folder import code_digest
from ledger.report.render import forecast_history, safe_url

if TYPE_CHECKING:
    from ledger.records import QuestionHistory
    from ledger.scoring import QuestionScore, Selection

__all__ = ["MOVED_PAGE", "PREFIX_MARK", "PREFIX_PAGE", "SECTIONS_MARK", "SHARD", "fill_page", "moved_page",
           "page_digest", "page_keys", "question_href", "question_page", "question_section", "shards"]

SHARD = 3  # id characters that name a page: ids are 16 hex digits, so at most 4,096 pages
PREFIX_PAGE = re.compile(rf"q/[0-9a-f]{{{SHARD}}}\.html")
MOVED_PAGE = re.compile(r"q/([0-9a-f]{16})\.html")  # where a question had a page of its own, before prefix pages
# Where question.html's page takes a prefix and its sections: comments, which no escaped user text can contain.
PREFIX_MARK, SECTIONS_MARK = "<!--ledger:prefix-->", "<!--ledger:sections-->"


def question_page(question_id: str) -> str:
    """The page (relative to the site) that holds a question."""
    return f"q/{question_id[:SHARD]}.html"


def question_href(question_id: str) -> str:
    """A link to a question from inside ``q/``."""
    return f"{question_id[:SHARD]}.html#{question_id}"


def shards(questions: Iterable[QuestionHistory]) -> Iterator[tuple[str, list[QuestionHistory]]]:
    """``(page, questions)`` for questions that come in id order (a page's questions are consecutive)."""
    for page, group in groupby(questions, key=lambda q: question_page(q.id)):
        yield page, list(group)


def fill_page(shell: str, page: str, sections: str) -> str:
    """The page ``page`` (``q/<prefix>.html``): question.html's shell with its prefix and its sections."""
    prefix = page.removeprefix("q/").removesuffix(".html")
    return shell.replace(PREFIX_MARK, _escape(prefix)).replace(SECTIONS_MARK, sections)


def page_digest(page: str | bytes) -> str:
    return hashlib.blake2b(page.encode("utf-8") if isinstance(page, str) else page, digest_size=16).hexdigest()


def page_keys(shell: str, selection: Selection, digests: dict[str, str],
              chosen: list[tuple[str, str]]) -> dict[str, tuple[str, list[str]]]:
    """``{page: (key, its question ids)}``: a key is the digest of all a page is made from, so an
    equal key means equal bytes: the records of its questions and their statuses
    (:meth:`~ledger.store.Store.history_digests`), the page around them (the site's title and
    forecasters), the selection its scores follow (policy, forecaster, backfilled or not, since),
    and the code that draws and scores them."""
    ids: dict[str, list[str]] = {}
    statuses: dict[str, list[str]] = {}
    for question_id, status in sorted(chosen):
        page = question_page(question_id)
        ids.setdefault(page, []).append(question_id)
        statuses.setdefault(page, []).append(f"{question_id} {status}")
    common = page_digest("\n".join((code_digest(), page_digest(shell), repr(selection))))
    return {page: (page_digest("\n".join((common, digests[question_ids[0][:SHARD]], *statuses[page]))), question_ids)
            for page, question_ids in ids.items()}


def moved_page(question_id: str) -> str:
    """What stands at a question's old address: a link to where it is now (followed at once, without a script)."""
    href = question_href(question_id)
    return (f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0; url={href}">'
            f'<title>Moved</title></head><body><p>This question is now at <a href="{href}">{href}</a>.</p></body></html>\n')


def _day(at: datetime) -> str:
    """``YYYY-MM-DD`` (``strftime`` was a second of a 25,000-question site; this is a sixth of it)."""
    return at.date().isoformat()


def _escape(value) -> str:
    """What markupsafe's ``escape`` (Jinja's autoescaping) gives, as a plain string: a third of its cost."""
    text = value if type(value) is str else str(value)
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _text(value) -> str:
    return f"<bdi>{_escape(value)}</bdi>"


def _outcome_class(outcome: str | None) -> str:
    return "yes" if outcome == "yes" else "no" if outcome == "no" else "other"


def _meta(q: QuestionHistory) -> str:
    r = q.resolution
    if r and r.annulled:
        state = "<strong>annulled</strong>"
    elif r:
        state = f'resolved <strong class="outcome-{_outcome_class(r.outcome)}">{_text(r.outcome)}</strong>'
    else:
        state = f"<strong>{'past due' if q.status == 'due' else 'open'}</strong>"
    moved = (f" (first {q.original_resolve_by})"
             if q.original_resolve_by and q.original_resolve_by != q.resolve_by else "")
    return (f'<p class="meta">Question <code>{q.id}</code> · {state} · resolve by {q.resolve_by}{moved}'
            f' · on the record since {_day(q.created_at)}</p>')


def _facts(q: QuestionHistory) -> str:
    parts = [f"<dt>Resolves by these criteria</dt><dd>{_text(q.criteria or 'none given')}</dd>"]
    if q.kind == "multiple_choice":
        parts.append("<dt>Options</dt><dd>" + "".join(f'<span class="tag">{_text(o)}</span>' for o in q.options or ())
                     + "</dd>")
    s = q.source
    if s:
        url = safe_url(s.url)
        shown = (f'<a href="{_escape(url)}" rel="noopener nofollow">{_text(s.title or url)}</a>' if url
                 else _text(s.title or s.url or ""))
        if s.author:
            shown += f" · {_text(s.author)}"
        if s.outlet and s.outlet != s.author:
            shown += f" · {_text(s.outlet)}"
        if s.published:
            shown += f" · {s.published}"
        parts.append(f"<dt>Source</dt><dd>{shown}</dd>")
    if q.quote:
        parts.append(f"<dt>In the source's words</dt><dd><blockquote>{_text(q.quote)}</blockquote></dd>")
    if q.tags:
        parts.append("<dt>Tags</dt><dd>" + "".join(f'<span class="tag">{_text(t)}</span>' for t in q.tags) + "</dd>")
    return f'<dl class="facts">{"".join(parts)}</dl>'


def _forecasts(q: QuestionHistory, slugs: dict[str, str]) -> str:
    rows = []
    for f in forecast_history(q):
        backfilled = ' <a class="badge" href="../index.html#m-backfilled">backfilled</a>' if f["backfilled"] else ""
        note = _text(f["note"]) if f["note"] else ""
        rows.append(
            f'<tr><td data-label="Forecaster"><a href="../f/{_escape(slugs.get(f["forecaster"], ""))}.html">'
            f'{_text(f["forecaster"])}</a></td>'
            f'<td data-label="Forecast"><strong title="{_escape(f["exact"])}">{_text(f["value"])}</strong></td>'
            f'<td data-label="Change">{f["change"] or "first"}</td>'
            f'<td data-label="Made">{f["made_at"].isoformat(" ", "minutes")} UTC</td>'
            f'<td data-label="Recorded">{_day(f["recorded_at"])}{backfilled}</td>'
            f'<td data-label="Note">{note}</td></tr>')
    return ('<h3>Forecasts</h3><table class="stack"><thead><tr><th scope="col">Forecaster</th><th scope="col">Forecast'
            '</th><th scope="col">Change</th><th scope="col">Made</th><th scope="col">Recorded</th><th scope="col">Note'
            f'</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _scores(q: QuestionHistory, scores: list[QuestionScore], policy: str) -> str:
    r = q.resolution
    if not scores:
        said = ("Annulled: not scored." if r and r.annulled else
                "No forecast counted (for example, all were made after the outcome was known)." if r else
                "Scored once the question resolves.")
        return f'<h3>Scores</h3><p class="muted">{said}</p>'
    binary = q.kind == "binary"
    rows = "".join(
        f'<tr><td data-label="Forecaster">{_text(row.forecaster)}</td>'
        f'<td data-label="Brier">{number(row.brier if binary else row.brier_multi)}</td>'
        f'<td data-label="Log loss">{number(row.log_loss)}</td>'
        f'<td data-label="Forecasts counted">{count(row.n_forecasts)}</td></tr>'
        for row in sorted(scores, key=lambda row: row.forecaster))
    return (f'<h3>Scores</h3><p class="lede">Per forecaster, under the <a href="../index.html#m-policy">{_escape(policy)}'
            '</a> policy. 0 is perfect; always saying 50% on a yes/no question scores 0.25.</p>'
            f'<table class="num stack"><thead><tr><th scope="col">Forecaster</th><th scope="col">Brier'
            f'{"" if binary else " (Good Judgment)"}</th><th scope="col">Log loss</th><th scope="col">Forecasts counted'
            f'</th></tr></thead><tbody>{rows}</tbody></table>')


def _resolution(res, first: bool) -> str:
    what = "Annulled" if res.annulled else f"Resolved {_text(res.outcome)}"
    badge = ('<span class="badge">superseded</span>' if not res.current else
             "" if first else '<span class="badge">correction</span>')
    known = _day(res.resolved_at) if res.resolved_at else ""
    by = f" by {_text(res.resolver)}" if res.resolver else ""
    note = f'<p class="note">{_text(res.note)}</p>' if res.note else ""
    evidence = safe_url(res.evidence)
    if evidence:
        note += f'<p class="note"><a href="{_escape(evidence)}" rel="noopener nofollow">evidence</a></p>'
    elif res.evidence:
        note += f'<p class="note">{_text(res.evidence)}</p>'
    return (f'<li class="{"current" if res.current else "superseded"}"><strong>{what}</strong> {badge}'
            f' · outcome known {known} · recorded {_day(res.recorded_at)}{by}{note}</li>')


def _history(q: QuestionHistory) -> str:
    if not q.resolutions:
        out = '<h3>Resolution history</h3><p class="muted">Not resolved yet.</p>'
    else:
        corrected = (f'<p class="note corrected">{"retracted" if q.status == "annulled" else "corrected"} '
                     f'(was: {_text(q.corrected_from)})</p>' if q.corrected_from else "")
        items = "".join(_resolution(res, i == 0) for i, res in enumerate(q.resolutions))
        out = f'<h3>Resolution history</h3>{corrected}<ol class="history">{items}</ol>'
    if q.edits:
        edits = "".join(
            f'<li><strong>{_escape(e.field)}</strong> set to <code>{_text(e.value)}</code> on '
            f'{_day(e.recorded_at)}{f" by {_text(e.editor)}" if e.editor else ""}'
            f'{f": {_text(e.reason)}" if e.reason else ""}</li>' for e in q.edits)
        out += f'<h4>Edits</h4><ol class="history">{edits}</ol>'
    return out


def question_section(q: QuestionHistory, scores: list[QuestionScore], slugs: dict[str, str], policy: str) -> str:
    """One question as it appears on its page: the facts, every forecast, the scores, every resolution and edit."""
    return (f'<section class="question" id="{q.id}" aria-labelledby="h-{q.id}">\n'
            f'<h2 class="stmt" id="h-{q.id}">{_text(q.statement)}</h2>\n{_meta(q)}\n{_facts(q)}\n'
            f'{_forecasts(q, slugs)}\n{_scores(q, scores, policy)}\n{_history(q)}\n</section>\n')

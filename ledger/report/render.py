"""The report's pages: the HTML site (Jinja2) and the Markdown summary.

Safety (design principle 5): the HTML is rendered by Jinja2 with
autoescaping on, so every statement, note, quote, name and URL is text, and
user text sits in ``<bdi>`` so a right-to-left override in it cannot reorder
the text around it. Links are only made from ``http(s)`` URLs
(:func:`safe_url`). Chart data travels as JSON in ``<script
type="application/json">`` blocks with ``<``, ``>``, ``&`` and the JavaScript
line separators escaped (:func:`script_json`), so user text in a chart label
cannot close the block; the tables' rows travel the same way in the side
file ``data/questions.js`` and are put on the page as text (``textContent``),
never as HTML. The pages have no inline script and carry a
Content-Security-Policy that forbids inline scripts as a second line of
defence. Markdown goes through :func:`ledger.markdown.escape_md`.
"""

from __future__ import annotations

import functools

import json
import re
from pathlib import Path
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ledger.format import (
    count, forecast_text, interval, is_http_url, number, outcome_text, percent, percent_fixed, short_id,
)

if TYPE_CHECKING:
    from ledger.scoring import CalibrationBin

__all__ = [
    "ASSETS", "DATA_FILE", "calibration_sentences", "cdn_url", "forecast_history", "plotly_file", "render_markdown",
    "read_rows", "render_page", "rows_script", "safe_url", "script_json",
]

HERE = Path(__file__).resolve().parent
ASSETS = ("report.css", "report.js", "verify.js")
DATA_FILE = "data/questions.js"
ROWS_START, ROWS_END = "window.LEDGER_ROWS = ", ";\n"
ROW_ID = '{"id":"'  # how every row begins: table_row puts the question id first


def plotly_file() -> str:
    """The shared plotly.js file name, versioned so two versions never overwrite each other."""
    from plotly.offline.offline import get_plotlyjs_version

    return f"plotly-{get_plotlyjs_version()}.min.js"


def cdn_url() -> str:
    from plotly.offline.offline import get_plotlyjs_version

    return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def rows_script(rows: list[str]) -> str:
    """The tables' rows, each :func:`script_json` of one row, as a script side file: loaded with
    ``<script src>``, so it works from ``file://`` too (browsers refuse ``fetch`` there), and it is data
    only. One row a line (JSON escapes every line break in a row), so a republish takes an unchanged row
    back as it is (:func:`read_rows`), unparsed."""
    return ROWS_START + "[\n" + ",\n".join(rows) + "\n]" + ROWS_END


def read_rows(script: bytes) -> dict[str, str]:
    """``{question id: its line}`` of a side file :func:`rows_script` wrote (an earlier run's, to reuse)."""
    lines = script.decode("utf-8").split("\n")
    if not (lines[0] == f"{ROWS_START}[" and lines[-2:] == [f"]{ROWS_END.rstrip()}", ""]):
        return {}
    rows = [line.removesuffix(",") for line in lines[1:-2]]
    return {row[len(ROW_ID):len(ROW_ID) + 16]: row for row in rows if row.startswith(ROW_ID)}


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) (a link may be made of it), else None (shown as text only)."""
    return url.strip() if is_http_url(url) else None


def calibration_sentences(table: Sequence[CalibrationBin]) -> list[dict[str, str]]:
    """One plain sentence per calibration bin, naming over- or under-confidence when the bin's
    Wilson interval leaves out its mean forecast (else: within what chance allows), or a lean the
    wrong way when the whole interval is across 50% from it."""
    out = []
    for row in table:
        low, high = percent_fixed(row.bin_low), percent_fixed(row.bin_high)
        n = row.n_forecasts
        said = f"When this record said {low}–{high}" if low != high else f"When this record said {low}"
        text = (f"{said}, it happened {percent_fixed(row.observed)} of the time "
                f"({n:,} forecast{'' if n == 1 else 's'}).")
        mean, observed = row.mean_forecast, row.observed
        if row.ci_low <= mean <= row.ci_high:
            verdict, why = "calibrated", "Within what chance allows for this many forecasts."
        elif (mean - 0.5) * (row.ci_high - 0.5) < 0 and (mean - 0.5) * (row.ci_low - 0.5) < 0:
            # the whole interval is on the other side of 50%: "over-confident" would puzzle a reader of 43%
            verdict = "wrong-side"
            why = (f"Leaned the wrong way: these forecasts said {percent_fixed(mean)} on average, "
                   f"yet it {'happened' if observed > 0.5 else 'did not happen'} most of the time.")
        else:
            # above 50% a confident record errs by happening less often than said; below, more often
            bolder = (observed < mean) if mean > 0.5 else (observed > mean)
            verdict = "over-confident" if bolder else "under-confident"
            why = (f"Over-confident: it happened {'less' if observed < mean else 'more'} often than the "
                   f"{percent_fixed(mean)} said on average." if bolder else
                   f"Under-confident: it happened {'more' if observed > mean else 'less'} often than the "
                   f"{percent_fixed(mean)} said on average; bolder forecasts would have scored better.")
        out.append({"text": text, "verdict": verdict, "why": why})
    return out


def forecast_history(question) -> list[dict[str, Any]]:
    """Every forecast in order, with how it moved from the same forecaster's previous one."""
    previous: dict[str, Any] = {}
    rows = []
    for f in question.forecasts:
        before = previous.get(f.forecaster)
        change = ""
        if before is not None and f.probability is not None and before.probability is not None:
            delta = (f.probability - before.probability) * 100
            change = "no change" if abs(delta) < 1e-9 else f"{delta:+.4g} points"
        elif before is not None:
            change = "revised"
        rows.append({"forecaster": f.forecaster, "made_at": f.made_at, "recorded_at": f.recorded_at,
                     "backfilled": f.backfilled, "note": f.note, "value": forecast_text(question, f),
                     "change": change, "exact": "" if f.probability is None else percent(f.probability, significant=6)})
        previous[f.forecaster] = f
    return rows


def isolate(text: str) -> str:
    """Text wrapped in FIRST STRONG ISOLATE ... POP DIRECTIONAL ISOLATE: the ``<bdi>`` of places that
    take no markup (the ``<title>``), so an override in user text stays inside it."""
    return f"\u2068{text}\u2069"


@functools.cache
def _environment():
    """One Jinja environment a process, so each template is compiled once, not once a page."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        autoescape=True,
        auto_reload=False,  # the templates do not change during a run: no look at their files for every page
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=number, pct=percent_fixed, ci=interval, count=count, safe_url=safe_url,
                       json=script_json, isolate=isolate)
    env.globals.update(outcome_text=outcome_text, forecast_history=forecast_history,
                       calibration_sentences=calibration_sentences)
    return env


class _Charts(dict):
    """Chart JSON by name; a chart that has no data is None (the template leaves it out)."""

    def __missing__(self, key):
        return None


def render_page(template: str, *, root: str, plotly_src: str | None, figures: dict[str, dict] | None = None,
                cdn: bool = False, **context) -> str:
    """One page of the site; ``root`` is the relative path to the site's folder (``""`` or ``"../"``)."""
    from markupsafe import Markup

    charts = _Charts({name: Markup(script_json(figure)) for name, figure in (figures or {}).items()})
    return _environment().get_template(template).render(
        root=root, plotly_src=plotly_src, charts=charts,
        csp_script=("'self' https://cdn.plot.ly" if cdn else "'self'"), **context)


def render_markdown(data: dict[str, Any]) -> str:
    """A newsletter summary: the headline numbers and the calibration tables, user text escaped."""
    from ledger.markdown import escape_md

    s = data["score"]
    st = data["status"]
    integrity = data["integrity"]
    lines = [
        f"# {escape_md(data['title'])}",
        "",
        f"*Generated {data['generated_at']} from a tamper-evident ledger of {integrity['records']:,} records; "
        f"chain head `{integrity['head']}`. Check it with `ledger verify`.*",
        "",
        "## Headline",
        "",
        "| | |",
        "|---|---|",
        f"| Questions resolved / open / annulled | {st['resolved']:,} / {st['open'] + st['due']:,} / {st['annulled']:,} |",
        f"| Brier score (yes/no; 0 best, 0.25 = always 50%) | {number(s.brier)}"
        + (f" (95% interval {interval(s.brier_ci)})" if s.brier_ci else "") + " |",
        f"| Brier skill vs always 50% | {number(s.brier_skill_vs_half)} |",
        f"| Brier skill vs the base rate | {number(s.brier_skill_vs_base_rate)} |",
        f"| Log loss | {number(s.log_loss)} |",
        f"| Base rate (share resolved yes) | {percent_fixed(s.base_rate, 1)} |",
        f"| Forecasts scored / of them backfilled | {count(s.n_forecasts)} / {count(s.n_backfilled)} |",
        *([f"| Retracted (annulled after their outcome) | {count(s.retractions.n)}: Brier "
           f"{number(s.retractions.brier_if_counted)} had they counted |"] if s.retractions.n else []),
        *([f"| Outcomes corrected (retractions included) | {count(len(data['corrections']))} |"]
          if data["corrections"] else []),
        "",
        f"Policy: {escape_md(data['options'].selection.policy)}"
        + ("; backfilled forecasts excluded" if data["options"].selection.exclude_backfilled else "")
        + ". Annulled questions and forecasts made after the outcome was known are not scored.",
        "",
    ]
    if data["small_sample"]:
        lines += [f"**Only {s.n_questions:,} resolved questions: too few to judge calibration.**", ""]
    for heading, table in (("Calibration", s.calibration), ("Calibration, analyst view (folded)", data["folded"])):
        if not table:
            continue
        lines += [f"## {heading}", "", "| Forecast bin | Forecasts | Mean forecast | Observed | 95% interval (Wilson) |",
                  "|---|---:|---:|---:|---|"]
        for row in table:
            lines.append(f"| {percent_fixed(row.bin_low)}–{percent_fixed(row.bin_high)} | {row.n_forecasts:,} | "
                         f"{percent_fixed(row.mean_forecast, 1)} | {percent_fixed(row.observed, 1)} | "
                         f"{percent_fixed(row.ci_low, 1)}–{percent_fixed(row.ci_high, 1)} |")
        lines.append("")
    lines += _markdown_corrections(data["corrections"])
    breakdown = data["breakdowns"].get("forecaster")
    if breakdown and breakdown.groups:
        lines += ["## By forecaster", "", "| Forecaster | Scored | Brier | 95% interval |", "|---|---:|---:|---|"]
        for g in breakdown.groups:
            lines.append(f"| {escape_md(g.group)} | {count(g.n_scored)} | {number(g.brier)} | {interval(g.brier_ci)} |")
        lines.append("")
    return "\n".join(lines)


MAX_MD_CORRECTIONS = 50  # a newsletter lists this many; the rest are counted, and `ledger list` has them all


def _markdown_corrections(questions: Sequence) -> list[str]:
    """Every corrected or retracted question (most recent first): what it is now and what it was."""
    if not questions:
        return []
    from ledger.markdown import escape_md

    lines = ["## Corrections and retractions", "",
             "A later resolution replaced an earlier one; both stay on the record (`ledger show ID`).", "",
             "| Question | Id | Now | Was | Resolved |", "|---|---|---|---|---|"]
    for q in questions[:MAX_MD_CORRECTIONS]:
        now = "retracted (annulled)" if q.status == "annulled" else f"corrected to {escape_md(outcome_text(q))}"
        at = q.resolution.resolved_at.strftime("%Y-%m-%d") if q.resolution and q.resolution.resolved_at else ""
        lines.append(f"| {escape_md(q.statement)} | `{short_id(q.id)}` | {now} | {escape_md(q.corrected_from)} | {at} |")
    if len(questions) > MAX_MD_CORRECTIONS:
        lines.append(f"\n{len(questions) - MAX_MD_CORRECTIONS:,} more not listed here.")
    return [*lines, ""]

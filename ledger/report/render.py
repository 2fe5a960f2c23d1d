"""The report's pages: the HTML dashboard (Jinja2) and the Markdown summary.

Safety (design principle 5): the HTML is rendered by Jinja2 with
autoescaping on, so every statement, note, quote, name and URL is text.
Links are only made from ``http(s)`` URLs (:func:`safe_url`). Chart data
travels as JSON in ``<script type="application/json">`` blocks with ``<``,
``>``, ``&`` and the JavaScript line separators escaped (:func:`script_json`),
so user text in a chart label cannot close the block. The page has no
inline script and carries a Content-Security-Policy that forbids inline
scripts as a second line of defence. Markdown goes through
:func:`ledger.markdown.escape_md`.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.format import count, forecast_text, interval, is_http_url, number, outcome_text, percent_fixed

if TYPE_CHECKING:
    from ledger.records import StoredQuestion
    from ledger.scoring import QuestionScore

__all__ = [
    "PLOTLY_FILE", "cdn_url", "forecast_lines", "render_html", "render_markdown", "safe_url", "script_json",
    "write_assets",
]

HERE = Path(__file__).resolve().parent
ASSETS = ("report.css", "report.js", "verify.js")
PLOTLY_FILE = "plotly.min.js"


def write_assets(out: Path, *, cdn: bool = False) -> None:
    """The files the page loads beside it: its stylesheet and script, and plotly.js unless it comes from the CDN."""
    for asset in ASSETS:
        shutil.copyfile(HERE / asset, out / asset)
    if not cdn:
        _write_plotly(out / PLOTLY_FILE)


def _write_plotly(path: Path) -> None:
    """plotly.js, once per site folder (rewritten only when the bundled version differs)."""
    from plotly.offline import get_plotlyjs

    source = get_plotlyjs()
    if not path.exists() or path.stat().st_size != len(source.encode("utf-8")):
        path.write_text(source, encoding="utf-8")


def cdn_url() -> str:
    from plotly.offline.offline import get_plotlyjs_version

    return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"


_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) (a link may be made of it), else None (shown as text only)."""
    return url.strip() if is_http_url(url) else None


def forecast_lines(question: StoredQuestion, scores: Sequence[QuestionScore] = ()) -> list[dict[str, Any]]:
    """Per forecaster: the forecasts in order (shown as ``60% → 75%``), backfilled marked, and the
    forecaster's score on the question (``scores``, from the scoring module) if it was scored."""
    by_forecaster = {row.forecaster: row for row in scores}
    by: dict[str, dict[str, Any]] = {}
    for f in question.forecasts:
        scored = by_forecaster.get(f.forecaster)
        value = None if scored is None else scored.brier if question.kind == "binary" else scored.brier_multi
        entry = by.setdefault(f.forecaster, {"forecaster": f.forecaster, "values": [], "backfilled": False,
                                             "score": value})
        entry["values"].append(forecast_text(question, f))
        entry["backfilled"] = entry["backfilled"] or f.backfilled
    lines = list(by.values())
    for line in lines:
        if len(line["values"]) > 4:
            line["values"] = [line["values"][0], "…", *line["values"][-2:]]
    return lines


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=number, pct=percent_fixed, ci=interval, count=count, safe_url=safe_url)
    env.globals.update(forecast_lines=forecast_lines, outcome_text=outcome_text)
    return env


class _Charts(dict):
    """Chart JSON by name; a chart that has no data is None (the template leaves it out)."""

    def __missing__(self, key):
        return None


def render_html(data: dict[str, Any], figures: dict[str, dict], *, cdn: bool = False) -> str:
    from markupsafe import Markup

    plotly_src = cdn_url() if cdn else PLOTLY_FILE
    charts = _Charts({name: Markup(script_json(figure)) for name, figure in figures.items()})
    template = _environment().get_template("index.html")
    return template.render(d=data, s=data["score"], charts=charts, plotly_src=plotly_src,
                           csp_script=("'self' https://cdn.plot.ly" if cdn else "'self'"))


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
        "",
        f"Policy: {escape_md(data['options'].selection.policy)}"
        + ("; backfilled forecasts excluded" if data["options"].selection.exclude_backfilled else "")
        + ". Annulled questions and forecasts made after the outcome was known are not scored.",
        "",
    ]
    for heading, table in (("Calibration", s.calibration), ("Calibration, analyst view (folded)", data["folded"])):
        if not table:
            continue
        lines += [f"## {heading}", "", "| Forecast bin | n | Mean forecast | Observed | 95% interval (Wilson) |",
                  "|---|---:|---:|---:|---|"]
        for row in table:
            lines.append(f"| {percent_fixed(row.bin_low)}–{percent_fixed(row.bin_high)} | {count(row.n)} | "
                         f"{percent_fixed(row.mean_forecast, 1)} | {percent_fixed(row.observed, 1)} | "
                         f"{percent_fixed(row.ci_low, 1)}–{percent_fixed(row.ci_high, 1)} |")
        lines.append("")
    forecasters = data["breakdowns"].get("forecaster")
    groups = forecasters.groups if forecasters else ()
    if groups:
        lines += ["## By forecaster", "", "| Forecaster | Scored | Brier | 95% interval |", "|---|---:|---:|---|"]
        for g in groups:
            lines.append(f"| {escape_md(g.group)} | {count(g.n_scored)} | {number(g.brier)} | {interval(g.brier_ci)} |")
        lines.append("")
    return "\n".join(lines)

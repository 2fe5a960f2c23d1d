"""The published dashboard: a static site built from the scoring module.

:func:`build` writes ``index.html`` (and ``plotly.min.js`` once beside it,
``report.css``, ``report.js``), or a Markdown summary, for a selection of the
ledger. Every number comes from :func:`ledger.scoring.score`; this module
only chooses, formats and draws.

Safety (design principle 5): the HTML is rendered by Jinja2 with
autoescaping on, so every statement, note, quote, name and URL is text.
Links are only made from ``http(s)`` URLs. Chart data travels as JSON in
``<script type="application/json">`` blocks with ``<``, ``>``, ``&`` and the
JavaScript line separators escaped (:func:`script_json`), so user text in a
chart label cannot close the block. The page has no inline script and
carries a Content-Security-Policy that forbids inline scripts as a second
line of defence. Markdown goes through :func:`ledger.markdown.escape_md`.

Size: the resolved and open tables show the most recent ``max_rows`` /
``max_open`` rows with the total and a pointer to ``ledger export``;
breakdowns with more than ``MAX_GROUPS`` groups give only their number. So
``index.html`` stays bounded whatever the size of the ledger.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError, MissingDependency
from ledger.format import count, forecast_text, is_http_url, number, outcome_text, percent_fixed

HERE = Path(__file__).resolve().parent
MAX_ROWS = 500
MAX_OPEN = 200
MAX_GROUPS = 30
BREAKDOWNS = ("forecaster", "tag", "source")
MAX_FORECASTS_SHOWN = 6
PLOTLY_FILE = "plotly.min.js"
FORMATS = ("html", "md")
CHARTS = ("reliability", "folded", "sharpness", "over_time", "by_tag", "by_forecaster", "leaderboard")

COLORS = {
    "ink": "#1f2933", "muted": "#616e7c", "grid": "#e4e7eb", "accent": "#2563eb", "band": "rgba(37,99,235,0.14)",
    "curve": "#d97706", "bar": "#94a3b8", "good": "#059669", "bad": "#dc2626",
}


@dataclass
class ReportOptions:
    """What to report on, and how to write it."""

    title: str | None = None
    forecaster: str | None = None
    tag: str | None = None
    policy: str = "time-averaged"
    exclude_backfilled: bool = False
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
        if self.forecaster:
            parts.append(f"of {self.forecaster}")
        if self.tag:
            parts.append(f"on {self.tag}")
        return " ".join(parts)


def slugify(text: str) -> str:
    """A folder name for a title: ``Ana's 2025 record`` -> ``ana-s-2025-record``."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:60].rstrip("-") or "report"


def default_out(options: ReportOptions) -> Path:
    return Path("reports") / slugify(options.heading())


# -- collecting ------------------------------------------------------------------


def collect(store, options: ReportOptions) -> dict[str, Any]:
    """Everything the page shows: one :func:`ledger.scoring.score` pass and the store's public listings."""
    from ledger.scoring import Options, Selection, analyst_levels, score

    selection = Selection(policy=options.policy, forecaster=options.forecaster, tag=options.tag,
                          exclude_backfilled=options.exclude_backfilled)
    selection.check()  # before any query, so a bad --policy costs nothing
    scope = {"tag": options.tag, "forecaster": options.forecaster}
    resolved_rows = store.questions(status="closed", latest_first=True, limit=options.max_rows, **scope)
    open_rows = store.questions(status="open", limit=options.max_open, **scope)
    resample = {} if options.n_resamples is None else {"n_resamples": options.n_resamples}
    main = score(store, selection, Options(
        question_ids=[row["id"] for row in resolved_rows], groupings=BREAKDOWNS, max_groups=MAX_GROUPS,
        calibrations={"folded": analyst_levels(fold=True)}, **resample))
    breakdowns: dict[str, dict[str, Any]] = {}
    for by, grouping in main.pop("groupings").items():
        # one forecaster or source is no breakdown; one tag still says which
        if grouping["n_groups"] < 2 and not (by == "tag" and grouping["n_groups"] == 1):
            continue
        groups = sorted(grouping["groups"], key=lambda g: (g.get("brier") is None, g.get("brier") or 0.0, g["group"]))
        breakdowns[by] = {**grouping, "groups": groups}
    n_records, head = store.head()
    statuses = store.status_counts(**scope)
    scores: dict[str, list[dict[str, Any]]] = {}
    for row in main.pop("questions"):
        scores.setdefault(row["question_id"], []).append(row)
    for row in resolved_rows:
        row["scores"] = scores.get(row["id"], [])
    return {
        "title": options.heading(),
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "options": options,
        "score": main,
        "folded": {"calibration": main.pop("calibrations")["folded"]},
        "breakdowns": breakdowns,
        "status": statuses,
        "integrity": {"records": n_records, "head": head, "ledger": Path(store.path).name},
        "resolved": resolved_rows,
        "resolved_total": statuses["resolved"] + statuses["annulled"],
        "open": open_rows,
        "open_total": statuses["open"] + statuses["due"],
    }


# -- building -------------------------------------------------------------------------


def build(store, out: Path | None = None, options: ReportOptions | None = None) -> Path:
    """Write the site (or the Markdown summary) and return the path of the page to open."""
    options = options or ReportOptions()
    if options.fmt not in FORMATS:
        raise LedgerError(f"--format must be html or md, got {options.fmt!r}")
    out = Path(out) if out else default_out(options)
    if out.exists() and not out.is_dir():
        raise LedgerError(f"{out} exists and is not a folder")
    data = collect(store, options)
    out.mkdir(parents=True, exist_ok=True)
    if options.fmt == "md":
        target = out / "index.md"
        target.write_text(render_markdown(data), encoding="utf-8")
        return target
    figures = build_figures(data)
    target = out / "index.html"
    target.write_text(render_html(data, figures, cdn=options.cdn), encoding="utf-8")
    for asset in ("report.css", "report.js"):
        shutil.copyfile(HERE / asset, out / asset)
    if not options.cdn:
        _write_plotly(out / PLOTLY_FILE)
    if options.png:
        write_images(figures, out)
    return target


def _write_plotly(path: Path) -> None:
    """plotly.js, once per site folder (rewritten only when the bundled version differs)."""
    from plotly.offline import get_plotlyjs

    source = get_plotlyjs()
    if not path.exists() or path.stat().st_size != len(source.encode("utf-8")):
        path.write_text(source, encoding="utf-8")


def cdn_url() -> str:
    from plotly.offline.offline import get_plotlyjs_version

    return f"https://cdn.plot.ly/plotly-{get_plotlyjs_version()}.min.js"


# -- safe embedding ----------------------------------------------------------------------

_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def script_json(data: Any) -> str:
    """JSON that is safe inside ``<script type="application/json">``: no ``</script>``, no ``<!--``."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str, allow_nan=False)
    return re.sub("[<>&\u2028\u2029]", lambda m: _JSON_ESCAPES[m.group(0)], text)


def plot_text(text: str) -> str:
    """User text for a plotly label: plotly reads ``<b>``, ``<a href>`` and entities in labels, so escape them."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def safe_url(url: str | None) -> str | None:
    """The URL if it is http(s) (a link may be made of it), else None (shown as text only)."""
    return url.strip() if is_http_url(url) else None


# -- formatting helpers (used by both templates) -------------------------------------------


def fmt_ci(ci: list[float] | None, digits: int = 3) -> str:
    return "" if not ci else f"{ci[0]:.{digits}f} to {ci[1]:.{digits}f}"


def forecast_lines(question: dict) -> list[dict[str, Any]]:
    """Per forecaster: the forecasts in order (shown as ``60% → 75%``), backfilled marked, and the
    forecaster's score on the question (from the scoring module) if it was scored."""
    scores = {row["forecaster"]: row for row in question.get("scores") or []}
    by: dict[str, dict[str, Any]] = {}
    for f in question["forecasts"]:
        scored = scores.get(f["forecaster"])
        value = None if scored is None else scored["brier"] if question["kind"] == "binary" else scored["brier_multi"]
        entry = by.setdefault(f["forecaster"], {"forecaster": f["forecaster"], "values": [], "backfilled": False,
                                                "score": value})
        entry["values"].append(forecast_text(question, f))
        entry["backfilled"] = entry["backfilled"] or bool(f.get("backfilled"))
    lines = list(by.values())
    for line in lines:
        if len(line["values"]) > 4:
            line["values"] = [line["values"][0], "…", *line["values"][-2:]]
    return lines


# -- charts ---------------------------------------------------------------------------------


def _layout(title: str, **extra) -> dict[str, Any]:
    layout = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 15}},
        "margin": {"l": 56, "r": 16, "t": 48, "b": 56},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "color": COLORS["ink"], "size": 12},
        "paper_bgcolor": "white", "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.22, "x": 0, "yanchor": "top"},
        "hoverlabel": {"align": "left"},
    }
    layout.update(extra)
    return layout


def _axis(title: str, **extra) -> dict[str, Any]:
    axis = {"title": {"text": title}, "gridcolor": COLORS["grid"], "zerolinecolor": COLORS["grid"],
            "linecolor": COLORS["muted"], "ticks": "outside"}
    axis.update(extra)
    return axis


def _reliability_figure(table: list[dict], curve: list[dict] | None, *, folded: bool, band_level: float | None) -> dict:
    lo = 0.5 if folded else 0.0
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "mode": "lines", "x": [lo, 1], "y": [lo, 1], "name": "perfect calibration",
        "line": {"color": COLORS["muted"], "dash": "dash", "width": 1}, "hoverinfo": "skip",
    }]
    if curve:
        xs = [c["x"] for c in curve]
        if curve[0].get("band_low") is not None:
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": [c["band_low"] for c in curve],
                           "line": {"width": 0, "shape": "hv"}, "hoverinfo": "skip", "showlegend": False})
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": [c["band_high"] for c in curve],
                           "fill": "tonexty", "fillcolor": COLORS["band"], "line": {"width": 0, "shape": "hv"},
                           "name": f"consistency band ({band_level:.0%})" if band_level else "consistency band",
                           "hoverinfo": "skip"})
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": [c["recalibrated"] for c in curve],
                       "name": "CORP isotonic curve", "line": {"color": COLORS["curve"], "width": 2, "shape": "hv"},
                       "hovertemplate": "forecast %{x:.0%} → recalibrated %{y:.0%}<extra></extra>"})
    if table:
        biggest = max(row["n"] for row in table) or 1
        traces.append({
            "type": "scatter", "mode": "markers", "name": "bins (observed, Wilson 95%)",
            "x": [row["mean_forecast"] for row in table], "y": [row["observed"] for row in table],
            "error_y": {"type": "data", "symmetric": False, "color": COLORS["accent"], "thickness": 1.2,
                        "array": [row["ci_high"] - row["observed"] for row in table],
                        "arrayminus": [row["observed"] - row["ci_low"] for row in table]},
            "marker": {"color": COLORS["accent"], "opacity": 0.85, "line": {"color": "white", "width": 1},
                       "size": [8 + 22 * (row["n"] / biggest) ** 0.5 for row in table]},
            "customdata": [[percent_fixed(row["bin_low"]), percent_fixed(row["bin_high"]), count(row["n"]),
                            percent_fixed(row["ci_low"]), percent_fixed(row["ci_high"])] for row in table],
            "hovertemplate": "bin %{customdata[0]}–%{customdata[1]}: n %{customdata[2]}<br>"
                             "mean forecast %{x:.1%}<br>observed %{y:.1%} "
                             "(%{customdata[3]}–%{customdata[4]})<extra></extra>",
        })
    title = "Analyst view: folded, 50–99%" if folded else "Reliability: observed frequency vs forecast"
    bottom = min([lo, *(row["ci_low"] for row in table)]) if folded else 0.0
    return {"data": traces, "layout": _layout(
        title,
        xaxis=_axis("forecast" + (" (the likelier side)" if folded else ""), range=[lo - 0.02, 1.02],
                    tickformat=".0%"),
        yaxis=_axis("observed frequency", range=[bottom - 0.03, 1.03], tickformat=".0%"),
        legend={"orientation": "h", "x": 0, "y": -0.2, "xanchor": "left", "yanchor": "top", "font": {"size": 11}},
        margin={"l": 56, "r": 16, "t": 48, "b": 120}, height=470,
    )}


def build_figures(data: dict[str, Any]) -> dict[str, dict]:
    """Plotly figures (plain dicts) for every chart the page shows; an absent chart has no data."""
    s = data["score"]
    corp = s.get("corp") or {}
    figures: dict[str, dict] = {}
    if s.get("calibration"):
        figures["reliability"] = _reliability_figure(s["calibration"], corp.get("curve"), folded=False,
                                                     band_level=corp.get("band_level"))
        figures["sharpness"] = {"data": [{
            "type": "bar", "x": [(r["bin_low"] + r["bin_high"]) / 2 for r in s["calibration"]],
            "width": [r["bin_high"] - r["bin_low"] for r in s["calibration"]],
            "y": [r["n"] for r in s["calibration"]], "marker": {"color": COLORS["bar"], "line": {"color": "white", "width": 1}},
            "customdata": [[percent_fixed(r["bin_low"]), percent_fixed(r["bin_high"])] for r in s["calibration"]],
            "hovertemplate": "%{customdata[0]}–%{customdata[1]}: %{y:,.1f}<extra></extra>", "name": "forecasts",
        }], "layout": _layout("Sharpness: how often each probability was used",
                              xaxis=_axis("forecast (P(yes))", range=[0, 1], tickformat=".0%"),
                              yaxis=_axis("scored forecasts"), bargap=0.02, showlegend=False)}
    if data["folded"].get("calibration"):
        figures["folded"] = _reliability_figure(data["folded"]["calibration"], None, folded=True, band_level=None)
    periods = [p for p in s.get("over_time") or [] if p.get("n_scored")]
    if periods:
        figures["over_time"] = {"data": [
            {"type": "bar", "x": [p["period"] for p in periods], "y": [p["n_scored"] for p in periods],
             "name": "scored forecasts", "yaxis": "y2", "marker": {"color": "rgba(148,163,184,0.45)"},
             "hovertemplate": "%{x}: %{y:,} scored<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "x": [p["period"] for p in periods],
             "y": [p["brier"] for p in periods], "name": "Brier (yes/no)", "connectgaps": True,
             "line": {"color": COLORS["accent"], "width": 2}, "hovertemplate": "%{x}: Brier %{y:.3f}<extra></extra>"},
        ], "layout": _layout(
            "Brier score per quarter the outcome became known",
            xaxis=_axis("quarter", type="category"),
            yaxis=_axis("Brier (lower is better)", rangemode="tozero"),
            yaxis2={"title": {"text": "scored"}, "overlaying": "y", "side": "right", "showgrid": False,
                    "rangemode": "tozero"},
            shapes=[{"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 0.25, "y1": 0.25,
                     "line": {"color": COLORS["muted"], "dash": "dot", "width": 1}}],
            annotations=[{"xref": "paper", "x": 1, "y": 0.25, "text": "always 50%", "showarrow": False,
                          "xanchor": "right", "yanchor": "bottom", "font": {"color": COLORS["muted"], "size": 10}}],
        )}
    for by in ("tag", "forecaster"):
        groups = [g for g in data["breakdowns"].get(by, {}).get("groups", []) if g.get("brier") is not None]
        if len(groups) >= 2:
            figures[f"by_{by}"] = _interval_figure(
                f"Brier by {by} (95% interval)", [g["group"] for g in groups], [g["brier"] for g in groups],
                [g.get("brier_ci") for g in groups], "Brier (lower is better)", reference=0.25)
    relative = s.get("relative") or []
    if len(relative) >= 2:
        ranked = sorted(relative, key=lambda r: r["mean_difference"])
        figures["leaderboard"] = _interval_figure(
            "Relative score: Brier minus the median of the others", [r["forecaster"] for r in ranked],
            [r["mean_difference"] for r in ranked], [r.get("ci") for r in ranked],
            "difference (negative is better)", reference=0.0)
    return figures


def _interval_figure(title: str, labels: list[str], values: list[float], cis: list, axis: str,
                     reference: float | None) -> dict:
    order = sorted(range(len(labels)), key=lambda i: values[i], reverse=True)
    labels = [plot_text(labels[i]) for i in order]
    values = [values[i] for i in order]
    cis = [cis[i] for i in order]
    shapes = []
    if reference is not None:
        shapes.append({"type": "line", "yref": "paper", "y0": 0, "y1": 1, "x0": reference, "x1": reference,
                       "line": {"color": COLORS["muted"], "dash": "dot", "width": 1}})
    return {"data": [{
        "type": "scatter", "mode": "markers", "orientation": "h", "x": values, "y": labels,
        "marker": {"color": COLORS["accent"], "size": 9},
        "error_x": {"type": "data", "symmetric": False, "color": COLORS["accent"], "thickness": 1.2,
                    "array": [(ci[1] - v) if ci else 0 for v, ci in zip(values, cis, strict=True)],
                    "arrayminus": [(v - ci[0]) if ci else 0 for v, ci in zip(values, cis, strict=True)]},
        "hovertemplate": "%{y}: %{x:.3f}<extra></extra>", "name": "",
    }], "layout": _layout(title, xaxis=_axis(axis), yaxis=_axis("", automargin=True, type="category"),
                          shapes=shapes, showlegend=False, height=max(260, 60 + 30 * len(labels)))}


# -- rendering -------------------------------------------------------------------------------


def _environment():
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(num=number, pct=percent_fixed, ci=fmt_ci, count=count, safe_url=safe_url)
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
        f"| Brier score (yes/no; 0 best, 0.25 = always 50%) | {number(s.get('brier'))}"
        + (f" (95% interval {fmt_ci(s.get('brier_ci'))})" if s.get("brier_ci") else "") + " |",
        f"| Brier skill vs always 50% | {number(s.get('brier_skill_vs_half'))} |",
        f"| Brier skill vs the base rate | {number(s.get('brier_skill_vs_base_rate'))} |",
        f"| Log loss | {number(s.get('log_loss'))} |",
        f"| Base rate (share resolved yes) | {percent_fixed(s.get('base_rate'), 1)} |",
        f"| Forecasts scored / of them backfilled | {count(s.get('n_forecasts'))} / {count(s.get('n_backfilled'))} |",
        "",
        f"Policy: {escape_md(data['options'].policy)}"
        + ("; backfilled forecasts excluded" if data["options"].exclude_backfilled else "")
        + ". Annulled questions and forecasts made after the outcome was known are not scored.",
        "",
    ]
    for heading, table in (("Calibration", s.get("calibration") or []),
                           ("Calibration, analyst view (folded)", data["folded"].get("calibration") or [])):
        if not table:
            continue
        lines += [f"## {heading}", "", "| Forecast bin | n | Mean forecast | Observed | 95% interval (Wilson) |",
                  "|---|---:|---:|---:|---|"]
        for row in table:
            lines.append(f"| {percent_fixed(row['bin_low'])}–{percent_fixed(row['bin_high'])} | {count(row['n'])} | "
                         f"{percent_fixed(row['mean_forecast'], 1)} | {percent_fixed(row['observed'], 1)} | "
                         f"{percent_fixed(row['ci_low'], 1)}–{percent_fixed(row['ci_high'], 1)} |")
        lines.append("")
    groups = data["breakdowns"].get("forecaster", {}).get("groups", [])
    if groups:
        lines += ["## By forecaster", "", "| Forecaster | Scored | Brier | 95% interval |", "|---|---:|---:|---|"]
        for g in groups:
            lines.append(f"| {escape_md(g['group'])} | {count(g.get('n_scored'))} | {number(g.get('brier'))} | "
                         f"{fmt_ci(g.get('brier_ci'))} |")
        lines.append("")
    return "\n".join(lines)


# -- images ------------------------------------------------------------------------------------


def find_browser() -> str | None:
    """The Chrome/Chromium kaleido will drive: ``$BROWSER_PATH``, else one on PATH."""
    import os

    if path := os.environ.get("BROWSER_PATH"):
        return path if Path(path).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"):
        if found := shutil.which(name):
            return found
    return None


def write_images(figures: dict[str, dict], out: Path) -> list[Path]:
    """Each chart as PNG and SVG beside the page (kaleido + the system's Chrome/Chromium)."""
    import os

    try:
        import kaleido  # noqa: F401
    except ImportError:
        raise MissingDependency(
            "--png needs kaleido: pip install 'forecast-ledger[png]' (it drives your Chrome or Chromium)") from None
    browser = find_browser()
    if browser is None:
        raise MissingDependency(
            "--png needs Chrome or Chromium: install it (e.g. apt install chromium) or set BROWSER_PATH")
    os.environ.setdefault("BROWSER_PATH", browser)
    import plotly.graph_objects as go
    import plotly.io as pio

    figs, paths = [], []
    for name, figure in figures.items():
        fig = go.Figure(figure)
        for ext in ("png", "svg"):
            figs.append(fig)
            paths.append(out / f"{name}.{ext}")
    try:
        pio.write_images(figs, paths, width=900, height=540, scale=2)
    except Exception as error:  # kaleido reports a missing or broken browser in many ways
        raise MissingDependency(f"could not draw the charts with {browser}: {error}") from None
    return paths

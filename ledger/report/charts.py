"""The report's charts: plotly figures as plain dicts, drawn from the collected data.

User text in a label goes through :func:`plot_text`, because plotly reads
``<b>``, ``<a href>`` and entities in labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ledger.format import count, percent_fixed

if TYPE_CHECKING:
    from ledger.scoring import CalibrationBin, CurvePoint, Scores

__all__ = ["COLORS", "build_figures", "plot_text"]

COLORS = {
    "ink": "#1f2933", "muted": "#616e7c", "grid": "#e4e7eb", "accent": "#2563eb", "band": "rgba(37,99,235,0.14)",
    "curve": "#d97706", "bar": "#94a3b8", "good": "#059669", "bad": "#dc2626",
}


def plot_text(text: str) -> str:
    """User text for a plotly label: plotly reads ``<b>``, ``<a href>`` and entities in labels, so escape them."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


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


def _reliability_figure(table: Sequence[CalibrationBin], curve: Sequence[CurvePoint], *, folded: bool,
                        band_level: float | None) -> dict:
    lo = 0.5 if folded else 0.0
    traces: list[dict[str, Any]] = [{
        "type": "scatter", "mode": "lines", "x": [lo, 1], "y": [lo, 1], "name": "perfect calibration",
        "line": {"color": COLORS["muted"], "dash": "dash", "width": 1}, "hoverinfo": "skip",
    }]
    if curve:
        xs = [c.x for c in curve]
        if curve[0].band_low is not None:
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": [c.band_low for c in curve],
                           "line": {"width": 0, "shape": "hv"}, "hoverinfo": "skip", "showlegend": False})
            traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": [c.band_high for c in curve],
                           "fill": "tonexty", "fillcolor": COLORS["band"], "line": {"width": 0, "shape": "hv"},
                           "name": f"consistency band ({band_level:.0%})" if band_level else "consistency band",
                           "hoverinfo": "skip"})
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": [c.recalibrated for c in curve],
                       "name": "CORP isotonic curve", "line": {"color": COLORS["curve"], "width": 2, "shape": "hv"},
                       "hovertemplate": "forecast %{x:.0%} → recalibrated %{y:.0%}<extra></extra>"})
    if table:
        biggest = max(row.n for row in table) or 1
        traces.append({
            "type": "scatter", "mode": "markers", "name": "bins (observed, Wilson 95%)",
            "x": [row.mean_forecast for row in table], "y": [row.observed for row in table],
            "error_y": {"type": "data", "symmetric": False, "color": COLORS["accent"], "thickness": 1.2,
                        "array": [row.ci_high - row.observed for row in table],
                        "arrayminus": [row.observed - row.ci_low for row in table]},
            "marker": {"color": COLORS["accent"], "opacity": 0.85, "line": {"color": "white", "width": 1},
                       "size": [8 + 22 * (row.n / biggest) ** 0.5 for row in table]},
            "customdata": [[percent_fixed(row.bin_low), percent_fixed(row.bin_high), count(row.n),
                            percent_fixed(row.ci_low), percent_fixed(row.ci_high)] for row in table],
            "hovertemplate": "bin %{customdata[0]}–%{customdata[1]}: n %{customdata[2]}<br>"
                             "mean forecast %{x:.1%}<br>observed %{y:.1%} "
                             "(%{customdata[3]}–%{customdata[4]})<extra></extra>",
        })
    title = "Analyst view: folded, 50–99%" if folded else "Reliability: observed frequency vs forecast"
    bottom = min([lo, *(row.ci_low for row in table)]) if folded else 0.0
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
    s: Scores = data["score"]
    figures: dict[str, dict] = {}
    if s.calibration:
        figures["reliability"] = _reliability_figure(s.calibration, s.corp.curve, folded=False,
                                                     band_level=s.corp.band_level)
        figures["sharpness"] = {"data": [{
            "type": "bar", "x": [(r.bin_low + r.bin_high) / 2 for r in s.calibration],
            "width": [r.bin_high - r.bin_low for r in s.calibration],
            "y": [r.n for r in s.calibration], "marker": {"color": COLORS["bar"], "line": {"color": "white", "width": 1}},
            "customdata": [[percent_fixed(r.bin_low), percent_fixed(r.bin_high)] for r in s.calibration],
            "hovertemplate": "%{customdata[0]}–%{customdata[1]}: %{y:,.1f}<extra></extra>", "name": "forecasts",
        }], "layout": _layout("Sharpness: how often each probability was used",
                              xaxis=_axis("forecast (P(yes))", range=[0, 1], tickformat=".0%"),
                              yaxis=_axis("scored forecasts"), bargap=0.02, showlegend=False)}
    if data["folded"]:
        figures["folded"] = _reliability_figure(data["folded"], (), folded=True, band_level=None)
    periods = [p for p in s.over_time if p.n_scored]
    if periods:
        figures["over_time"] = {"data": [
            {"type": "bar", "x": [p.period for p in periods], "y": [p.n_scored for p in periods],
             "name": "scored forecasts", "yaxis": "y2", "marker": {"color": "rgba(148,163,184,0.45)"},
             "hovertemplate": "%{x}: %{y:,} scored<extra></extra>"},
            {"type": "scatter", "mode": "lines+markers", "x": [p.period for p in periods],
             "y": [p.brier for p in periods], "name": "Brier (yes/no)", "connectgaps": True,
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
        breakdown = data["breakdowns"].get(by)
        groups = [g for g in breakdown.groups if g.brier is not None] if breakdown else []
        if len(groups) >= 2:
            figures[f"by_{by}"] = _interval_figure(
                f"Brier by {by} (95% interval)", [g.group for g in groups], [g.brier for g in groups],
                [g.brier_ci for g in groups], "Brier (lower is better)", reference=0.25)
    relative = s.relative or ()
    if len(relative) >= 2:
        ranked = sorted(relative, key=lambda r: r.mean_difference)
        figures["leaderboard"] = _interval_figure(
            "Relative score: Brier minus the median of the others", [r.forecaster for r in ranked],
            [r.mean_difference for r in ranked], [r.ci for r in ranked],
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

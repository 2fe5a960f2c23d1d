"""``ledger score``: Brier, log loss, decompositions and calibration over resolved questions."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ledger.cli.common import Csv, Db, Json, TagFilter, check_known, open_store
from ledger.format import MISSING, interval, number, percent

if TYPE_CHECKING:
    from ledger.scoring import Scores

app = typer.Typer()


@app.command()
def score(
    by: Annotated[str | None, typer.Option("--by", help="Group: forecaster, tag, source, author, quarter or year.")] = None,
    policy: Annotated[str, typer.Option("--policy", help="Which forecast counts: time-averaged, first or last.")]
    = "time-averaged",
    bins: Annotated[int | None, typer.Option("--bins", help="Equal probability bins (default 10).")] = None,
    levels: Annotated[str | None, typer.Option("--levels", help="'analyst': bins at 50/60/70/80/90/95/99%.")] = None,
    fold: Annotated[bool, typer.Option("--fold", help="Count a 30% forecast on X as 70% on not-X.")] = False,
    forecaster: Annotated[str | None, typer.Option("--forecaster", "-f", help="Only this forecaster's forecasts.")] = None,
    tag: TagFilter = None,
    since: Annotated[str | None, typer.Option("--since", help="Only questions resolved on or after this date.")]
    = None,
    exclude_backfilled: Annotated[
        bool, typer.Option("--exclude-backfilled", help="Leave out forecasts logged after the fact.")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the bootstrap and resampling.")] = 20210301,
    resamples: Annotated[int, typer.Option("--resamples", help="Bootstrap / resampling draws.")] = 1000,
    questions: Annotated[bool, typer.Option("--questions", help="Add per-question scores (JSON).")] = False,
    db: Db = None,
    json: Json = False,
    csv_: Csv = False,
) -> None:
    """Score resolved questions: Brier, log loss, skill, Murphy and CORP decompositions, calibration.

    Annulled questions and forecasts made after the outcome was known never count.
    A ledger that does not verify is still scored, with a warning; a ledger file
    unchanged since it last verified (same inode, size, mtime and ctime, chain
    head) is not hashed again (remembered in $XDG_CACHE_HOME/forecast-ledger).
    --csv prints the --json fields as one row for the whole selection (group
    "all") and one per --by group; nested fields are JSON text.

    Example: ledger score --levels analyst --fold --forecaster scott
    """
    from ledger.parse import parse_date
    from ledger.scoring import Options, Selection
    from ledger.scoring import score as run

    selection = Selection(
        policy=policy, forecaster=forecaster, tag=tag,
        since=parse_date(since) if since else None, exclude_backfilled=exclude_backfilled,
    )
    options = Options(bins=bins, levels=levels, fold=fold, by=by, seed=seed, n_resamples=resamples,
                      include_questions=questions)
    with open_store(db) as store:
        check_known(store, forecaster=forecaster, tag=tag)
        _warn_if_tampered(store)
        result = run(store, selection, options)
    if json:
        from ledger.cli.output import emit_json

        emit_json(result.as_json())
        return
    if csv_:
        from ledger.cli.output import emit_records_csv

        data = result.as_json()
        overall = {"group": "all", **{key: value for key, value in data.items() if key != "groups"}}
        emit_records_csv([overall, *(data.get("groups") or [])])
        return
    _print(result)


def _warn_if_tampered(store) -> None:
    """Scores of a ledger whose chain fails are still shown, with one line saying so.

    An unchanged file that verified before is not hashed again (:mod:`ledger.verified`).
    """
    from ledger.cli.output import say
    from ledger.errors import Tampered
    from ledger.verified import verify_once

    try:
        verify_once(store)
    except Tampered as error:
        say(f"warning: this ledger does not verify, so these scores cannot be trusted: {error}")


def _pct(value: float | None) -> str:
    """Score-table percentages: three significant figures, ``–`` when undefined."""
    return percent(value, significant=3, missing=MISSING)


def _interval(ci, digits: int) -> str:
    """Score-table intervals: ``low … high``, ``–`` when undefined."""
    return interval(ci, digits, joiner=" … ", missing=MISSING)


def _print(result: Scores) -> None:
    from ledger.cli.output import emit_table, say

    sel = result.selection
    if not result.n_scored:
        say("no resolved questions to score in this selection")
    excluded = result.excluded
    say(
        f"policy {sel.policy}; {result.n_questions} questions, {result.n_forecasts} forecasts "
        f"({result.n_backfilled} backfilled); not counted: {excluded.after_outcome} made after the outcome, "
        f"{excluded.annulled} on annulled questions, {excluded.unresolved} on unresolved questions"
        + (f", {excluded.backfilled} backfilled (excluded)" if sel.exclude_backfilled else "")
    )
    retracted = result.retractions
    if retracted.n:
        say(f"retracted: {retracted.n} questions annulled after their outcome was recorded; Brier had they "
            f"counted: {number(retracted.brier_if_counted, 4)} ({', '.join(q[:8] for q in retracted.questions)})")
    emit_table(["metric", "value", "meaning"], _summary_rows(result), title="Scores (whole selection)")
    if result.calibration:
        emit_table(
            ["bin", "n", "mean forecast", "observed", "Wilson 95%"],
            [
                [f"[{_pct(b.bin_low)}, {_pct(b.bin_high)}{']' if b.bin_high == 1 else ')'}",
                 f"{b.n:.4g}", _pct(b.mean_forecast), _pct(b.observed), f"{_pct(b.ci_low)} – {_pct(b.ci_high)}"]
                for b in result.calibration
            ],
            title=f"Calibration ({sel.bins})",
        )
    if result.relative:
        emit_table(
            ["forecaster", "questions", "vs median of others", "95% interval"],
            [[r.forecaster, r.n_questions, number(r.mean_difference, 4), _interval(r.ci, 4)] for r in result.relative],
            title="Relative Brier (Good Judgment form; negative is better)",
        )
    if result.groups:
        emit_table(
            ["group", "n", "Brier", "95% interval", "MCB", "MCB p"],
            [[g.group, g.n_questions, number(g.brier, 4), _interval(g.brier_ci, 3), number(g.corp.mcb, 4),
              number(g.corp.mcb_p_value, 3)] for g in result.groups],
            title=f"By {sel.by}",
        )


def _summary_rows(result: Scores) -> list[list[str]]:
    murphy, corp = result.murphy, result.corp
    rows = [
        ["Brier (binary)", number(result.brier, 4), "95% CI " + _interval(result.brier_ci, 4)],
        ["Brier (Good Judgment)", number(result.brier_multi, 4), "Σᵢ(pᵢ − oᵢ)², 0..2"],
        ["log loss", number(result.log_loss, 4), "−ln p(outcome)"],
        ["base rate", _pct(result.base_rate), "share that happened"],
        ["skill vs 50%", number(result.brier_skill_vs_half), "1 − Brier / 0.25"],
        ["skill vs base rate", number(result.brier_skill_vs_base_rate), "1 − Brier / (b(1 − b))"],
        ["Murphy reliability", number(murphy.reliability, 4), "lower is better"],
        ["Murphy resolution", number(murphy.resolution, 4), "higher is better"],
        ["CORP MCB", number(corp.mcb, 4),
         f"p = {corp.mcb_p_value:.3g} if calibrated" if corp.mcb_p_value is not None else ""],
        ["CORP DSC", number(corp.dsc, 4), "higher is better"],
        ["CORP UNC", number(corp.unc, 4), "Brier = MCB − DSC + UNC"],
    ]
    if result.imputed_share:
        rows.append(["imputed share", _pct(result.imputed_share), "time scored as 50%"])
    return rows

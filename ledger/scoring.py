"""Scoring: how good were the forecasts, computed set-wise in SQL over the ledger.

The pipeline has two steps.

1. :func:`select_scored` picks, per the revision *policy*, the forecasts that
   count and writes them into a TEMP table ``score_rows`` (one row per
   counted forecast, or per piece of a forecaster's time line), each with a
   weight. Every (question, forecaster) *pair* has weights summing to 1, so a
   weighted mean over rows is a mean over scored pairs.
2. Metric functions each take that relation (a table or view with columns
   ``grp, p, o, w`` for binary questions; ``probs, oi`` for multiple choice)
   and return per-group numbers. They are SQL aggregates; numpy is used only
   for the isotonic (PAV) step of CORP, its resampling, and bootstrap
   intervals.

:func:`score` runs both and returns the JSON contract of ``ledger score``.

Which forecasts count
---------------------
* Only questions with an outcome; annulled questions never count.
* Forecasts made after the outcome became known (``made_at > resolved_at``)
  never count; one made at the very moment does (imports without times
  record both at the same instant).
* Backfilled forecasts count unless ``exclude_backfilled``; their number is
  always reported.
* ``first``: the forecaster's first counted forecast. ``last``: the last one
  made at or before the moment the outcome became known.
* ``time-averaged`` (default): see :data:`WINDOW_DEFINITION`.

Bins are decided on the exact decimal value: probabilities are rounded to
12 decimals (``DECIMAL(18,12)``) before comparison with decimal edges, so a
0.3 forecast is in [0.3, 0.4) however the binary double rounds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

POLICIES = ("time-averaged", "first", "last")
GROUPINGS = ("forecaster", "tag", "source", "author", "quarter", "year")
Z95 = 1.959963984540054  # Φ⁻¹(0.975)
LOG_EPS = 2.220446049250313e-16  # float64 machine epsilon: sklearn's clip for log loss
DEC = "DECIMAL(18,12)"
ANALYST_LEVELS = ("0.5", "0.6", "0.7", "0.8", "0.9", "0.95", "0.99")
DEFAULT_RESAMPLES = 1000
DEFAULT_SEED = 20210301
RESAMPLE_MAX_VALUES = 1000  # above this many distinct forecast values the null is computed on 0.001 steps
BOOTSTRAP_MAX_GROUPS = 256
BAND_LEVEL = 0.90
MAX_BINS = 100

WINDOW_DEFINITION = (
    "Time-averaged: a (question, forecaster) pair is scored over the question's scored window, "
    "from the moment the question opened (the earlier of when it was logged and its first counted "
    "forecast by anyone) up to the moment its outcome became known (resolved_at). Each forecast stands "
    "from its made_at until the forecaster's next forecast or the end of the window; the pair's score "
    "is the time-weighted mean of the scores of the standing forecasts (exact timestamps, not days). "
    "Before the forecaster's first forecast the window is scored as the uninformed forecast "
    "(50% for yes/no, 1/k for k options: Brier 0.25), so joining late never scores better than "
    "ignorance (these imputed stretches are reported as imputed_share). "
    "A window of zero length (forecast made at the moment the outcome became known) scores the last forecast."
)

METHODOLOGY = {
    "brier": "Brier score, binary form: weighted mean over scored pairs of (p - o)^2, p = P(yes), o = 1 if yes "
             "else 0. 0 is perfect, 0.25 is always 50%, 1 is always certain and wrong. Yes/no questions only.",
    "brier_multi": "Brier score, Good Judgment form: mean over scored pairs of sum over options of (p_i - o_i)^2, "
                   "0..2, over all questions; a yes/no question counts with two options (twice its binary Brier).",
    "log_loss": "Log loss: mean of -ln(probability given to what happened); probabilities are clipped to "
                "[eps, 1 - eps] with eps = 2.22e-16 (float64 machine epsilon, as sklearn), so a certain "
                "forecast that failed costs 36.04 instead of infinity.",
    "base_rate": "Base rate: share of scored yes/no pairs that resolved yes.",
    "brier_skill_vs_half": "Brier skill score against always 50%: 1 - Brier / 0.25.",
    "brier_skill_vs_base_rate": "Brier skill score against always forecasting the base rate b of the "
                                "selection: 1 - Brier / (b(1 - b)); undefined when all outcomes agree.",
    "murphy": "Murphy decomposition over the probability bins of the calibration table (unfolded scale): "
              "Brier = reliability - resolution + uncertainty + within_bin_variance - within_bin_covariance, "
              "with, over bins k of weight n_k, mean forecast f_k and observed frequency o_k: "
              "reliability = sum n_k (f_k - o_k)^2 / N, resolution = sum n_k (o_k - o)^2 / N, "
              "uncertainty = o(1 - o), within_bin_variance = sum over forecasts (p - f_k)^2 / N, "
              "within_bin_covariance = 2 sum over forecasts (p - f_k)(o - o_k) / N. Exact, not approximate.",
    "corp": "CORP decomposition (Dimitriadis, Gneiting & Jordan, PNAS 2021): the forecasts are recalibrated "
            "by isotonic regression (pool-adjacent-violators, ties pooled); MCB = Brier(forecast) - "
            "Brier(recalibrated), DSC = UNC - Brier(recalibrated), UNC = Brier of always the base rate; "
            "Brier = MCB - DSC + UNC exactly.",
    "mcb_p_value": "Chance of an MCB at least as large as observed if the forecaster were perfectly calibrated: "
                   "outcomes are redrawn as Bernoulli(p) and PAV refitted, n_resamples times (seeded). Per "
                   "distinct forecast value the number of yes is drawn as Binomial(n, p) (exact when every "
                   "weight is 1; with time-averaged weights as (W/m) Binomial(m, p), m the Kish effective size "
                   "W^2 / sum w^2). Small samples show MCB > 0 even when calibrated; this says whether the "
                   "observed MCB is more than chance. The consistency band of the reliability curve "
                   "(band_low, band_high; 90%) comes from the same resamples.",
    "calibration": "Calibration table: half-open bins [low, high) decided on the exact decimal value of the "
                   "forecast (rounded to 12 decimals), the last bin closed at 1. n is the weight in the bin "
                   "(scored pairs; fractional under time-averaging), observed the weighted share that "
                   "happened, ci the Wilson 95% interval for it (z = 1.959964, n and x weighted). Folded: a "
                   "forecast p < 0.5 on X counts as 1 - p on not-X.",
    "brier_ci": "95% bootstrap interval of the mean binary Brier: scored pairs resampled with replacement "
                "n_resamples times (seeded, reproducible). The multinomial draw is over distinct per-pair "
                "scores (exact); above 256 distinct scores they are pooled into 256 quantile groups whose "
                "inner spread is added as a normal term with the same variance.",
    "relative": "Relative score: per question, the forecaster's Brier (Good Judgment form) minus the median "
                "Brier of the other forecasters on the same question; mean over questions, with a bootstrap "
                "interval. Negative is better than the others.",
    "paired": "Paired difference of two forecasters: mean over their common questions of Brier(a) - Brier(b) "
              "(Good Judgment form), with a 95% bootstrap interval over questions.",
    "window": WINDOW_DEFINITION,
    "groups": "By tag a question counts once in each of its tags (untagged: '(none)'); by quarter or year of "
              "when the outcome became known; source is the analysis title (else URL); author its author.",
}


# -- binning -----------------------------------------------------------------


@dataclass(frozen=True)
class Binning:
    """Probability bins with exact decimal edges over [0, 1].

    ``edges`` span 0..1 (the unfolded scale, used by the Murphy decomposition);
    a folded table uses the edges at or above 0.5.
    """

    edges: tuple[Decimal, ...]
    fold: bool = False
    label: str = ""

    def table_edges(self) -> tuple[Decimal, ...]:
        return tuple(e for e in self.edges if e >= Decimal("0.5")) if self.fold else self.edges

    def describe(self) -> str:
        edges = self.table_edges()
        parts = [f"[{_num(lo)}, {_num(hi)})" for lo, hi in zip(edges[:-1], edges[1:], strict=False)]
        parts[-1] = parts[-1][:-1] + "]"
        scale = "folded (p < 0.5 on X counts as 1 - p on not-X)" if self.fold else "unfolded"
        return f"{self.label}, {scale}: " + " ".join(parts)


def _num(value: Decimal) -> str:
    return format(value.normalize(), "f")


def equal_bins(n: int = 10, *, fold: bool = False) -> Binning:
    """n equal half-open bins on [0, 1] (or on [0.5, 1] when folded; 2n mirrored on [0, 1] for Murphy)."""
    from ledger.errors import LedgerError

    if not 1 <= n <= MAX_BINS:
        raise LedgerError(f"--bins must be between 1 and {MAX_BINS}, got {n}")
    q = Decimal("1e-12")
    if fold:
        upper = [(Decimal("0.5") + Decimal(k) / (2 * n)).quantize(q) for k in range(n + 1)]
        lower = [(Decimal(1) - e).quantize(q) for e in reversed(upper[1:])]
        edges = tuple(lower + upper)
    else:
        edges = tuple((Decimal(k) / n).quantize(q) for k in range(n + 1))
    return Binning(edges=edges, fold=fold, label=f"{n} equal bins")


def analyst_levels(*, fold: bool = False) -> Binning:
    """The analyst levels 50/60/70/80/90/95/99%, mirrored below 50% (1/5/10/20/30/40%)."""
    upper = [Decimal(x) for x in ANALYST_LEVELS]
    lower = [Decimal(1) - e for e in reversed(upper[1:])]
    edges = tuple([Decimal(0), *lower, *upper, Decimal(1)])
    return Binning(edges=edges, fold=fold, label="analyst levels 50/60/70/80/90/95/99%")


def bin_index_sql(decimal_expr: str, edges: tuple[Decimal, ...]) -> str:
    """SQL for the bin index (0-based) of a DECIMAL(18,12) value: the one binning rule.

    Bin k is [edges[k], edges[k+1]); the last bin is closed at its top. The
    index is the number of inner edges at or below the value, compared as
    exact decimals. Used both to count (calibration, Murphy) and to list
    (:func:`forecasts_in_bin`), so the two never disagree.
    """
    inner = edges[1:-1]
    if not inner:
        return "0"
    return "(" + " + ".join(f"({decimal_expr} >= {_num(e)}::{DEC})::INTEGER" for e in inner) + ")"


# -- selection -----------------------------------------------------------------


@dataclass
class Selection:
    """What to score: the filters of ``ledger score``."""

    policy: str = "time-averaged"
    forecaster: str | None = None
    tag: str | None = None
    since: date | None = None
    exclude_backfilled: bool = False

    def check(self) -> None:
        from ledger.errors import LedgerError

        if self.policy not in POLICIES:
            raise LedgerError(f"--policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")


def _question_filter(sel: Selection) -> tuple[str, list]:
    where, params = [], []
    if sel.tag:
        where.append("list_contains(tags, ?)")
        params.append(sel.tag)
    if sel.since:
        where.append("resolved_at >= ?::TIMESTAMP")
        params.append(datetime.combine(sel.since, datetime.min.time()) if isinstance(sel.since, date)
                      and not isinstance(sel.since, datetime) else sel.since)
    return (" AND " + " AND ".join(where)) if where else "", params


# The questions as they would stand had no retraction been made: a retracted
# question (annulled after an outcome) counts at its last outcome.
_RETRACTIONS_UNDONE = """(
    SELECT q.* REPLACE (coalesce(r.outcome, q.outcome) AS outcome, coalesce(r.resolved_at, q.resolved_at) AS resolved_at,
                        CASE WHEN r.question_id IS NULL THEN q.status ELSE 'resolved' END AS status)
    FROM questions q LEFT JOIN retractions r ON r.question_id = q.id)"""


def select_scored(con, sel: Selection, *, undo_retractions: bool = False) -> dict[str, int]:
    """Build TEMP tables ``score_rows`` (the counted forecasts, weighted) and ``score_pairs``; return exclusions.

    ``score_rows`` columns: qn, fn (integer keys of the question and forecaster: TEMP tables ``score_q``
    and ``score_names`` hold the rest), seq (NULL for an imputed stretch), imputed, backfilled, kind,
    p (binary P(yes)), o (binary 0/1), probs (multiple choice), oi (1-based index of the option that
    happened), w (weight; per pair the weights sum to 1), bm (Good Judgment Brier of the row), ll (log
    loss of the row). ``score_pairs`` holds one row per scored (question, forecaster) pair (see
    :func:`_pair_table`).
    """
    sel.check()
    qwhere, qparams = _question_filter(sel)
    backfill = "AND NOT f.backfilled" if sel.exclude_backfilled else ""
    # The questions and forecasters get integer keys (qn, fn) so that sorting and grouping stay cheap.
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE score_q AS
        SELECT (row_number() OVER ())::INTEGER AS qn, id AS question_id, kind, options, outcome, resolved_at,
               created_at, tags, coalesce(source_title, source_url) AS source, source_author AS author,
               CASE WHEN kind = 'binary' THEN (outcome = 'yes')::INTEGER END AS o,
               CASE WHEN kind = 'multiple_choice' THEN list_position(options, outcome) END AS oi
        FROM {_RETRACTIONS_UNDONE if undo_retractions else "questions"} WHERE status = 'resolved' {qwhere}
        """,
        qparams,
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE score_names AS
        SELECT (row_number() OVER (ORDER BY forecaster))::INTEGER AS fn, forecaster
        FROM (SELECT DISTINCT forecaster FROM forecasts)
        """
    )
    con.execute(_rows_sql(sel.policy, backfill, bool(sel.forecaster)), [sel.forecaster] if sel.forecaster else [])
    _pair_table(con)
    return _exclusions(con, sel, qwhere, qparams)


def _rows_sql(policy: str, backfill: str, one_forecaster: bool) -> str:
    """The one statement that builds ``score_rows`` for a policy.

    Candidates are the forecasts not made after the outcome; a question opens at the earlier of its
    logging and its first candidate forecast by anyone (so before the forecaster filter). Per pair, the
    order by (made_at, seq) gives each forecast its successor. Time-averaged weight of a
    forecast: (min(next made_at, resolved_at) − made_at) / (resolved_at − opened), exact microseconds;
    a zero-length window gives the pair's last forecast weight 1. The imputed stretch before a
    forecaster's first forecast, (made_at − opened) / (resolved_at − opened), is scored as the
    uninformed forecast (0.5, or 1/k of k options).
    """
    only = "WHERE fn = (SELECT fn FROM score_names WHERE forecaster = ?)" if one_forecaster else ""
    span = "(epoch_us(resolved_at) - epoch_us(opened))"
    if policy == "time-averaged":
        weight = f"""CASE WHEN {span} > 0
                 THEN (epoch_us(CASE WHEN next_made IS NOT NULL THEN least(next_made, resolved_at) ELSE resolved_at END)
                       - epoch_us(made_at)) / {span}
                 ELSE (next_made IS NULL)::DOUBLE END"""
        keep = "TRUE"
        # A first forecast after the opening also yields the imputed row, in the same pipeline (a
        # UNION would write the table in an order that varies from run to run, and sums with it).
        pieces = "CASE WHEN is_first AND made_at > opened THEN [FALSE, TRUE] ELSE [FALSE] END"
    else:
        weight, pieces = "1.0::DOUBLE", "[FALSE]"
        keep = "is_first" if policy == "first" else "next_made IS NULL"
    return f"""
        CREATE OR REPLACE TEMP TABLE score_rows AS
        WITH f AS (
            SELECT f.seq, q.qn, n.fn, f.probability, f.probabilities, f.made_at, f.backfilled
            FROM forecasts f JOIN score_q q ON q.question_id = f.question_id
            JOIN score_names n ON n.forecaster = f.forecaster
            WHERE f.made_at <= q.resolved_at {backfill}),
        opening AS (SELECT qn, min(made_at) AS first_made FROM f GROUP BY qn),
        -- One window ordered by (pair, made_at, seq) rather than partitioned by pair: its output, and
        -- so the table and every floating-point sum over it, is in the same order on every run.
        ordered AS (
            SELECT *, CASE WHEN lead(pair) OVER w = pair THEN lead(made_at) OVER w END AS next_made,
                   lag(pair) OVER w IS DISTINCT FROM pair AS is_first
            FROM (SELECT *, qn::BIGINT << 32 | fn AS pair FROM f {only})
            WINDOW w AS (ORDER BY pair, made_at, seq)),
        s AS (
            SELECT ordered.*, q.kind, q.o, q.oi, q.options, q.resolved_at,
                   least(q.created_at, opening.first_made) AS opened
            FROM ordered JOIN opening USING (qn) JOIN score_q q USING (qn)),
        weighted AS (
            SELECT qn, fn, CASE WHEN imputed THEN NULL ELSE seq END AS seq, imputed, backfilled AND NOT imputed AS backfilled,
                   kind, o, oi,
                   CASE WHEN NOT imputed THEN probability WHEN kind = 'binary' THEN 0.5 END AS p,
                   CASE WHEN NOT imputed THEN probabilities
                        WHEN kind = 'multiple_choice' THEN list_transform(options, lambda x: 1.0 / len(options)) END AS probs,
                   CASE WHEN imputed THEN (epoch_us(made_at) - epoch_us(opened)) / {span} ELSE {weight} END AS w
            FROM (SELECT *, unnest({pieces}) AS imputed FROM s WHERE {keep}))
        SELECT qn, fn, seq, imputed, backfilled, kind, p, o, probs, oi, w,
               CASE WHEN kind = 'binary' THEN 2 * (p - o) ^ 2
                    ELSE list_sum(list_transform(probs, lambda x, i: (x - (i = oi)::INTEGER) ^ 2))
               END AS bm,
               -ln(greatest({LOG_EPS}, least(1 - {LOG_EPS},
                   CASE WHEN kind = 'binary' THEN CASE WHEN o = 1 THEN p ELSE 1 - p END ELSE probs[oi] END))) AS ll
        FROM weighted WHERE w > 0
        """


def _pair_table(con) -> None:
    """TEMP table ``score_pairs``: per scored (question, forecaster) pair, the pair's scores.

    brier = Σ w (p − o)² (yes/no), brier_multi = Σ w Σᵢ (pᵢ − oᵢ)², log_loss = Σ w · −ln q over the
    pair's rows (weights sum to 1, so these are the pair's time-weighted scores); the forecasts used and
    the backfilled among them; w = Σ w and w_imputed = Σ w over imputed stretches.
    """
    con.execute("""
        CREATE OR REPLACE TEMP TABLE score_pairs AS
        SELECT qn, fn, any_value(kind) AS kind, sum(w * (p - o) ^ 2) AS brier, sum(w * bm) AS brier_multi,
               sum(w * ll) AS log_loss, count(seq) AS n_forecasts, count(seq) FILTER (WHERE backfilled) AS n_backfilled,
               sum(w) AS w, coalesce(sum(w) FILTER (WHERE imputed), 0) AS w_imputed
        FROM score_rows GROUP BY qn, fn""")


def _exclusions(con, sel: Selection, qwhere: str, qparams: list) -> dict[str, int]:
    """Forecasts in the filtered scope that do not enter the score, by reason."""
    fwhere = "AND f.forecaster = ?" if sel.forecaster else ""
    row = con.execute(
        f"""
        WITH q AS (SELECT id AS question_id, status, resolved_at FROM questions WHERE TRUE {qwhere}),
        f AS (SELECT f.seq, f.made_at, f.backfilled, q.status, q.resolved_at
              FROM forecasts f JOIN q USING (question_id) WHERE TRUE {fwhere})
        SELECT count(*) FILTER (WHERE status IN ('open', 'due')),
               count(*) FILTER (WHERE status = 'annulled'),
               count(*) FILTER (WHERE status = 'resolved' AND made_at > resolved_at),
               count(*) FILTER (WHERE status = 'resolved' AND made_at <= resolved_at AND backfilled),
               count(*) FILTER (WHERE status = 'resolved' AND made_at <= resolved_at
                                AND NOT (backfilled AND ?::BOOLEAN))
                   - (SELECT count(seq) FROM score_rows)
        FROM f
        """,
        [*qparams, *([sel.forecaster] if sel.forecaster else []), sel.exclude_backfilled],
    ).fetchone()
    unresolved, annulled, after, backfilled, unused = (int(x) for x in row)
    return {
        "unresolved": unresolved,
        "annulled": annulled,
        "after_outcome": after,
        "backfilled": backfilled if sel.exclude_backfilled else 0,
        "not_used_by_policy": unused,
    }


# -- grouping ------------------------------------------------------------------


GROUP_KEYS = {
    # by: (key column of score_rows, SQL of the (key, grp) relation; a question counts once per tag)
    "forecaster": ("fn", "SELECT fn, forecaster AS grp FROM score_names"),
    "tag": ("qn", "SELECT qn, unnest(CASE WHEN len(tags) = 0 THEN ['(none)'] ELSE tags END) AS grp FROM score_q"),
    "source": ("qn", "SELECT qn, coalesce(source, '(none)') AS grp FROM score_q"),
    "author": ("qn", "SELECT qn, coalesce(author, '(none)') AS grp FROM score_q"),
    "quarter": ("qn", "SELECT qn, strftime(resolved_at, '%Y') || '-Q' || quarter(resolved_at) AS grp FROM score_q"),
    "year": ("qn", "SELECT qn, strftime(resolved_at, '%Y') AS grp FROM score_q"),
}


def group_view(con, by: str | None, name: str = "score_grouped") -> str:
    """TEMP views of the selection with a ``grp`` column for ``by``; return the name of the rows view.

    ``{name}`` (``score_rows`` with grp), ``{name}_binary`` (its yes/no rows) and ``{name}_pairs``
    (``score_pairs`` with grp). The (key, grp) map is materialized once in ``{name}_keys``: it is
    per question or forecaster, so tiny next to the rows it labels.
    """
    from ledger.errors import LedgerError

    if by is None:
        rows = "SELECT r.*, 'all' AS grp FROM score_rows r"
        pairs = "SELECT p.*, 'all' AS grp FROM score_pairs p"
    elif by in GROUP_KEYS:
        key, keys_sql = GROUP_KEYS[by]
        con.execute(f"CREATE OR REPLACE TEMP TABLE {name}_keys AS {keys_sql}")
        rows = f"SELECT r.*, k.grp FROM score_rows r JOIN {name}_keys k USING ({key})"
        pairs = f"SELECT p.*, k.grp FROM score_pairs p JOIN {name}_keys k USING ({key})"
    else:
        raise LedgerError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS {rows}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name}_binary AS SELECT * FROM {name} WHERE kind = 'binary'")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name}_pairs AS {pairs}")
    return name


def _by_group(con, sql: str, params: list | None = None) -> dict[str, dict[str, Any]]:
    cursor = con.execute(sql, params or [])
    names = [c[0] for c in cursor.description]
    return {row[0]: dict(zip(names[1:], row[1:], strict=True)) for row in cursor.fetchall()}


# -- metrics (SQL) ---------------------------------------------------------------


def counts(con, pairs: str) -> dict[str, dict[str, Any]]:
    """Per group, from the pairs relation: questions, forecasts used, backfilled among them, questions by
    kind, imputed share Σ w_imputed / Σ w."""
    return _by_group(con, f"""
        SELECT grp, count(DISTINCT qn) AS n_questions,
               sum(n_forecasts)::BIGINT AS n_forecasts,
               sum(n_backfilled)::BIGINT AS n_backfilled,
               count(DISTINCT qn) FILTER (WHERE kind = 'binary') AS n_binary,
               count(DISTINCT qn) FILTER (WHERE kind = 'multiple_choice') AS n_multiple_choice,
               sum(w_imputed) / sum(w) AS imputed_share
        FROM {pairs} GROUP BY grp""")


def point_scores(con, rel: str) -> dict[str, dict[str, Any]]:
    """Per group, in one pass over the rows (weights w; per pair they sum to 1):

    n_scored = round(Σ w), the scored pairs;
    brier = Σ w (p − o)² / Σ w over yes/no rows (0 best, 1 worst);
    brier_multi = Σ w Σᵢ (pᵢ − oᵢ)² / Σ w over all rows (Good Judgment, 0..2; yes/no counts 2 (p − o)²);
    log_loss = Σ w · −ln(clip(q, ε, 1 − ε)) / Σ w over yes/no rows, q the probability given to what
    happened, ε = 2⁻⁵²;
    base_rate = Σ w o / Σ w over yes/no rows, the share of scored yes/no pairs that resolved yes.
    """
    binary = "FILTER (WHERE kind = 'binary')"
    return _by_group(con, f"""
        SELECT grp, round(sum(w))::BIGINT AS n_scored,
               sum(w * (p - o) ^ 2) {binary} / sum(w) {binary} AS brier,
               sum(w * bm) / sum(w) AS brier_multi,
               sum(w * ll) {binary} / sum(w) {binary} AS log_loss,
               sum(w * o) {binary} / sum(w) {binary} AS base_rate
        FROM {rel} GROUP BY grp""")


def _point(con, rel: str, metric: str) -> dict[str, float]:
    return {g: r[metric] for g, r in point_scores(con, rel).items() if r[metric] is not None}


def brier(con, rel: str) -> dict[str, float]:
    """Binary Brier score per group (see :func:`point_scores`)."""
    return _point(con, rel, "brier")


def brier_multi(con, rel: str) -> dict[str, float]:
    """Good Judgment Brier score per group (see :func:`point_scores`)."""
    return _point(con, rel, "brier_multi")


def log_loss(con, rel: str) -> dict[str, float]:
    """Log loss per group (see :func:`point_scores`)."""
    return _point(con, rel, "log_loss")


def base_rate(con, rel: str) -> dict[str, float]:
    """Base rate per group (see :func:`point_scores`)."""
    return _point(con, rel, "base_rate")


def brier_skill(score: float | None, reference: float | None) -> float | None:
    """Brier skill score: BSS = 1 − B / B_ref (1 perfect, 0 no better than the reference)."""
    if score is None or reference is None or reference == 0:
        return None
    return 1.0 - score / reference


def value_table(con, rel: str) -> str:
    """TEMP table ``{rel}_values``: per group and distinct forecast value p, the sufficient statistics
    W = Σ w, S = Σ w o, W2 = Σ w², and the number of forecasts. Calibration, Murphy and CORP read it."""
    name = f"{rel}_values"
    con.execute(f"""
        CREATE OR REPLACE TEMP TABLE {name} AS
        SELECT grp, p, CAST(p AS {DEC}) AS d, sum(w) AS W, sum(w * o) AS S, sum(w * w) AS W2, count(seq) AS nf
        FROM {rel} GROUP BY grp, p""")
    return name


def _bins_sql(values: str, edges: tuple[Decimal, ...], fold: bool) -> str:
    """Per group and bin: weight, Σwp, Σwo, Σwp², Σwpo (on the folded scale when ``fold``)."""
    if fold:
        pd = "CASE WHEN d < 0.5 THEN 1 - d ELSE d END"
        p = "CASE WHEN d < 0.5 THEN 1 - p ELSE p END"
        o = "CASE WHEN d < 0.5 THEN W - S ELSE S END"
    else:
        pd, p, o = "d", "p", "S"
    return f"""
        SELECT grp, bin, sum(W) AS n, sum(nf) AS n_forecasts,
               sum(W * fp) AS sp, sum(so) AS so, sum(W * fp * fp) AS spp, sum(fp * so) AS spo
        FROM (SELECT grp, nf, W, {p} AS fp, {o} AS so, {bin_index_sql(pd, edges)} AS bin FROM {values})
        GROUP BY grp, bin"""


def calibration_table(con, values: str, binning: Binning, z: float = Z95) -> dict[str, list[dict[str, Any]]]:
    """Calibration table per group: for each non-empty bin [low, high)

    n = Σ w, mean_forecast = Σ w p / n, observed ô = Σ w o / n, and the Wilson
    interval (ô + z²/2n ± z √(ô(1 − ô)/n + z²/4n²)) / (1 + z²/n).
    """
    edges = binning.table_edges()
    lows = "[" + ", ".join(f"{_num(e)}::DOUBLE" for e in edges[:-1]) + "]"
    highs = "[" + ", ".join(f"{_num(e)}::DOUBLE" for e in edges[1:]) + "]"
    cursor = con.execute(f"""
        WITH b AS ({_bins_sql(values, edges, binning.fold)}),
        r AS (SELECT *, so / n AS obs, {z}::DOUBLE AS z FROM b WHERE n > 0)
        SELECT grp, {lows}[bin + 1] AS bin_low, {highs}[bin + 1] AS bin_high, n, n_forecasts,
               sp / n AS mean_forecast, obs AS observed,
               CASE WHEN so <= 0 THEN 0.0 ELSE greatest(0.0, (obs + z * z / (2 * n) - z * sqrt(obs * (1 - obs) / n + z * z / (4 * n * n)))
                             / (1 + z * z / n)) END AS ci_low,
               CASE WHEN so >= n THEN 1.0 ELSE least(1.0, (obs + z * z / (2 * n) + z * sqrt(obs * (1 - obs) / n + z * z / (4 * n * n)))
                          / (1 + z * z / n)) END AS ci_high
        FROM r ORDER BY grp, bin""")
    names = [c[0] for c in cursor.description]
    out: dict[str, list[dict[str, Any]]] = {}
    for row in cursor.fetchall():
        out.setdefault(row[0], []).append(dict(zip(names[1:], row[1:], strict=True)))
    return out


def murphy(con, values: str, binning: Binning) -> dict[str, dict[str, float]]:
    """Murphy decomposition over the bins (unfolded scale), exact:

    B = REL − RES + UNC + WBV − WBC with REL = Σ n_k (f̄_k − ō_k)² / N,
    RES = Σ n_k (ō_k − ō)² / N, UNC = ō (1 − ō), WBV = Σ_k Σ_i w (p_i − f̄_k)² / N,
    WBC = 2 Σ_k Σ_i w (p_i − f̄_k)(o_i − ō_k) / N.
    """
    return _by_group(con, f"""
        WITH b AS ({_bins_sql(values, binning.edges, False)}),
        t AS (SELECT grp, sum(n) AS nn, sum(so) / sum(n) AS obar FROM b GROUP BY grp)
        SELECT grp,
               sum(n * (sp / n - so / n) ^ 2) / nn AS reliability,
               sum(n * (so / n - obar) ^ 2) / nn AS resolution,
               obar * (1 - obar) AS uncertainty,
               sum(spp - sp * sp / n) / nn AS within_bin_variance,
               2 * sum(spo - sp * so / n) / nn AS within_bin_covariance
        FROM b JOIN t USING (grp) WHERE n > 0 GROUP BY grp, nn, obar""")


def forecasts_in_bin(con, rel: str, binning: Binning, bin_low: float) -> list[dict[str, Any]]:
    """List the scored rows in the bin that starts at ``bin_low`` (same rule as the counts)."""
    edges = binning.table_edges()
    index = [float(e) for e in edges[:-1]].index(float(bin_low))
    d = f"CAST(r.p AS {DEC})"
    pd = f"CASE WHEN {d} < 0.5 THEN 1 - {d} ELSE {d} END" if binning.fold else d
    cursor = con.execute(f"""
        SELECT q.question_id, n.forecaster, r.seq, r.p, r.o, r.w
        FROM {rel} r JOIN score_q q USING (qn) JOIN score_names n USING (fn)
        WHERE {bin_index_sql(pd, edges)} = ? ORDER BY q.question_id, n.forecaster, r.seq""", [index])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- CORP (numpy: PAV) -------------------------------------------------------------


def pav(x, y, w):
    """Isotonic (non-decreasing) least-squares fit of y on sorted distinct x with weights w (PAV).

    Returns the fitted value at each x: the weighted block means after pooling
    adjacent violators. Pure Python over the distinct values (one pass, a stack).
    """
    import numpy as np

    sums, weights, sizes = [], [], []
    for yi, wi in zip(np.asarray(y, float) * np.asarray(w, float), np.asarray(w, float), strict=True):
        s, ww, k = float(yi), float(wi), 1
        while sums and sums[-1] * ww > s * weights[-1]:
            s += sums.pop()
            ww += weights.pop()
            k += sizes.pop()
        sums.append(s)
        weights.append(ww)
        sizes.append(k)
    return np.repeat(np.array(sums) / np.array(weights), sizes)


def _pav_batch(W, S):
    """PAV for many outcome vectors at once: W (K,) weights, S (B, K) weighted yes counts.

    Returns (fitted (B, K), Σ over blocks of S_b² / W_b per row). Loops over
    the K distinct values; each step is vectorised over the B resamples.
    """
    import numpy as np

    B, K = S.shape
    bw = np.zeros((B, K))
    bs = np.zeros((B, K))
    start = np.zeros((B, K), dtype=np.int64)
    top = np.full(B, -1, dtype=np.int64)
    rows = np.arange(B)
    for j in range(K):
        top += 1
        bw[rows, top] = W[j]
        bs[rows, top] = S[:, j]
        start[rows, top] = j
        r = rows[top > 0]
        while r.size:
            t = top[r]
            viol = bs[r, t - 1] * bw[r, t] > bs[r, t] * bw[r, t - 1]
            r, t = r[viol], t[viol]
            if not r.size:
                break
            bw[r, t - 1] += bw[r, t]
            bs[r, t - 1] += bs[r, t]
            top[r] -= 1
            r = r[top[r] > 0]
    live = np.arange(K)[None, :] <= top[:, None]
    rr, tt = np.nonzero(live)
    marker = np.zeros((B, K), dtype=np.int64)
    marker[rr, start[rr, tt]] = tt
    level = np.maximum.accumulate(marker, axis=1)
    fitted = bs[rows[:, None], level] / bw[rows[:, None], level]
    pooled = np.where(live, np.divide(bs * bs, bw, out=np.zeros_like(bs), where=bw > 0), 0.0).sum(axis=1)
    return fitted, pooled


def corp(con, values: str, *, seed: int = DEFAULT_SEED, n_resamples: int = DEFAULT_RESAMPLES,
         briers: dict[str, float] | None = None) -> dict[str, dict[str, Any]]:
    """CORP decomposition per group: B = MCB − DSC + UNC.

    C = PAV(o on p) over distinct forecast values (ties pooled);
    MCB = B(p) − B(C), DSC = UNC − B(C), UNC = ō(1 − ō), with
    B(C) = Σ_blocks (S_b − S_b² / W_b) / N. Also the MCB null distribution
    (outcomes redrawn Bernoulli(p), PAV refitted) and the consistency band.
    """
    import numpy as np

    data = con.execute(f"SELECT grp, p, W, S, W2 FROM {values} ORDER BY grp, p").fetchnumpy()
    out: dict[str, dict[str, Any]] = {}
    groups = data["grp"]
    if len(groups) == 0:
        return out
    bounds = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True])
    for g_index, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        g = str(groups[lo])
        x = np.asarray(data["p"][lo:hi], float)
        W = np.asarray(data["W"][lo:hi], float)
        S = np.asarray(data["S"][lo:hi], float)
        W2 = np.asarray(data["W2"][lo:hi], float)
        n = W.sum()
        obar = S.sum() / n
        unc = obar * (1 - obar)
        fit = pav(x, S / W, W)
        score_c = float(np.sum(W * fit * fit - 2 * fit * S + S)) / n
        b = briers[g] if briers is not None else float(np.sum(W * x * x - 2 * x * S + S)) / n
        result: dict[str, Any] = {"mcb": b - score_c, "dsc": unc - score_c, "unc": unc}
        result.update(_corp_null(x, W, S, W2, n, b - score_c, fit,
                                 np.random.default_rng([seed, g_index]), n_resamples))
        out[g] = result
    return out


def _corp_null(x, W, S, W2, n, mcb_obs, fit, rng, n_resamples):
    """MCB under the hypothesis of calibration, and the consistency band of the reliability curve."""
    import numpy as np

    curve_x, curve_fit = x, fit
    if len(x) > RESAMPLE_MAX_VALUES:
        # Pool forecast values to 0.001 steps; the observed MCB is recomputed on the same pooled data.
        key = np.round(x, 3)
        ux, inv = np.unique(key, return_inverse=True)
        W, S, W2 = (np.bincount(inv, weights=a) for a in (W, S, W2))
        x = ux
        fit_pooled = pav(x, S / W, W)
        score_f = float(np.sum(W * x * x - 2 * x * S + S)) / n
        score_c = float(np.sum(W * fit_pooled ** 2 - 2 * fit_pooled * S + S)) / n
        mcb_obs = score_f - score_c
        curve_x, curve_fit = x, fit_pooled
        note = "forecast values pooled to 0.001 steps for the resampling"
    else:
        note = None
    if n_resamples <= 0:
        return {"curve": _curve(curve_x, curve_fit, W, None, None), "n_resamples": 0}
    m = np.maximum(1, np.rint(W * W / W2)).astype(np.int64)
    scale = W / m
    draws = rng.binomial(m, x, size=(n_resamples, len(x))) * scale
    fitted, pooled = _pav_batch(W, draws)
    score_f = (np.sum(W * x * x) - 2 * draws @ x + draws.sum(axis=1))
    score_c = draws.sum(axis=1) - pooled
    mcb_null = (score_f - score_c) / n
    low, high = np.quantile(fitted, [(1 - BAND_LEVEL) / 2, (1 + BAND_LEVEL) / 2], axis=0)
    result = {
        "mcb_p_value": float((1 + np.sum(mcb_null >= mcb_obs - 1e-12)) / (1 + n_resamples)),
        "mcb_null_mean": float(mcb_null.mean()),
        "mcb_null_q95": float(np.quantile(mcb_null, 0.95)),
        "n_resamples": int(n_resamples),
        "band_level": BAND_LEVEL,
        "curve": _curve(curve_x, curve_fit, W, low, high),
    }
    if note:
        result["resampling_note"] = note
    return result


def _curve(x, fit, W, low, high) -> list[dict[str, float]]:
    return [
        {"x": float(x[i]), "recalibrated": float(fit[i]), "n": float(W[i]),
         "band_low": None if low is None else float(low[i]), "band_high": None if high is None else float(high[i])}
        for i in range(len(x))
    ]


# -- bootstrap ----------------------------------------------------------------------


def bootstrap_mean_ci(values, *, seed: int = DEFAULT_SEED, n_resamples: int = DEFAULT_RESAMPLES,
                      level: float = 0.95) -> list[float] | None:
    """Percentile bootstrap interval of mean(values), seeded.

    A resample's mean is Σ_k C_k v_k / n with C ~ Multinomial(n, counts/n)
    over the distinct values v_k: the ordinary bootstrap, in O(B·K). Above
    256 distinct values they are pooled into 256 quantile groups and the
    within-group spread is added as N(0, Σ C_g var_g) (same mean and variance).
    """
    import numpy as np

    v = np.sort(np.asarray(values, float))
    n = v.size
    if n == 0 or n_resamples <= 0:
        return None
    edge = np.flatnonzero(np.r_[True, v[1:] != v[:-1]])  # v is sorted: np.unique without a second sort
    uniq, cnt = v[edge], np.diff(np.r_[edge, n])
    if uniq.size <= BOOTSTRAP_MAX_GROUPS:
        means, var = uniq, np.zeros(uniq.size)
    else:
        starts = (np.arange(BOOTSTRAP_MAX_GROUPS) * n) // BOOTSTRAP_MAX_GROUPS
        cnt = np.diff(np.r_[starts, n])
        means = np.add.reduceat(v, starts) / cnt
        var = np.maximum(np.add.reduceat(v * v, starts) / cnt - means * means, 0.0)
    rng = np.random.default_rng(seed)
    draws = rng.multinomial(n, cnt / n, size=n_resamples)
    totals = draws @ means
    if var.any():
        totals = totals + np.sqrt(draws @ var) * rng.standard_normal(n_resamples)
    low, high = np.quantile(totals / n, [(1 - level) / 2, (1 + level) / 2])
    return [float(low), float(high)]


def pair_scores(con, pairs: str) -> dict[str, Any]:
    """Per group, the per-pair binary Brier Σ w (p − o)² over the pair's rows (weights sum to 1)."""
    data = con.execute(f"SELECT grp, brier FROM {pairs} WHERE kind = 'binary' ORDER BY grp").fetchnumpy()
    return _split(data["grp"], data["brier"])


def _split(groups, values) -> dict[str, Any]:
    import numpy as np

    out = {}
    if len(groups) == 0:
        return out
    bounds = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        out[str(groups[lo])] = np.asarray(values[lo:hi], float)
    return out


# -- several forecasters -------------------------------------------------------------


def leave_one_out_median(groups, values):
    """For sorted (group, value) arrays: per element, the median of the other values of its group."""
    import numpy as np

    n = len(groups)
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    sizes = np.diff(np.r_[starts, n])
    start = np.repeat(starts, sizes)
    size = np.repeat(sizes, sizes)
    rank = np.arange(n) - start
    m = size - 1  # number of others
    ok = m > 0
    lo_pos = np.where(ok, (m - 1) // 2, 0)
    hi_pos = np.where(ok, m // 2, 0)
    # position j among the others maps to j (before own rank) or j + 1 (after it)
    lo_idx = start + lo_pos + (lo_pos >= rank)
    hi_idx = start + hi_pos + (hi_pos >= rank)
    lo_idx = np.minimum(lo_idx, n - 1)
    hi_idx = np.minimum(hi_idx, n - 1)
    median = (values[lo_idx] + values[hi_idx]) / 2
    return np.where(ok, median, np.nan)


def relative_scores(con, *, seed: int = DEFAULT_SEED, n_resamples: int = DEFAULT_RESAMPLES) -> list[dict[str, Any]]:
    """Per forecaster: mean over questions of Brier (GJ form) − median Brier of the others on that question."""
    import numpy as np

    data = con.execute("SELECT qn, fn, brier_multi AS s FROM score_pairs ORDER BY qn, s").fetchnumpy()
    qn, fn, s = (np.asarray(data[c]) for c in ("qn", "fn", "s"))
    diff = s - leave_one_out_median(qn, s.astype(float))
    keep = ~np.isnan(diff)
    names = dict(con.execute("SELECT fn, forecaster FROM score_names").fetchall())
    out = []
    for f in np.unique(fn[keep]):
        d = diff[keep & (fn == f)]
        out.append({"forecaster": names[int(f)], "n_questions": int(d.size), "mean_difference": float(d.mean()),
                    "ci": bootstrap_mean_ci(d, seed=seed, n_resamples=n_resamples)})
    return sorted(out, key=lambda r: r["forecaster"])


def paired_differences(con, forecasters: list[str], *, seed: int = DEFAULT_SEED,
                       n_resamples: int = DEFAULT_RESAMPLES) -> list[dict[str, Any]]:
    """Per two forecasters a, b (a before b in ``forecasters``): mean over their common questions of
    Brier(a) − Brier(b) (GJ form), with a 95% bootstrap interval; every pair from one self-join."""
    import numpy as np

    data = con.execute("""
        SELECT x.fn::BIGINT << 32 | y.fn AS ab, x.brier_multi - y.brier_multi AS diff
        FROM score_pairs x JOIN score_pairs y ON x.qn = y.qn AND x.fn < y.fn
        ORDER BY ab, x.qn""").fetchnumpy()
    diffs = _split(data["ab"], data["diff"])
    fn = dict(con.execute("SELECT forecaster, fn FROM score_names").fetchall())
    out = []
    for i, a in enumerate(forecasters):
        for b in forecasters[i + 1:]:
            d = diffs.get(str(fn[a] << 32 | fn[b]), np.empty(0))
            out.append({"a": a, "b": b, "n_questions": int(d.size),
                        "mean_difference": float(d.mean()) if d.size else None,
                        "ci": bootstrap_mean_ci(d, seed=seed, n_resamples=n_resamples)})
    return out


def over_time(con) -> list[dict[str, Any]]:
    """Per quarter in which outcomes became known: scored pairs, binary Brier, GJ Brier (:func:`point_scores`)."""
    view = group_view(con, "quarter", "score_quarter")
    return [{"period": g, "n_scored": m["n_scored"], "brier": m["brier"], "brier_multi": m["brier_multi"]}
            for g, m in sorted(point_scores(con, view).items())]


def per_question(con, question_ids: list[str] | None = None) -> list[dict[str, Any]]:
    """Per scored pair (of the given questions, or all): question, forecaster, kind, binary Brier (if
    yes/no), GJ Brier, log loss, forecasts used."""
    only = "WHERE q.question_id IN (SELECT unnest(?::VARCHAR[]))" if question_ids is not None else ""
    cursor = con.execute(f"""
        SELECT q.question_id, n.forecaster, p.kind, p.brier, p.brier_multi, p.log_loss, p.n_forecasts
        FROM score_pairs p JOIN score_q q USING (qn) JOIN score_names n USING (fn) {only}
        ORDER BY q.question_id, n.forecaster""", [list(question_ids)] if question_ids is not None else [])
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# -- the whole score ---------------------------------------------------------------------


@dataclass
class Options:
    """How to score: bins, folding, grouping, resampling."""

    bins: int | None = None
    levels: str | None = None
    fold: bool = False
    by: str | None = None
    seed: int = DEFAULT_SEED
    n_resamples: int = DEFAULT_RESAMPLES
    include_questions: bool = False
    # Several breakdowns from the one selection: result["groupings"][by] = {n_groups, too_many, groups}.
    groupings: tuple[str, ...] = ()
    # A grouping in ``groupings`` with more groups than this lists none (too_many: True), because
    # per-group CORP resampling and bootstrap cost grows with the number of groups.
    max_groups: int | None = None
    # Further calibration tables of the whole selection: result["calibrations"][name].
    calibrations: dict[str, Binning] = field(default_factory=dict)
    relative: bool = True  # relative and paired scores when there are several forecasters
    question_ids: list[str] | None = None  # per-question scores of these questions only (implies questions)

    def check(self) -> None:
        from ledger.errors import LedgerError

        for by in (self.by, *self.groupings):
            if by is not None and by not in GROUPINGS:
                raise LedgerError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")

    def binning(self) -> Binning:
        from ledger.errors import LedgerError

        if self.levels is not None:
            if self.bins is not None:
                raise LedgerError("give --bins or --levels, not both")
            if self.levels != "analyst":
                raise LedgerError(f"--levels takes 'analyst', got {self.levels!r}")
            return analyst_levels(fold=self.fold)
        return equal_bins(10 if self.bins is None else self.bins, fold=self.fold)


def _group_metrics(con, view: str, binning: Binning, opts: Options) -> dict[str, dict[str, Any]]:
    """Every metric per group of a :func:`group_view`: set-wise SQL per metric, numpy per group for CORP."""
    cnt = counts(con, f"{view}_pairs")
    points = point_scores(con, view)
    values = value_table(con, f"{view}_binary")
    cal = calibration_table(con, values, binning)
    mur = murphy(con, values, binning)
    briers = {g: m["brier"] for g, m in points.items() if m["brier"] is not None}
    cp = corp(con, values, seed=opts.seed, n_resamples=opts.n_resamples, briers=briers)
    ps = pair_scores(con, f"{view}_pairs")
    murphy_bins = (binning.describe().replace(", folded", ", unfolded for Murphy; table folded")
                   if binning.fold else binning.describe())
    out = {}
    for g, c in cnt.items():
        m = points[g]
        b, rate = m["brier"], m["base_rate"]
        out[g] = {
            **c,
            "n_scored": m["n_scored"],
            "brier": b,
            "brier_form": "binary: mean (p - o)^2 over yes/no questions, 0..1",
            "brier_ci": bootstrap_mean_ci(ps[g], seed=opts.seed, n_resamples=opts.n_resamples) if g in ps else None,
            "log_loss": m["log_loss"],
            "base_rate": rate,
            "brier_skill_vs_half": brier_skill(b, None if b is None else 0.25),
            "brier_skill_vs_base_rate": brier_skill(b, None if rate is None else rate * (1 - rate)),
            "brier_multi": m["brier_multi"],
            "brier_multi_form": "Good Judgment: mean sum_i (p_i - o_i)^2 over all questions, 0..2",
            "murphy": {**mur[g], "bins": murphy_bins} if g in mur else None,
            "corp": cp.get(g),
            "calibration": cal.get(g, []),
        }
    return out


def _grouping(con, by: str, binning: Binning, opts: Options) -> dict[str, Any]:
    """One breakdown of the selection; above ``opts.max_groups`` groups only their number."""
    view = group_view(con, by, f"score_by_{by}")
    n_groups = con.execute(f"SELECT count(DISTINCT grp) FROM {view}_pairs").fetchone()[0]
    if opts.max_groups is not None and n_groups > opts.max_groups:
        return {"n_groups": n_groups, "too_many": True, "groups": []}
    groups = _group_metrics(con, view, binning, opts)
    return {"n_groups": n_groups, "too_many": False, "groups": [{"group": g, **m} for g, m in sorted(groups.items())]}


def score(store_or_con, selection: Selection | None = None, options: Options | None = None, **kwargs) -> dict[str, Any]:
    """Score the ledger: the JSON contract of ``ledger score``.

    ``score(store, policy="last", bins=5, by="forecaster")`` also works: keyword
    arguments fill :class:`Selection` and :class:`Options`. The selection is made
    once; the whole-selection metrics, ``by``, every grouping of ``groupings`` and
    the extra ``calibrations`` all read it.
    """
    sel = selection or Selection(**{k: v for k, v in kwargs.items() if k in Selection.__dataclass_fields__})
    opts = options or Options(**{k: v for k, v in kwargs.items() if k in Options.__dataclass_fields__})
    unknown = set(kwargs) - set(Selection.__dataclass_fields__) - set(Options.__dataclass_fields__)
    if unknown:
        raise TypeError(f"unknown arguments: {', '.join(sorted(unknown))}")
    con = getattr(store_or_con, "con", store_or_con)
    binning = opts.binning()
    opts.check()
    excluded = select_scored(con, sel)
    view = group_view(con, None)
    whole = _group_metrics(con, view, binning, opts).get("all")
    if whole is None:
        whole = {"n_questions": 0, "n_scored": 0, "n_forecasts": 0, "n_backfilled": 0, "brier": None,
                 "log_loss": None, "base_rate": None, "brier_skill_vs_half": None,
                 "brier_skill_vs_base_rate": None, "murphy": None, "corp": None, "calibration": [],
                 "brier_ci": None, "brier_multi": None}
    result: dict[str, Any] = {
        **whole,
        "excluded": excluded,
        "selection": {
            "policy": sel.policy, "forecaster": sel.forecaster, "tag": sel.tag,
            "since": sel.since.isoformat() if sel.since else None,
            "exclude_backfilled": sel.exclude_backfilled,
            "bins": binning.describe(), "fold": binning.fold, "by": opts.by,
            "seed": opts.seed, "n_resamples": opts.n_resamples,
        },
        "methodology": {**METHODOLOGY, "policy": _policy_text(sel.policy)},
        "over_time": over_time(con),
    }
    forecasters = [r[0] for r in con.execute(
        "SELECT forecaster FROM score_names WHERE fn IN (SELECT fn FROM score_pairs) ORDER BY fn").fetchall()]
    result["forecasters"] = forecasters
    if opts.relative and len(forecasters) > 1:
        result["relative"] = relative_scores(con, seed=opts.seed, n_resamples=opts.n_resamples)
        if len(forecasters) <= 12:
            result["paired"] = paired_differences(con, forecasters, seed=opts.seed, n_resamples=opts.n_resamples)
    if opts.calibrations:
        values = f"{view}_binary_values"
        result["calibrations"] = {name: calibration_table(con, values, extra).get("all", [])
                                  for name, extra in opts.calibrations.items()}
    if opts.by:
        groups = _group_metrics(con, group_view(con, opts.by, "score_by"), binning, opts)
        result["groups"] = [{"group": g, **m} for g, m in sorted(groups.items())]
    if opts.groupings:
        result["groupings"] = {by: _grouping(con, by, binning, opts) for by in opts.groupings}
    if opts.include_questions or opts.question_ids is not None:
        result["questions"] = per_question(con, opts.question_ids)
    result["retractions"] = retractions(con, sel)
    return result


def retractions(con, sel: Selection) -> dict[str, Any]:
    """The selection's retracted questions and its Brier score had they counted.

    ``n`` and ``questions`` (ids) are the questions in the selection (its tag,
    resolution date and forecaster filters) annulled after an outcome;
    ``brier_if_counted`` is the selection's binary Brier score, same policy,
    with each scored at its last outcome (None when nothing is retracted).
    Rebuilds the selection's TEMP tables, so it runs after everything else.
    """
    qwhere, qparams = _question_filter(sel)
    scoped = f"SELECT id FROM {_RETRACTIONS_UNDONE} WHERE id IN (SELECT question_id FROM retractions) {qwhere}"
    if sel.forecaster:
        scoped += " AND id IN (SELECT question_id FROM forecasts WHERE forecaster = ?)"
        qparams = [*qparams, sel.forecaster]
    ids = [row[0] for row in con.execute(f"{scoped} ORDER BY id", qparams).fetchall()]
    if not ids:
        return {"n": 0, "brier_if_counted": None, "questions": []}
    select_scored(con, sel, undo_retractions=True)
    return {"n": len(ids), "brier_if_counted": brier(con, group_view(con, None, "score_undone")).get("all"),
            "questions": ids}


def _policy_text(policy: str) -> str:
    if policy == "first":
        return ("first: each forecaster's first forecast on a question counts (made at or before the moment the "
                "outcome became known).")
    if policy == "last":
        return "last: each forecaster's last forecast made at or before the moment the outcome became known counts."
    return WINDOW_DEFINITION

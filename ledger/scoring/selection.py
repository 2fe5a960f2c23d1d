"""Which forecasts count: a :class:`Selection` (validated once), made once in SQL as a :class:`Scored` handle.

Scoring reads only the documented views ``questions`` and ``forecasts`` of a
DuckDB connection (the store's, or any connection that has them); it never
imports the store.

* Only questions with an outcome count; annulled questions never do.
* Forecasts made after the outcome became known (``made_at > resolved_at``)
  never count; one made at the very moment does (imports without times
  record both at the same instant).
* Backfilled forecasts count unless ``exclude_backfilled``; their number is
  always reported.
* ``first``: the forecaster's first counted forecast. ``last``: the last one
  made at or before the moment the outcome became known.
* ``time-averaged`` (default): see :data:`ledger.scoring.methodology.WINDOW_DEFINITION`.

Every counted forecast (or piece of a forecaster's time line) gets a weight;
each (question, forecaster) *pair*'s weights sum to 1, so a weighted mean
over rows is a mean over scored pairs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import cached_property
from typing import Any

from ledger.scoring.binning import DECIMAL

__all__ = ["GROUPINGS", "LOG_EPS", "POLICIES", "Exclusions", "Grouped", "Scored", "Selection", "check_grouping",
           "connection"]

POLICIES = ("time-averaged", "first", "last")
GROUPINGS = ("forecaster", "tag", "source", "author", "quarter", "year")
LOG_EPS = 2.220446049250313e-16  # float64 machine epsilon: sklearn's clip for log loss
_names = itertools.count(1)


@dataclass(frozen=True)
class Selection:
    """What to score: the filters of ``ledger score``. Checked when made, so a Selection is always valid."""

    policy: str = "time-averaged"
    forecaster: str | None = None
    tag: str | None = None
    since: date | None = None  # questions whose outcome became known on or after this day
    exclude_backfilled: bool = False

    def __post_init__(self) -> None:
        from ledger.errors import LedgerError

        if self.policy not in POLICIES:
            raise LedgerError(f"--policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")


@dataclass(frozen=True)
class Exclusions:
    """Forecasts in the filtered scope that do not enter the score, by reason."""

    unresolved: int
    annulled: int
    after_outcome: int
    backfilled: int  # 0 unless the selection excludes backfilled forecasts
    not_used_by_policy: int


def check_grouping(by: str) -> None:
    """A breakdown must be one of GROUPINGS (``--by``)."""
    from ledger.errors import LedgerError

    if by not in GROUPINGS:
        raise LedgerError(f"--by must be one of {', '.join(GROUPINGS)}, got {by!r}")


def connection(source: Any):
    """The DuckDB connection to read: a connection itself, or the ``con`` of a store opened on the ledger."""
    return getattr(source, "con", source)


def _question_filter(selection: Selection) -> tuple[str, list]:
    where, params = [], []
    if selection.tag:
        where.append("list_contains(tags, ?)")
        params.append(selection.tag)
    if selection.since:
        since = selection.since
        where.append("resolved_at >= ?::TIMESTAMP")
        params.append(since if isinstance(since, datetime) else datetime.combine(since, datetime.min.time()))
    return (" AND " + " AND ".join(where)) if where else "", params


def _weight_sql(policy: str) -> tuple[str, str, str]:
    """(which standing forecasts the policy keeps, the pieces each yields, the weight of a piece).

    Time-averaged weight of a forecast: (next made_at, or resolved_at, − made_at) / (resolved_at −
    opened_at), exact microseconds (a forecaster's next candidate is never after resolved_at); a window
    of zero length gives the pair's last forecast weight 1. The imputed stretch before a forecaster's
    first forecast weighs (made_at − opened_at) / (resolved_at − opened_at) and is scored as the
    uninformed forecast. First and last keep one forecast per pair, of weight 1.
    """
    if policy != "time-averaged":
        return ("is_first" if policy == "first" else "next_made_at IS NULL"), "[FALSE]", "1.0::DOUBLE"
    window = "(epoch_us(resolved_at) - epoch_us(opened_at))"
    weight = f"""CASE WHEN imputed THEN (epoch_us(made_at) - epoch_us(opened_at)) / {window}
                      WHEN {window} > 0 THEN (epoch_us(coalesce(next_made_at, resolved_at)) - epoch_us(made_at)) / {window}
                      ELSE (next_made_at IS NULL)::DOUBLE END"""
    return "TRUE", "CASE WHEN is_first AND made_at > opened_at THEN [FALSE, TRUE] ELSE [FALSE] END", weight


# The questions as they would stand had no retraction been made: a retracted
# question (annulled after an outcome) counts at its last outcome.
RETRACTIONS_UNDONE = """(
    SELECT q.* REPLACE (coalesce(r.outcome, q.outcome) AS outcome, coalesce(r.resolved_at, q.resolved_at) AS resolved_at,
                        CASE WHEN r.question_id IS NULL THEN q.status ELSE 'resolved' END AS status)
    FROM questions q LEFT JOIN retractions r ON r.question_id = q.id)"""


def retracted_ids(source: Any, selection: Selection) -> list[str]:
    """The selection's questions (tag, resolution date, forecaster) annulled after an outcome."""
    con = connection(source)
    if not con.execute("SELECT 1 FROM retractions LIMIT 1").fetchone():  # the usual case, without a pass of questions
        return []
    question_filter, params = _question_filter(selection)
    sql = f"SELECT id FROM {RETRACTIONS_UNDONE} WHERE id IN (SELECT question_id FROM retractions) {question_filter}"
    if selection.forecaster:
        sql += " AND id IN (SELECT question_id FROM forecasts WHERE forecaster = ?)"
        params = [*params, selection.forecaster]
    return [row[0] for row in con.execute(f"{sql} ORDER BY id", params).fetchall()]


class Scored:
    """The forecasts a :class:`Selection` counts, made once as TEMP tables of one DuckDB connection.

    Its tables (named uniquely per object; use it as a context manager, or
    :meth:`close` it, to drop them):

    * ``scope``: the questions the filters choose, whatever their status, with
      an integer ``question_no``; ``candidates``: their forecasts (the only
      read of the ``forecasts`` view), each with ``in_time`` (on a resolved
      question, made at or before the outcome);
    * ``questions`` (a view of ``scope``): the scored questions, with
      ``resolved_yes`` (1/0, yes/no questions) and ``outcome_index`` (1-based,
      multiple choice);
    * ``forecasters``: ``forecaster_no`` and the name;
    * ``openings``: per scored question with a counted forecast, ``opened_at``,
      when its window opens (the earlier of its logging and its first counted
      forecast by anyone, whatever the forecaster filter: see :meth:`opening_times`);
    * ``rows``: one row per counted forecast, or per piece of a forecaster's
      time line: ``seq`` (NULL for an imputed stretch), ``imputed``,
      ``backfilled``, ``kind``, ``probability`` (P(yes)), ``resolved_yes``,
      ``probabilities`` and ``outcome_index`` (multiple choice), ``weight``,
      and the row's ``brier_multi`` (Good Judgment form) and ``log_loss``;
    * ``pairs``: per scored (question, forecaster) pair, the weighted sums of
      its rows: ``brier`` = Σ w (p − o)² (yes/no), ``brier_multi``,
      ``log_loss``, ``yes_weight`` = Σ w o, ``weight`` = Σ w (1),
      ``imputed_weight``, and the forecasts used and backfilled among them.

    Metrics read it through :meth:`grouped`.
    """

    def __init__(self, source: Any, selection: Selection, *, undo_retractions: bool = False):
        self.con = connection(source)
        self.selection = selection
        prefix = f"scoring{next(_names)}"
        self._created: list[tuple[str, str]] = []
        self.scope, self.candidates, self.questions, self.forecasters, self.openings, self.rows, self.pairs = (
            f"{prefix}_{name}" for name in
            ("scope", "candidates", "questions", "forecasters", "openings", "rows", "pairs"))
        self._prefix = prefix
        self._grouped: dict[str | None, Grouped] = {}
        question_filter, params = _question_filter(selection)
        # Each view is read once: the filtered questions whatever their status (what the exclusions count),
        # and their forecasts with only the columns scoring reads; every later step reads these two tables.
        self._create("TABLE", self.scope, f"""
            SELECT (row_number() OVER ())::INTEGER AS question_no, id AS question_id, status, kind, options, outcome,
                   resolved_at, created_at, tags, coalesce(source_title, source_url) AS source,
                   source_author AS author,
                   CASE WHEN kind = 'binary' THEN (outcome = 'yes')::INTEGER END AS resolved_yes,
                   CASE WHEN kind = 'multiple_choice' THEN list_position(options, outcome) END AS outcome_index
            FROM {RETRACTIONS_UNDONE if undo_retractions else "questions"}
            WHERE TRUE {question_filter}""", params)
        self._create("TABLE", self.candidates, f"""
            SELECT f.seq, s.question_no, s.status, f.forecaster, f.probability, f.probabilities, f.made_at,
                   f.backfilled, s.status = 'resolved' AND f.made_at <= s.resolved_at AS in_time
            FROM forecasts f JOIN {self.scope} s ON s.question_id = f.question_id""")
        self._create("VIEW", self.questions, f"SELECT * EXCLUDE (status) FROM {self.scope} WHERE status = 'resolved'")
        self._create("TABLE", self.forecasters, f"""
            SELECT (row_number() OVER (ORDER BY forecaster))::INTEGER AS forecaster_no, forecaster
            FROM (SELECT DISTINCT forecaster FROM {self.candidates})""")
        backfill = "AND NOT f.backfilled" if selection.exclude_backfilled else ""
        self._create("TABLE", self.openings, f"""
            SELECT q.question_no, any_value(q.question_id) AS question_id,
                   least(any_value(q.created_at), min(f.made_at)) AS opened_at
            FROM {self.candidates} f JOIN {self.questions} q USING (question_no)
            WHERE f.in_time {backfill} GROUP BY q.question_no""")
        self._create("TABLE", self.rows, self._rows_sql(backfill), [selection.forecaster] if selection.forecaster else [])
        self._create("TABLE", self.pairs, f"""
            SELECT question_no, forecaster_no, any_value(kind) AS kind,
                   sum(weight * (probability - resolved_yes) ^ 2) AS brier,
                   sum(weight * brier_multi) AS brier_multi,
                   sum(weight * log_loss) AS log_loss,
                   sum(weight * resolved_yes) AS yes_weight,
                   sum(weight) AS weight,
                   coalesce(sum(weight) FILTER (WHERE imputed), 0) AS imputed_weight,
                   count(seq) AS n_forecasts,
                   count(seq) FILTER (WHERE backfilled) AS n_backfilled
            FROM {self.rows} GROUP BY question_no, forecaster_no""")

    def narrowed(self, forecaster: str) -> Scored:
        """This selection's part that is ``forecaster``'s: what ``Scored(source, replace(selection,
        forecaster=forecaster))`` makes, from this one's tables. Its ``rows`` and ``pairs`` are those of
        the forecaster here, in the same order, for a selection with a forecaster filter numbers the
        forecasters and opens the windows as one without does; ``scope``, ``candidates``,
        ``questions``, ``forecasters`` and ``openings`` are this one's. A report scores the whole
        selection and each forecaster's part (one selection made, not one a forecaster). Close it first.
        """
        part = object.__new__(Scored)
        part.con, part.selection = self.con, replace(self.selection, forecaster=forecaster)
        part._prefix = prefix = f"scoring{next(_names)}"
        part._created, part._grouped = [], {}
        part.scope, part.candidates, part.questions, part.forecasters, part.openings = (
            self.scope, self.candidates, self.questions, self.forecasters, self.openings)
        part.rows, part.pairs = f"{prefix}_rows", f"{prefix}_pairs"
        found = self.con.execute(f"SELECT forecaster_no FROM {self.forecasters} WHERE forecaster = ?", [forecaster])
        number = int((found.fetchone() or [-1])[0])  # -1: no forecast of theirs in the scope, so nothing scored
        # rows a view (its list columns not copied: each grouping reads it once, into its values table),
        # pairs a table (every metric reads it)
        part._create("VIEW", part.rows, f"SELECT * FROM {self.rows} WHERE forecaster_no = {number}")
        part._create("TABLE", part.pairs, f"SELECT * FROM {self.pairs} WHERE forecaster_no = {number}")
        return part

    def _create(self, kind: str, name: str, sql: str, params: list | None = None) -> None:
        self.con.execute(f"CREATE OR REPLACE TEMP {kind} {name} AS {sql}", params or [])
        self._created.append((kind, name))

    def opening_times(self) -> dict[str, datetime]:
        """When each scored question's window opened, by question id. A forecaster's page publishes
        these: the first forecast by anyone may be another forecaster's, whose record it leaves out."""
        return dict(self.con.execute(f"SELECT question_id, opened_at FROM {self.openings} ORDER BY question_id").fetchall())

    def _rows_sql(self, backfill: str) -> str:
        """The one statement that makes ``rows`` for the selection's policy (see :func:`_weight_sql`).

        Candidates are the forecasts not made after the outcome (the same as ``openings`` counts, so
        before the forecaster filter). Per pair, the order by (made_at, seq) gives each forecast its
        successor.
        """
        keep, pieces, weight = _weight_sql(self.selection.policy)
        only = "AND f.forecaster = ?" if self.selection.forecaster else ""
        return f"""
            WITH candidate AS (
                SELECT f.seq, f.question_no, n.forecaster_no, f.probability, f.probabilities, f.made_at, f.backfilled
                FROM {self.candidates} f JOIN {self.forecasters} n USING (forecaster)
                WHERE f.in_time {backfill} {only}),
            -- One window ordered by (pair, made_at, seq) rather than partitioned by pair: its output, and
            -- so the table and every floating-point sum over it, is in the same order on every run.
            standing AS (
                SELECT *, CASE WHEN lead(pair) OVER by_pair = pair THEN lead(made_at) OVER by_pair END AS next_made_at,
                       lag(pair) OVER by_pair IS DISTINCT FROM pair AS is_first
                FROM (SELECT *, question_no::BIGINT << 32 | forecaster_no AS pair FROM candidate)
                WINDOW by_pair AS (ORDER BY pair, made_at, seq)),
            -- A first forecast after the opening also yields the imputed stretch before it, in the same
            -- pipeline (a UNION would write the table in an order that varies from run to run).
            pieces AS (
                SELECT s.*, q.kind, q.resolved_yes, q.outcome_index, q.options, q.resolved_at,
                       o.opened_at, unnest({pieces}) AS imputed
                FROM standing s JOIN {self.openings} o USING (question_no) JOIN {self.questions} q USING (question_no)
                WHERE {keep}),
            weighted AS (
                SELECT question_no, forecaster_no, CASE WHEN imputed THEN NULL ELSE seq END AS seq, imputed,
                       backfilled AND NOT imputed AS backfilled, kind, resolved_yes, outcome_index,
                       CASE WHEN NOT imputed THEN probability WHEN kind = 'binary' THEN 0.5 END AS probability,
                       CASE WHEN NOT imputed THEN probabilities
                            WHEN kind = 'multiple_choice' THEN list_transform(options, lambda x: 1.0 / len(options))
                       END AS probabilities,
                       {weight} AS weight
                FROM pieces)
            SELECT *,
                   CASE WHEN kind = 'binary' THEN 2 * (probability - resolved_yes) ^ 2
                        ELSE list_sum(list_transform(probabilities, lambda x, i: (x - (i = outcome_index)::INTEGER) ^ 2))
                   END AS brier_multi,
                   -ln(greatest({LOG_EPS}, least(1 - {LOG_EPS},
                       CASE WHEN kind = 'multiple_choice' THEN probabilities[outcome_index]
                            WHEN resolved_yes = 1 THEN probability ELSE 1 - probability END))) AS log_loss
            FROM weighted WHERE weight > 0"""

    @cached_property
    def excluded(self) -> Exclusions:
        """Count, in the filtered scope, the forecasts that do not enter the score, by reason."""
        selection = self.selection
        forecaster = "WHERE forecaster = ?" if selection.forecaster else ""
        row = self.con.execute(f"""
            SELECT count(*) FILTER (WHERE status IN ('open', 'due')),
                   count(*) FILTER (WHERE status = 'annulled'),
                   count(*) FILTER (WHERE status = 'resolved' AND NOT in_time),
                   count(*) FILTER (WHERE in_time AND backfilled AND ?::BOOLEAN),
                   count(*) FILTER (WHERE in_time AND NOT (backfilled AND ?::BOOLEAN))
                       - (SELECT count(seq) FROM {self.rows})
            FROM {self.candidates} {forecaster}""",
            [selection.exclude_backfilled, selection.exclude_backfilled,
             *([selection.forecaster] if selection.forecaster else [])]).fetchone()
        return Exclusions(*(int(x) for x in row))

    def status_counts(self) -> dict[str, dict[str, int]]:
        """Per forecaster, how many questions of the scope (whatever their status) they forecast on, by
        status: one pass of ``candidates`` for what the store's ``status_counts`` of each forecaster
        counts, when the scope is its filter (a tag, no ``since``)."""
        counts: dict[str, dict[str, int]] = {}
        for forecaster, status, n in self.con.execute(f"""
                SELECT forecaster, status, count(DISTINCT question_no) FROM {self.candidates}
                GROUP BY forecaster, status""").fetchall():
            counts.setdefault(forecaster, dict.fromkeys(("open", "due", "resolved", "annulled"), 0))[status] = n
        return counts

    def forecaster_names(self) -> list[str]:
        """The forecasters with a scored pair, by name."""
        return [name for (name,) in self.con.execute(f"""
            SELECT forecaster FROM {self.forecasters}
            WHERE forecaster_no IN (SELECT forecaster_no FROM {self.pairs}) ORDER BY forecaster_no""").fetchall()]

    def grouped(self, by: str | None) -> Grouped:
        """The selection labelled by a grouping: ``grp``, the group's name (``'all'`` for the whole
        selection), and ``grp_no``, its rank among the names from 0 (what numpy reads).

        By tag a question counts once in each of its tags (untagged: ``(none)``);
        by quarter or year of when the outcome became known.
        """
        if by in self._grouped:
            return self._grouped[by]
        name = f"{self._prefix}_by_{by or 'all'}"
        if by is None:
            keyed_rows = f"SELECT r.*, 'all' AS grp, 0 AS grp_no FROM {self.rows} r"
            keyed_pairs = f"SELECT p.*, 'all' AS grp, 0 AS grp_no FROM {self.pairs} p"
        else:
            check_grouping(by)
            key, keys = self._group_keys(by)
            # per question or forecaster: tiny next to the rows it labels
            self._create("TABLE", f"{name}_keys",
                         f"SELECT *, (dense_rank() OVER (ORDER BY grp) - 1)::INTEGER AS grp_no FROM ({keys})")
            keyed_rows = f"SELECT r.*, k.grp, k.grp_no FROM {self.rows} r JOIN {name}_keys k USING ({key})"
            keyed_pairs = f"SELECT p.*, k.grp, k.grp_no FROM {self.pairs} p JOIN {name}_keys k USING ({key})"
        grouped = Grouped(self, by, name)
        self._create("VIEW", grouped.rows, keyed_rows)
        self._create("VIEW", grouped.binary_rows, f"SELECT * FROM {grouped.rows} WHERE kind = 'binary'")
        self._create("VIEW", grouped.pairs, keyed_pairs)
        self._grouped[by] = grouped
        return grouped

    def _group_keys(self, by: str) -> tuple[str, str]:
        """(the key column, SQL of the (key, grp) relation) of a grouping."""
        questions = self.questions
        return {
            "forecaster": ("forecaster_no", f"SELECT forecaster_no, forecaster AS grp FROM {self.forecasters}"),
            "tag": ("question_no", f"SELECT question_no, unnest(CASE WHEN len(tags) = 0 THEN ['(none)'] ELSE tags END)"
                                   f" AS grp FROM {questions}"),
            "source": ("question_no", f"SELECT question_no, coalesce(source, '(none)') AS grp FROM {questions}"),
            "author": ("question_no", f"SELECT question_no, coalesce(author, '(none)') AS grp FROM {questions}"),
            "quarter": ("question_no", f"SELECT question_no, strftime(resolved_at, '%Y') || '-Q' || quarter(resolved_at)"
                                       f" AS grp FROM {questions}"),
            "year": ("question_no", f"SELECT question_no, strftime(resolved_at, '%Y') AS grp FROM {questions}"),
        }[by]

    def close(self) -> None:
        """Drop the TEMP tables and views this selection made."""
        for kind, name in reversed(self._created):
            self.con.execute(f"DROP {kind} IF EXISTS {name}")
        self._created.clear()
        self._grouped.clear()

    def __enter__(self) -> Scored:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@dataclass(frozen=True)
class Grouped:
    """The scored selection labelled by one grouping: relations with ``grp`` and ``grp_no`` columns.

    ``rows`` and ``pairs`` are :class:`Scored`'s with ``grp``; ``binary_rows``
    their yes/no rows; :attr:`values` the per-value sums that calibration,
    Murphy and CORP read, made on first use.
    """

    scored: Scored
    by: str | None
    name: str  # the prefix of its relations

    @property
    def rows(self) -> str:
        return f"{self.name}_rows"

    @property
    def binary_rows(self) -> str:
        return f"{self.name}_binary_rows"

    @property
    def pairs(self) -> str:
        return f"{self.name}_pairs"

    def execute(self, sql: str, params: list | None = None):
        """Run SQL over these relations on the selection's connection."""
        return self.scored.con.execute(sql, params or [])

    @cached_property
    def names(self) -> list[str]:
        """The group names, indexed by ``grp_no`` (read once: CORP and the intervals both label by them)."""
        if self.by is None:
            return ["all"]
        return [grp for (grp,) in self.execute(
            f"SELECT grp FROM (SELECT DISTINCT grp, grp_no FROM {self.name}_keys) ORDER BY grp_no").fetchall()]

    @cached_property
    def values(self) -> str:
        """Per group and distinct forecast value p of the yes/no rows: ``weight`` Σ w, ``yes_weight`` Σ w o,
        ``weight_sq`` Σ w², ``n_forecasts``, and ``exact``, p as the decimal the bins are decided on."""
        name = f"{self.name}_values"
        self.scored._create("TABLE", name, f"""
            SELECT grp, grp_no, probability, CAST(probability AS {DECIMAL}) AS exact, sum(weight) AS weight,
                   sum(weight * resolved_yes) AS yes_weight, sum(weight * weight) AS weight_sq,
                   count(seq) AS n_forecasts
            FROM {self.binary_rows} GROUP BY grp, grp_no, probability""")
        return name

"""The demo ledger: the worked example plus a realistic synthetic track record.

``ledger demo`` builds a fresh ledger in its own file (never the user's),
logs the prediction files of the repository (``predictions/*.yaml``; an
installed package uses the copy shipped beside this module), adds a seeded
synthetic history — several forecasters with different calibration, sources,
revisions, multiple-choice questions, a few annulled and backfilled questions,
a correction and an edit — and the report module turns it into a dashboard.

The history is written the way a ledger kept over three years would have
been: one commit per day of work (see :func:`_days`), each record carrying
the moment it was recorded (so only the deliberately backfilled forecasts
show as backfilled). It goes through the store's public writes (each one
checked as a user's command would be) into a ledger in memory, in one batch
(``Store.batch``: the rows inserted a statement a table), which is then
copied into the file whole: ``ledger verify`` checks it like any other ledger,
and an interrupted run leaves no half-written file. Same seed, same day: same
story (the question ids are drawn afresh, as ``ledger add`` draws them).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import LedgerError

if TYPE_CHECKING:
    from collections.abc import Callable

    from ledger.store import Store

__all__ = ["DEMO_COMMAND", "HISTORY_DAYS", "SEED", "DemoLedger", "build_demo_ledger", "default_demo_path", "generate",
           "is_demo_ledger", "prediction_files"]

SEED = 20250225
YEARS = 3
HISTORY_DAYS = 365 * YEARS  # the span of the story, the unit :func:`build_demo_ledger` reports progress in
# Every commit the demo writes is named "demo <command>": the mark by which a later run knows the
# file is a demo ledger it made, and the only kind of file it will ever replace.
DEMO_COMMAND = "demo"
DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file

# name: (outlet, slope k, noise): p = sigmoid(k · (truth + noise)).
# k > 1 overconfident, k < 1 underconfident.
FORECASTERS: dict[str, tuple[str, float, float]] = {
    "Ana Ruiz": ("The Strategy Letter", 1.0, 0.45),
    "Ben Okafor": ("Eastern Front Notes", 1.8, 0.55),
    "Chen Wei": ("Macro Weekly", 0.55, 0.5),
    "Dana Levi": ("Tech Policy Brief", 1.1, 0.8),
}

_CITIES = ["Pokrovsk", "Kostiantynivka", "Zaporizhzhia", "Kupiansk", "Huliaipole"]
_COUNTRIES = ["Brazil", "India", "Indonesia", "South Africa", "Turkey", "Vietnam"]
_BENCHES = ["ARC-AGI-2", "FrontierMath", "Humanity's Last Exam", "SWE-bench Verified"]

# tag: templates; {d} is the resolve-by date, other slots are filled at random.
_TEMPLATES: dict[str, list[str]] = {
    "russia": [
        "Russia and Ukraine agree a ceasefire that holds for at least 30 days by {d}",
        "Russia's central bank key rate is above {pct}% on {d}",
        "Vladimir Putin meets the US president in person by {d}",
        "Russian forces take control of {city} by {d}",
        "The EU adopts a new package of sanctions on Russia by {d}",
    ],
    "china": [
        "China's official real GDP growth for the year to {d} is at or above {gdp}%",
        "China holds live-fire exercises encircling Taiwan by {d}",
        "Xi Jinping visits {country} by {d}",
        "The US raises tariffs on Chinese goods above {tariff}% on average by {d}",
    ],
    "economy": [
        "US CPI inflation (year on year) is below {cpi}% in the last release before {d}",
        "The Federal Reserve cuts its policy rate at least {cuts} times by {d}",
        "Brent crude closes above ${oil} a barrel on {d}",
        "The S&P 500 closes above {spx} on {d}",
        "The euro trades above $1.{fx} on {d}",
    ],
    "middle-east": [
        "Israel and Saudi Arabia announce diplomatic normalisation by {d}",
        "A ceasefire in Gaza holds for at least 60 days by {d}",
        "The IAEA reports Iranian enrichment to 90% by {d}",
        "Houthi attacks on Red Sea shipping stop for three months by {d}",
    ],
    "tech": [
        "An AI model scores above {bench_pct}% on {bench} by {d}",
        "The EU fines a US tech company more than €{fine} billion by {d}",
        "TSMC's Arizona fab ships chips in volume by {d}",
        "The US Congress passes a federal AI law by {d}",
    ],
    "europe": [
        "Germany reforms its constitutional debt brake by {d}",
        "The ECB deposit rate is at or below {ecb}% on {d}",
        "France has a new prime minister by {d}",
        "NATO members agree a defence spending target above 3% of GDP by {d}",
    ],
}

_MULTIPLE_CHOICE: list[tuple[str, list[str], str]] = [
    ("Which party wins the most seats in the next {country} general election (held by {d})?",
     ["Incumbent party", "Main opposition", "Another party"], "elections"),
    ("Where is the Fed funds upper bound on {d}?", ["Below 4%", "4% to 4.5%", "Above 4.5%"], "economy"),
    ("Who controls {city} on {d}?", ["Ukraine", "Russia", "Contested"], "russia"),
    ("How many EU sanctions packages on Russia are adopted between now and {d}?",
     ["None", "One", "Two or more"], "russia"),
    ("Which lab tops the LMArena text leaderboard on {d}?",
     ["OpenAI", "Google", "Anthropic", "Another lab"], "tech"),
]

_ANNUL_REASONS = [
    "The index named in the criteria was discontinued before the resolve-by date.",
    "Both governments published contradictory figures and no source in the criteria settles it.",
    "The election was postponed indefinitely, so the question cannot be applied.",
    "The agreement was split into two treaties; the criteria do not say which one counts.",
]

_TITLES: dict[str, list[str]] = {
    "russia": ["Attrition, not breakthrough", "What Moscow can still afford", "The spring offensive that wasn't",
               "Sanctions at year three", "Counting tanks, counting roubles", "Why the front line barely moved"],
    "china": ["Beijing's growth target is a ceiling now", "The strait in the rainy season",
              "Tariffs and the trade-diversion trick", "Reading the Politburo readout", "Xi's travel diary"],
    "economy": ["The last mile of disinflation", "Oil, the Fed and the soft landing", "A rate path priced for perfection",
                "What the jobs data hides", "Markets are early again"],
    "middle-east": ["The normalisation track after Gaza", "Shipping lanes and Houthi leverage",
                    "Enrichment and the inspectors", "A truce is not a settlement"],
    "tech": ["Benchmarks are saturating faster than we think", "Brussels versus the platforms",
             "Fabs in the desert", "Washington's AI bill, again"],
    "europe": ["Berlin's debt brake after the election", "The ECB's patience runs out", "Paris and the confidence vote",
               "Hague summit arithmetic"],
}

# tag: how its questions are settled (one rule per domain, so every question's criteria fit it)
_CRITERIA: dict[str, str] = {
    "russia": "Resolves on reporting by two independent wire services (Reuters, AP, AFP); "
              "claims by one side only do not count.",
    "china": "Official Chinese or US government publications decide, confirmed by a wire service; "
             "the first published figure counts, not later revisions.",
    "economy": "The official release or exchange close for the date named (BLS, Federal Reserve, ICE, S&P Dow Jones); "
               "first prints count.",
    "middle-east": "A public statement by the governments or agencies named, confirmed by a wire service; "
                   "leaks and anonymous briefings do not count.",
    "tech": "Decided by the body named publishing it (the benchmark's leaderboard, the European Commission, "
            "TSMC's filings, Congress.gov), verified entries only.",
    "europe": "Official publications decide (Bundestag, ECB, Élysée, NATO communiqué); "
              "a later court challenge does not undo it.",
    "elections": "The official count of the national electoral commission; seats, not votes.",
}


@dataclass
class _History:
    start: date  # the story's first day: HISTORY_DAYS before today
    questions: list[dict[str, Any]] = field(default_factory=list)
    forecasts: list[dict[str, Any]] = field(default_factory=list)
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class DemoLedger:
    path: Path
    questions: int
    forecasts: int
    prediction_files: list[Path]


def default_demo_path() -> Path:
    """``$XDG_DATA_HOME/forecast-ledger/demo-ledger.duckdb``: the demo's own file. (Named anew when the
    demo began marking its ledgers, so an unmarked ``demo.duckdb`` of an older version is left alone.)"""
    from ledger.store import data_dir

    return data_dir() / "demo-ledger.duckdb"


def is_demo_ledger(path: Path) -> bool:
    """Whether ``path`` is a ledger ``ledger demo`` made: a DuckDB file (checked by its header
    before DuckDB opens it) whose first commit is a demo command."""
    import duckdb

    if path.is_symlink() or not path.is_file():
        return False
    with open(path, "rb") as handle:
        if handle.read(12)[8:12] != DUCKDB_MAGIC:
            return False
    # Read-only and closed to the outside: opening the file as a Store would migrate it.
    config = {"enable_external_access": False, "autoload_known_extensions": False}
    try:
        with duckdb.connect(str(path), read_only=True, config=config) as con:
            row = con.execute("SELECT command FROM commits ORDER BY id LIMIT 1").fetchone()
    except duckdb.Error:
        return False
    return row is not None and row[0].startswith(f"{DEMO_COMMAND} ")


def prediction_files() -> list[Path]:
    """The repository's ``predictions/*.yaml`` if this package runs from a checkout,
    else the copy shipped inside the package."""
    repo = Path(__file__).resolve().parents[2] / "predictions"
    files = sorted(repo.glob("*.yaml")) if repo.is_dir() else []
    return files or sorted(Path(__file__).resolve().parent.glob("*.yaml"))


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def _round_probability(p: float) -> float:
    """Analysts speak in 5% steps, and rarely go past 2% / 98%."""
    return min(0.98, max(0.02, round(p * 20) / 20 if 0.05 <= p <= 0.95 else round(p, 2)))


def _vector(rng: random.Random, logits: list[float]) -> list[float]:
    weights = [math.exp(x) for x in logits]
    total = sum(weights)
    rounded = [max(0.05, round(w / total * 20) / 20) for w in weights]
    rounded[-1] = round(1 - sum(rounded[:-1]), 10)
    if rounded[-1] < 0.05:  # renormalise exactly rather than go negative
        excess = 0.05 - rounded[-1]
        big = max(range(len(rounded) - 1), key=lambda i: rounded[i])
        rounded[big] = round(rounded[big] - excess, 10)
        rounded[-1] = 0.05
    return rounded


def _quote(rng: random.Random, statement: str, p: float | None) -> str:
    """The sentence of the article the prediction was taken from."""
    first, _, rest = statement.partition(" ")
    claim = f"{first.lower()} {rest}" if first in ("The", "A", "An") else statement
    if p is None:
        return rng.choice(["The race is more open than the polls suggest.",
                           "I would not bet heavily on any single outcome here."])
    word = ("almost certainly" if p >= 0.85 else "probably" if p >= 0.6 else "roughly a coin flip whether"
            if p >= 0.4 else "unlikely that" if p >= 0.15 else "very unlikely that")
    if word in ("almost certainly", "probably"):
        return f"Expect this: {claim} — {word}, in my reading of the evidence."
    return f"It is {word} {claim}."


def _moment(day: date, rng: random.Random) -> datetime:
    return datetime(day.year, day.month, day.day, rng.randint(7, 21), rng.randint(0, 59), rng.randint(0, 59))


N_ARTICLES = 64
_REVISION_NOTES = ["New polling.", "Talks stalled.", "Updated after the latest data release.",
                   "Moved on the official statement.", None]
_RESOLUTION_NOTES = ["Confirmed by official data.", "Per wire reports on the day.",
                     "Settled by the published statistics.", None]


@dataclass
class _Story:
    """What the generator carries from one question to the next.

    Every draw goes through ``rng`` in a fixed order, so the same seed and
    day tell the same story; the flags make the one correction and the one
    edit happen once.
    """

    rng: random.Random
    now: datetime
    today: date
    start: date
    archive_until: date  # Chen Wei's issues published before this are logged late ...
    archive_recorded: datetime  # ... all at this moment (backfilled)
    history: _History
    used: set[str] = field(default_factory=set)  # statements already asked
    annul_left: list[str] = field(default_factory=lambda: list(_ANNUL_REASONS))
    words: random.Random = field(default_factory=random.Random)  # wording only, so it never shifts the story
    corrected: bool = False
    edited: bool = False

    @classmethod
    def begin(cls, seed: int, today: date | None) -> _Story:
        from ledger.parse import utc_now

        rng = random.Random(seed)
        # A story told as of a given day ends that day (noon), so the same seed and day give the same records.
        now = utc_now() if today is None else datetime.combine(today, time(12))
        today = today or now.date()
        start = today - timedelta(days=HISTORY_DAYS)
        return cls(rng=rng, now=now, today=today, start=start, archive_until=start + timedelta(days=330),
                   history=_History(start=start), words=random.Random(seed + 1),
                   archive_recorded=_moment(start + timedelta(days=345), rng))

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(64):016x}"

    def fill(self, template: str, resolve_by: date) -> str:
        """A statement from its template: the date, and the other slots at random."""
        rng = self.rng
        values = {
            "d": resolve_by.isoformat(), "pct": rng.choice([12, 15, 18, 21]),
            "city": rng.choice(_CITIES), "country": rng.choice(_COUNTRIES),
            "gdp": rng.choice([4.5, 5, 5.5]), "tariff": rng.choice([20, 30, 40]),
            "cpi": rng.choice([2.5, 3, 3.5]), "cuts": rng.choice([1, 2, 3]),
            "oil": rng.choice([70, 80, 90, 100]), "spx": f"{rng.choice([5, 6, 7])},{rng.choice(['000', '500'])}",
            "fx": rng.choice(["05", "10", "15", "20"]), "bench_pct": rng.choice([50, 70, 85]),
            "bench": rng.choice(_BENCHES), "fine": rng.choice([1, 2, 5]), "ecb": rng.choice([1.5, 2, 2.5]),
        }
        return template.format(**values)


@dataclass(frozen=True)
class _Article:
    """One published analysis: its author, main tag and source fields."""

    author: str
    outlet: str
    noise: float
    published: date
    tag: str
    backfilled: bool
    title: str
    url: str


@dataclass
class _Question:
    """One question as it is told: the truth behind it and when it was logged."""

    qid: str
    article: _Article
    multiple: bool
    resolve_by: date
    recorded: datetime
    made: datetime
    options: list[str] | None = None
    truth: list[float] = field(default_factory=list)  # multiple choice: a latent score per option
    outcome_index: int = 0
    z: float = 0.0  # yes/no: the latent signal; it happens with probability sigmoid(z)
    outcome_yes: bool = False


def _article(story: _Story, index: int) -> _Article:
    """The ``index``-th analysis: authors take turns, with a few extra issues by the first two."""
    rng, names = story.rng, list(FORECASTERS)
    author = names[index % len(names)] if index % 9 else rng.choice(names[:2])
    outlet, _, noise = FORECASTERS[author]
    published = story.start + timedelta(days=int(rng.random() ** 0.8 * (HISTORY_DAYS - 20)))
    tag = rng.choice(list(_TEMPLATES))
    rng.choice(range(6))  # the draw the six generic titles took: the same seed still tells the same story
    title = story.words.choice(_TITLES[tag])
    slug = "-".join(title.lower().replace(":", "").split())
    return _Article(author=author, outlet=outlet, noise=noise, published=published, tag=tag,
                    backfilled=author == "Chen Wei" and published < story.archive_until, title=title,
                    url=f"https://example.org/{outlet.lower().replace(' ', '-')}/{published:%Y/%m}/{slug}")


def _question(story: _Story, article: _Article) -> _Question | None:
    """Draw a question of the article and log its row; None if its statement was asked already."""
    rng = story.rng
    multiple = rng.random() < 0.08
    resolve_by = article.published + timedelta(days=rng.randint(45, 720))
    qid = story.new_id()
    recorded = story.archive_recorded if article.backfilled else _moment(article.published, rng)
    made = _moment(article.published, rng) if article.backfilled else recorded
    if article.backfilled and made > recorded:
        made = recorded - timedelta(days=30)
    question = _Question(qid=qid, article=article, multiple=multiple, resolve_by=resolve_by, recorded=recorded,
                         made=made)
    if multiple:
        template, question.options, tag = rng.choice(_MULTIPLE_CHOICE)
        question.truth = [rng.gauss(0, 1.2) for _ in question.options]
        weights = [math.exp(x) for x in question.truth]
        question.outcome_index = rng.choices(range(len(question.options)), weights=weights)[0]
    else:
        template, tag = rng.choice(_TEMPLATES[article.tag]), article.tag
        question.z = rng.gauss(0, 1.6)
        question.outcome_yes = rng.random() < _sigmoid(question.z)
    statement = story.fill(template, resolve_by)
    if statement in story.used:
        return None
    story.used.add(statement)
    tags = [tag] + ([rng.choice(["us-foreign-policy", "markets", "conflict"])] if rng.random() < 0.3 else [])
    story.history.questions.append({
        "id": qid, "kind": "multiple_choice" if multiple else "binary", "statement": statement,
        "criteria": _CRITERIA[tag],
        "resolve_by": resolve_by, "options": question.options, "tags": tags,
        "source_title": article.title, "source_author": article.author, "source_outlet": article.outlet,
        "source_url": article.url, "source_published": article.published,
        "quote": _quote(rng, statement, None if multiple else _sigmoid(FORECASTERS[article.author][1] * question.z)),
        "created_at": recorded,
    })
    return question


@dataclass(frozen=True)
class _Ending:
    """When (if ever) a question's outcome becomes known, and when that is recorded."""

    resolved: bool
    known_at: datetime
    recorded_at: datetime
    horizon: datetime  # forecasts are made before this: the outcome, or the resolve-by date


def _ending(story: _Story, question: _Question) -> _Ending:
    rng = story.rng
    known = question.resolve_by - timedelta(days=rng.choice([0, 0, 0, 10, 40, 90]))
    known = max(known, question.article.published + timedelta(days=20))
    resolved = known < story.today - timedelta(days=5) and rng.random() > 0.02
    known_at = _moment(known, rng)
    if question.article.backfilled and known_at <= story.archive_recorded:
        known_at = story.archive_recorded + timedelta(days=rng.randint(5, 60))
    recorded_at = min(known_at + timedelta(days=rng.randint(0, 12), hours=2), story.now)
    horizon = known_at if resolved else min(story.now, datetime.combine(question.resolve_by, datetime.min.time()))
    return _Ending(resolved=resolved, known_at=known_at, recorded_at=recorded_at, horizon=horizon)


def _forecast_row(story: _Story, question: _Question, who: str, signal: float, when: datetime,
                  recorded_at: datetime, note: str | None) -> None:
    """Log a forecast by ``who``: the signal through their calibration slope."""
    rng, slope = story.rng, FORECASTERS[who][1]
    if question.multiple:
        probabilities = _vector(rng, [slope * (t + rng.gauss(0, FORECASTERS[who][2]))
                                      + (signal if i == question.outcome_index else 0)
                                      for i, t in enumerate(question.truth)])
        probability = None
    else:
        probability, probabilities = _round_probability(_sigmoid(slope * signal)), None
    story.history.forecasts.append({
        "question_id": question.qid, "forecaster": who, "probability": probability,
        "probabilities": probabilities, "made_at": when, "recorded_at": recorded_at, "note": note,
    })


def _forecasts(story: _Story, question: _Question, ending: _Ending) -> None:
    """The author's forecast, maybe revisions towards the outcome, and other forecasters weighing in."""
    rng, author = story.rng, question.article.author
    signal = 0.0 if question.multiple else question.z + rng.gauss(0, question.article.noise)
    _forecast_row(story, question, author, signal, question.made, question.recorded, None)
    # Revisions: information arrives, the signal moves towards the outcome.
    span = (ending.horizon - question.recorded).total_seconds()
    if span > 86400 * 20 and rng.random() < 0.35:
        for step in range(rng.randint(1, 2)):
            at = question.recorded + timedelta(seconds=span * rng.uniform(0.2 + 0.3 * step, 0.5 + 0.3 * step))
            if question.multiple:
                signal += rng.uniform(0.3, 1.0)
            else:
                target = 3.0 if question.outcome_yes else -3.0
                signal += (target - signal) * rng.uniform(0.2, 0.5) + rng.gauss(0, 0.3)
            _forecast_row(story, question, author, signal, at, at, rng.choice(_REVISION_NOTES))
    # Other forecasters weigh in on some questions (for relative scores).
    for other in FORECASTERS:
        if other != author and rng.random() < 0.3 and span > 86400 * 10:
            at = question.recorded + timedelta(seconds=span * rng.uniform(0.0, 0.3))
            other_signal = 0.0 if question.multiple else question.z + rng.gauss(0, FORECASTERS[other][2])
            _forecast_row(story, question, other, other_signal, at, at, None)


def _close(story: _Story, question: _Question, ending: _Ending) -> None:
    """Resolve, annul or correct the question, or (once, while open) extend its resolve-by date."""
    rng, author, history = story.rng, question.article.author, story.history
    if not ending.resolved:
        if not story.edited and question.resolve_by > story.today + timedelta(days=60):
            story.edited = True
            new_by = question.resolve_by + timedelta(days=182)
            history.edits.append({
                "question_id": question.qid, "field": "resolve_by", "value": f'"{new_by.isoformat()}"',
                "reason": "The vote was postponed by six months.", "editor": author,
                "recorded_at": min(story.now, question.recorded + timedelta(days=30)),
            })
        return
    resolution = {"question_id": question.qid, "resolved_at": ending.known_at, "resolver": author,
                  "recorded_at": ending.recorded_at}
    if story.annul_left and not question.multiple and rng.random() < 0.06:
        history.resolutions.append({**resolution, "outcome": None, "annulled": True,
                                    "note": story.annul_left.pop(), "evidence": None})
        return
    outcome = (question.options[question.outcome_index] if question.multiple
               else ("yes" if question.outcome_yes else "no"))
    resolution |= {"outcome": outcome, "annulled": False, "evidence": f"https://example.org/evidence/{question.qid[:8]}"}
    if not story.corrected and not question.multiple and ending.recorded_at + timedelta(days=10) < story.now:
        story.corrected = True
        wrong = "no" if outcome == "yes" else "yes"
        history.resolutions.append({**resolution, "outcome": wrong, "note": "Resolved on the first wire report."})
        history.resolutions.append({**resolution, "note": "Correction: the first report was retracted the next day.",
                                    "recorded_at": ending.recorded_at + timedelta(days=8)})
        return
    history.resolutions.append({**resolution, "note": rng.choice(_RESOLUTION_NOTES)})


def generate(seed: int = SEED, today: date | None = None) -> _History:
    """The synthetic history, as rows of the record tables (ids from the seed)."""
    story = _Story.begin(seed, today)
    for index in range(N_ARTICLES):
        article = _article(story, index)
        for _ in range(story.rng.randint(2, 4)):
            question = _question(story, article)
            if question is None:
                continue
            ending = _ending(story, question)
            _forecasts(story, question, ending)
            _close(story, question, ending)
    return story.history


def _events(history: _History) -> list[tuple[datetime, int, str, dict[str, Any]]]:
    """The history as the commands that would have written it, in recording order."""
    first: dict[str, dict[str, Any]] = {}
    events = []
    for row in history.forecasts:
        if row["question_id"] not in first:
            first[row["question_id"]] = row  # logged together with its question
        else:
            events.append((row["recorded_at"], 1, "forecast", row))
    events += [(row["created_at"], 0, "add", {**row, "forecast": first[row["id"]]}) for row in history.questions]
    events += [(row["recorded_at"], 2, "resolve", row) for row in history.resolutions]
    events += [(row["recorded_at"], 3, "edit", row) for row in history.edits]
    return sorted(events, key=lambda event: event[:2])


def _days(history: _History) -> list[tuple[datetime, list[tuple[str, dict[str, Any]]]]]:
    """The events grouped into commits: one per simulated day, each at its last event's moment.

    Every record of a commit is recorded at that moment, so a forecast made
    that day is logged as made then (only the deliberately backfilled ones
    keep an earlier moment). A day is split where keeping it whole would
    change the story: before an event on a question the commit already
    holds (an outcome in the same commit as a forecast marks it backfilled),
    and before the moment an outcome of one of its questions became known
    (a forecast may not move past it).
    """
    known = {row["question_id"]: row["resolved_at"] for row in history.resolutions}
    days: list[tuple[datetime, list[tuple[str, dict[str, Any]]]]] = []
    touched: set[str] = set()
    deadline = datetime.max
    for moment, _, command, row in _events(history):
        question = row["id"] if command == "add" else row["question_id"]
        if not days or moment.date() != days[-1][0].date() or question in touched or moment >= deadline:
            days.append((moment, []))
            touched, deadline = set(), datetime.max
        days[-1] = (moment, days[-1][1] + [(command, row)])
        touched.add(question)
        if command in ("add", "forecast") and question in known:
            deadline = min(deadline, known[question])
    return days


def _write_history(store, history: _History, on_progress: Callable[[int], None]) -> None:
    """Replay the history through the store's public writes, one commit per simulated day.

    ``on_progress(n)``: n more days of the story written (``HISTORY_DAYS`` in all).
    """
    ids: dict[str, str] = {}  # the story's question ids -> the ledger's
    written = history.start
    with store.batch():  # the rows inserted together, a statement a table, not one a record
        for moment, events in _days(history):
            commands = "+".join(dict.fromkeys(command for command, _ in events))
            with store.write(f"{DEMO_COMMAND} {commands}", at=moment) as writer:
                for command, row in events:
                    _replay(writer, command, row, ids)
            on_progress((moment.date() - written).days)
            written = moment.date()
    on_progress(HISTORY_DAYS - (written - history.start).days)  # the quiet days after the last commit


def _replay(writer, command: str, row: dict[str, Any], ids: dict[str, str]) -> None:
    """One event of the history, as the command that would have written it writes it."""
    import json

    from ledger.models import Forecast, Question, Resolution, Source

    if command == "add":
        source = Source(title=row["source_title"], author=row["source_author"], outlet=row["source_outlet"],
                        url=row["source_url"], published=row["source_published"])
        question = Question(statement=row["statement"], criteria=row["criteria"], resolve_by=row["resolve_by"],
                            options=row["options"], tags=row["tags"], source=source, quote=row["quote"])
        ids[row["id"]] = writer.add_question(question, _forecast(row["forecast"], Forecast))
    elif command == "forecast":
        writer.add_forecast(ids[row["question_id"]], _forecast(row, Forecast))
    elif command == "resolve":
        resolution = Resolution(outcome=row["outcome"], annulled=row["annulled"], resolved_at=row["resolved_at"],
                                note=row["note"], evidence=row["evidence"], resolver=row["resolver"])
        writer.resolve(ids[row["question_id"]], resolution)
    else:
        writer.edit(ids[row["question_id"]], row["field"], json.loads(row["value"]), reason=row["reason"],
                    editor=row["editor"])


def _forecast(row: dict[str, Any], model):
    """A forecast made when it is logged (its commit's moment), unless it was deliberately logged late."""
    made_at = row["made_at"] if row["made_at"] < row["recorded_at"] else None
    return model(forecaster=row["forecaster"], probability=row["probability"], probabilities=row["probabilities"],
                 made_at=made_at, note=row["note"])


def build_demo_ledger(path: Path | None = None, *, seed: int = SEED, files: list[Path] | None = None,
                      on_progress: Callable[[int], None] | None = None) -> tuple[Store, DemoLedger]:
    """Build the demo ledger afresh at ``path`` (default :func:`default_demo_path`).

    Returns it with an open store of the same records, for the report; the caller closes it.
    ``on_progress(n)``: n more days of the story written, :data:`HISTORY_DAYS` in all.

    The history is written into a ledger in memory, then copied into the file whole (see
    :func:`_save`): until the copy there is no file, so a run stopped half-way leaves none, and
    the records, hashes and commits are the same.
    """
    from ledger.predictions import log_file, read_file
    from ledger.store import default_path

    path = Path(path) if path else default_demo_path()
    if path.resolve() == default_path().resolve():
        raise LedgerError(f"{path} is your own ledger ($LEDGER_DB); the demo needs its own file")
    if path.exists() or path.is_symlink():
        if not is_demo_ledger(path):
            raise LedgerError(f"{path} exists and is not a demo ledger made by `ledger demo`; "
                              "refusing to replace it (choose another --demo-db)")
        _remove(path)
    files = prediction_files() if files is None else files
    history = generate(seed)
    store = _memory_store(path)
    try:
        _write_history(store, history, on_progress or (lambda n: None))
        for file in files:
            loaded = read_file(file)
            log_file(store, loaded.file, lines=loaded.lines, name=file.name)
        _save(store, path)
        counts = store.record_counts()
    except BaseException:
        store.close()
        raise
    return store, DemoLedger(path=path, questions=counts["questions"], forecasts=counts["forecasts"],
                             prediction_files=files)


def _memory_store(path: Path) -> Store:
    """An empty ledger in memory, migrated and with the code's views, named for the file it becomes.

    One thread: its statements touch a few hundred rows, and on a busy machine a second thread
    only adds hand-offs to each of them.
    """
    import duckdb

    from ledger import migrations
    from ledger.store import CONNECT_CONFIG, Store

    con = duckdb.connect(":memory:", config={**CONNECT_CONFIG, "threads": 1})
    migrations.migrate(con, migrations.MIGRATIONS)
    migrations.install_views(con)
    return Store(con, path)


def _save(store: Store, path: Path) -> None:
    """Copy every commit and record of the in-memory ``store`` into a new ledger file at ``path``,
    verbatim and in one transaction (the file is made by the store, empty and migrated, first).
    Should the copy fail, the file it made is removed: a run never leaves a ledger it cannot replace."""
    from ledger.chain import RECORD_TABLES
    from ledger.migrations import DERIVED
    from ledger.store import Store

    Store.open(path).close()
    con, literal = store.con, str(path).replace("'", "''")
    con.execute(f"ATTACH '{literal}' AS demo_file")
    try:
        con.execute("BEGIN TRANSACTION")
        for table in ("commits", *RECORD_TABLES, *DERIVED):  # the state its writes kept, too
            con.execute(f"INSERT INTO demo_file.main.{table} SELECT * FROM memory.main.{table}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        con.execute("DETACH demo_file")
        _remove(path)
        raise
    con.execute("DETACH demo_file")


def _remove(path: Path) -> None:
    """A demo ledger file and its write-ahead log."""
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)

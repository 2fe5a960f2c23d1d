"""Text for people: the one home of every small display rule.

Pure functions, no I/O and no heavy imports, shared by the CLI, the review
minutes, the calendar and the report, so that a forecast, a date, an id or a
URL reads the same wherever it is shown. Stored moments are naive UTC;
people read local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ledger.records import StoredForecast, StoredQuestion, StoredSource

__all__ = [
    "MISSING",
    "SHORT_ID_LENGTH",
    "count",
    "first_error",
    "forecast_text",
    "interval",
    "is_http_url",
    "local_time",
    "number",
    "outcome_text",
    "percent",
    "percent_fixed",
    "plural",
    "short_id",
    "source_line",
    "validation_message",
    "visible",
]

MISSING = "–"  # a number that is not defined (no scored questions, no interval)
SHORT_ID_LENGTH = 8
# http(s) and nothing a renderer could read as the end of the URL or as markup
# (whitespace, angle brackets, quotes, backticks, backslashes): a link may be
# made of a URL only if it matches.
_HTTP_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$", re.IGNORECASE)
# What a terminal (or a calendar app) obeys instead of showing: C0 controls, DEL, C1
# controls (ESC and CSI start escape sequences) and the bidi embeddings, overrides and
# isolates that make `gnp.exe` read as `exe.png`.
_UNSEEN = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def visible(text: object, *, newlines: bool = False) -> str:
    """User text as it may be shown to a person: every control character and bidi
    override written out (``\\x1b``, ``\\u202e``) instead of obeyed.

    Stored text keeps what the user gave; this is only how it is displayed, so a
    statement cannot clear the screen, move the cursor or reverse what follows it.
    ``newlines`` keeps line breaks where the display is multi-line (a description).
    """

    def spell(match: re.Match) -> str:
        char = match[0]
        if newlines and char == "\n":
            return char
        if char in _NAMED:
            return _NAMED[char]
        return f"\\x{ord(char):02x}" if ord(char) <= 0xFF else f"\\u{ord(char):04x}"

    return _UNSEEN.sub(spell, str(text))


def short_id(question_id: str) -> str:
    """The typeable form of a question id (a unique prefix is enough to find it)."""
    return question_id[:SHORT_ID_LENGTH]


def plural(n: int, noun: str) -> str:
    """``1 day``, ``3 days``: a count with its noun, so messages never say ``1 questions``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def is_http_url(text: str | None) -> bool:
    """Whether ``text`` (stripped) is an http(s) URL that is safe to make a link of."""
    return bool(text) and bool(_HTTP_URL.match(text.strip()))


def local_time(moment: datetime | None) -> str:
    """A stored (naive UTC) moment in the reader's local time, to the minute."""
    if moment is None:
        return ""
    return moment.replace(tzinfo=UTC).astimezone().strftime("%Y-%m-%d %H:%M")


def number(value: float | None, digits: int = 3) -> str:
    """A score with fixed decimals; ``–`` when it is not defined."""
    return MISSING if value is None else f"{value:.{digits}f}"


def percent(probability: float | None, *, significant: int = 4, missing: str = "") -> str:
    """A probability as a percentage to ``significant`` figures: ``70%``, ``33.33%``.

    Forecasts keep the precision they were given (so 0.125 shows as 12.5%,
    not 13%); ``missing`` is what an undefined value shows as.
    """
    return missing if probability is None else f"{probability * 100:.{significant}g}%"


def percent_fixed(value: float | None, decimals: int = 0) -> str:
    """A share with fixed decimals for aligned tables; with ``decimals=0`` a share that is
    not a whole percentage gets one decimal, so a bin edge like 97.5% is not shown as 98%."""
    if value is None:
        return MISSING
    text = f"{value * 100:.{decimals}f}%"
    return text if decimals or abs(value * 100 - round(value * 100)) < 1e-9 else f"{value * 100:.1f}%"


def interval(ci: list[float] | tuple[float, float] | None, digits: int = 3, *, joiner: str = " to ",
             missing: str = "") -> str:
    """A confidence interval as ``low to high`` with fixed decimals; ``missing`` when there is none."""
    return missing if not ci else f"{number(ci[0], digits)}{joiner}{number(ci[1], digits)}"


def count(value: float | int | None) -> str:
    """A count with thousands separators; a time-weighted (fractional) count keeps one decimal."""
    if value is None:
        return MISSING
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def forecast_text(question: StoredQuestion, forecast: StoredForecast | None) -> str:
    """``70%``, or ``A 50% / B 30% / C 20%`` for a multiple-choice question."""
    if forecast is None:
        return ""
    if forecast.probability is not None:
        return percent(forecast.probability)
    pairs = zip(question.options, forecast.probabilities, strict=True)
    return " / ".join(f"{option} {percent(p)}" for option, p in pairs)


def outcome_text(question: StoredQuestion) -> str:
    """The current resolution in a word: the outcome, ``annulled``, or empty while open."""
    resolution = question.resolution
    if not resolution:
        return ""
    return "annulled" if resolution.annulled else str(resolution.outcome)


def source_line(source: StoredSource | None) -> str:
    """Where a prediction comes from on one line: ``title · author · outlet · date · <url>``."""
    if not source:
        return ""
    parts = [text for text in (source.title, source.author, source.outlet) if text]
    if source.published:
        parts.append(str(source.published))
    if source.url:
        parts.append(f"<{source.url}>")
    return " · ".join(parts)


def first_error(error) -> tuple[list[str | int], str]:
    """The first problem of a pydantic ``ValidationError``: its location and its message
    without pydantic's ``Value error,`` prefix (our validators' messages are written for people)."""
    first = error.errors()[0]
    return list(first["loc"]), first["msg"].removeprefix("Value error, ")


def validation_message(error: Exception) -> str | None:
    """One line from a pydantic ValidationError: ``field: what is wrong``; None for anything else."""
    from pydantic import ValidationError

    if not isinstance(error, ValidationError):
        return None
    loc, message = first_error(error)
    where = ".".join(str(part) for part in loc)
    return f"{where}: {message}" if where else message

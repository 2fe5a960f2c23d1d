"""When a forecast resolves: a proposed resolve-by date from the sentence's time expressions.

Read relative to the publication date: "this year" is 31 December of that
year, "next year" the one after, "by 2030" / "in 2030" 31 December 2030,
"in the second quarter of 2024" / "2Q24" the quarter's last day, "by spring
2023" the season's last day, "in June" the month's last day, "in the coming
weeks" eight weeks on, "the coming months" / "the near term" six months on,
"over the next decade" ten years on, "by the end of the decade" 31 December
of its last year, "in Q3" this year's third quarter (next year's if it is past). The latest expression in the sentence
wins: a forecast "for 2024 and 2025" resolves when both can be judged.

Also "today" / "tomorrow" / "tonight" (the next day), "this weekend" / "the
weekend" / "on Sunday" (a week on), "Election Day" / "the midterms" (the next
US general election, first Tuesday after the first Monday of November in an
even year), "next season", "the rest of the year", "the projection period" /
"the medium term" (three years, as the Fed's projections run).

When the sentence names no time, the frame the text sets is read instead
(:func:`resolve_by`'s ``context``: the neighbouring sentences, the title, the
opening lines: "Weekend box office preview", "2024 predictions"), and the
basis says where it came from. When none does, the proposal is the default
horizon, one year after publication unless told otherwise, and says so
(``default`` is true) so the reviewer knows it was a guess. Without a
publication date only absolute expressions ("by 2030", "June 2026") can be read.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

__all__ = ["DEFAULT_HORIZON_DAYS", "Horizon", "resolve_by", "election_day"]

DEFAULT_HORIZON_DAYS = 365
_MONTHS = {name.lower(): number for number, name in enumerate(calendar.month_name) if name}
_MONTHS |= {name.lower(): number for number, name in enumerate(calendar.month_abbr) if name}
_SEASON_END = {"spring": (5, 31), "summer": (8, 31), "fall": (11, 30), "autumn": (11, 30), "winter": (2, 28)}
_YEAR = r"((?:19|20)\d{2})"
_I = re.IGNORECASE


@dataclass(frozen=True)
class Horizon:
    """A proposed resolve-by date and what it was read from."""

    when: date | None
    basis: str
    default: bool


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def _plus_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _season(name: str, year: int) -> date:
    month, last = _SEASON_END[name.lower()]
    year = year + 1 if name.lower() == "winter" else year
    return date(year, month, calendar.monthrange(year, month)[1] if month == 2 else last)


def _absolute(text: str) -> list[tuple[date, str]]:
    """Dates the text names outright, whatever the publication date."""
    found = []
    for match in re.finditer(r"\b(?:(?P<q>[1-4])Q(?P<yy>\d{2})|Q(?P<q2>[1-4])\s+" + _YEAR + r")\b", text):
        quarter = int(match["q"] or match["q2"])
        year = 2000 + int(match["yy"]) if match["yy"] else int(match[4])
        found.append((_month_end(year, quarter * 3), match.group()))
    for match in re.finditer(r"\b(?P<ord>first|second|third|fourth)\s+quarter\s+of\s+" + _YEAR, text, _I):
        quarter = ("first", "second", "third", "fourth").index(match["ord"].lower()) + 1
        found.append((_month_end(int(match[2]), quarter * 3), match.group()))
    for match in re.finditer(r"\b(?P<half>first|second)\s+half\s+of\s+" + _YEAR, text, _I):
        found.append((_month_end(int(match[2]), 6 if match["half"].lower() == "first" else 12), match.group()))
    for match in re.finditer(r"\b(?P<season>spring|summer|fall|autumn|winter)\s+(?:of\s+)?" + _YEAR, text, _I):
        found.append((_season(match["season"], int(match[2])), match.group()))
    for match in re.finditer(r"\b(?P<month>[A-Z][a-z]{2,8})\.?\s+(?:\d{1,2},\s+)?" + _YEAR, text):
        if (month := _MONTHS.get(match["month"].lower())) is not None:
            found.append((_month_end(int(match[2]), month), match.group()))
    taken = [text.find(basis) for _, basis in found]
    for match in re.finditer(r"\b" + _YEAR + r"(?:[-–](?P<to>\d{2,4}))?\b", text):
        if any(start <= match.start() < start + len(basis) for start, (_, basis) in zip(taken, found)):
            continue
        year = int(match[1])
        if match["to"]:
            year = int(match["to"]) if len(match["to"]) == 4 else year // 100 * 100 + int(match["to"])
        found.append((date(year, 12, 31), match.group()))
    return found


def election_day(after: date) -> date:
    """The next US general election on or after ``after``: the Tuesday after the first Monday of November
    of an even year."""
    year = after.year + after.year % 2
    while True:
        first_monday = date(year, 11, 1) + timedelta(days=(7 - date(year, 11, 1).weekday()) % 7)
        if (day := first_monday + timedelta(days=1)) >= after:
            return day
        year += 2


def _relative(text: str, published: date) -> list[tuple[date, str]]:
    """Dates the text gives relative to when it was written."""
    year = published.year
    rules = (
        (r"\bthis\s+(?:calendar\s+)?year\b|\b(?:the\s+)?end\s+of\s+(?:the|this)\s+year\b|\byear-end\b|\bby\s+year'?s\s+end\b",
         lambda m: date(year, 12, 31)),
        (r"\bnext\s+year\b|\bthe\s+(?:coming|next)\s+year\b", lambda m: date(year + 1, 12, 31)),
        (r"\bthis\s+(?P<s>spring|summer|fall|autumn|winter)\b", lambda m: _season(m["s"], year)),
        (r"\bnext\s+(?P<s>spring|summer|fall|autumn|winter)\b", lambda m: _season(m["s"], year + 1)),
        (r"\bthis\s+(?:season|cycle|election)\b|\bupcoming\s+(?:season|election)\b", lambda m: published + timedelta(days=300)),
        (r"\bthis\s+month\b", lambda m: _month_end(year, published.month)),
        (r"\bnext\s+month\b", lambda m: _month_end(_plus_months(published, 1).year, _plus_months(published, 1).month)),
        (r"\bthis\s+week(?:end)?\b|\bon\s+(?:Friday|Saturday|Sunday)\b|\b(?:the|its|opening|debut|domestic)\s+weekend\b|"
         r"\bby\s+Sunday\b", lambda m: published + timedelta(days=7)),
        # not "tomorrow's containment", "today's world": the possessive is figurative
        (r"\b(?:today|tonight|tomorrow)\b(?!['’]s)", lambda m: published + timedelta(days=1)),
        (r"\bElection\s+Day\b|\b(?:the|this\s+year's|November's)\s+midterms?\b", lambda m: election_day(published)),
        (r"\bnext\s+season\b", lambda m: published + timedelta(days=300 + 365)),
        (r"\b(?:the\s+)?(?:rest|remainder|balance)\s+of\s+(?:the|this)\s+year\b|\b(?:the\s+)?year\s+as\s+a\s+whole\b|"
         r"\bsecond\s+half\s+of\s+(?:the|this)\s+year\b", lambda m: date(year, 12, 31)),
        (r"\b(?:the|its)\s+projection\s+period\b|\b(?:the|over\s+the)\s+medium[- ]term\b", lambda m: date(year + 3, 12, 31)),
        (r"\bnext\s+week(?:end)?\b", lambda m: published + timedelta(days=14)),
        (r"\b(?:in\s+)?the\s+(?:coming|next\s+few)\s+weeks\b", lambda m: published + timedelta(weeks=8)),
        (r"\b(?:in\s+)?the\s+(?:coming|next\s+few)\s+months\b|\bnear[- ]term\b|\bmonths\s+ahead\b",
         lambda m: _plus_months(published, 6)),
        (r"\b(?:over\s+)?the\s+(?:next|coming)\s+decade\b", lambda m: date(year + 10, 12, 31)),
        (r"\b(?:by\s+)?the\s+end\s+of\s+(?:the|this)\s+decade\b", lambda m: date(year // 10 * 10 + 9, 12, 31)),
        (r"\b(?:in|by|during)\s+Q(?P<q>[1-4])\b(?!\s*\d)",  # a bare quarter: this year's, or next year's if past
         lambda m: _month_end(year + (int(m["q"]) * 3 < published.month), int(m["q"]) * 3)),
        (r"\b(?:within|over|in)\s+the\s+next\s+(?P<n>\d+|two|three|five|ten)\s+(?P<unit>months|years)\b",
         lambda m: _plus_months(published, {"two": 2, "three": 3, "five": 5, "ten": 10}.get(m["n"], None)
                                or int(m["n"]) * (12 if m["unit"] == "years" else 1))
         if m["unit"] == "months" else date(year + ({"two": 2, "three": 3, "five": 5, "ten": 10}.get(m["n"])
                                                   or int(m["n"])), 12, 31)),
        (r"\b(?:in|by|before)\s+(?P<month>January|February|March|April|May|June|July|August|September|October|"
         r"November|December)\b(?!\s+\d)", lambda m: _month_end(year + (_MONTHS[m["month"].lower()] < published.month),
                                                                 _MONTHS[m["month"].lower()])),
    )
    return [(rule(match), match.group()) for pattern, rule in rules for match in re.finditer(pattern, text, _I)]


# "Today" in another sentence is as often "nowadays" ("the threat we face today") as the day: it dates only
# the sentence that says it, never its neighbours.
_SENTENCE_ONLY = frozenset({"today", "tonight", "tomorrow"})


@lru_cache(maxsize=4096)  # a text's sentences are looked up again as the context of each forecast near them
def _expressions(text: str, published: date | None) -> list[tuple[date, str]]:
    found = _absolute(text)
    if published is not None:
        found = [(when, basis) for when, basis in found if when >= published] + _relative(text, published)
    return found


def resolve_by(text: str, published: date | None, context=(), default_days: int = DEFAULT_HORIZON_DAYS) -> Horizon:
    """The proposed resolve-by date for a forecast sentence written on ``published``: from the sentence's own
    time expressions, else from ``context`` ((where, text) pairs, nearest first: "the previous sentence",
    "the title"…), else ``default_days`` after publication, flagged as the default."""
    for where, words in (("", text), *context):
        found = [(when, basis) for when, basis in _expressions(words, published) if not where
                 or basis.lower() not in _SENTENCE_ONLY] if words else []
        if found:
            when, basis = max(found)
            return Horizon(when, f"{basis!r} in {where}" if where else basis, False)
    if published is None:
        return Horizon(None, "no time expression and no publication date: set resolve_by by hand", True)
    return Horizon(published + timedelta(days=default_days),
                   f"no time expression: default horizon of {default_days} days after publication", True)

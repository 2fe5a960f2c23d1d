"""Explicit probabilities in prose: "a 70% chance", "3-to-1 odds", "1 in 4", "(65%)", "85: X".

A percentage counts only when the text ties it to a chance word (chance,
probability, odds, likelihood, risk, prospect, likely), or stands alone in
parentheses as analysts annotate scenarios ("our base case (65%)"), or opens
a line of a predictions list ("85: Average home prices rise", "70%: X").
Growth rates, vote shares and market moves are percentages too, and are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SOURCE = "explicit number in the text"

_WORD_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "a hundred": 100, "hundred": 100,
}
_COUNT = r"(?:\d+|" + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True)) + ")"
_PERCENT = r"(?P<a>\d{1,3}(?:\.\d+)?)(?:\s*(?:-|–|to)\s*(?P<b>\d{1,3}(?:\.\d+)?))?\s*(?:%|percent\b|per\s+cent\b)"
_CHANCE_NOUN = r"(?:chances?|probabilit(?:y|ies)|likelihood|odds|risks?|prospects?|possibilit(?:y|ies))"
_CHANCE = r"(?:" + _CHANCE_NOUN + r"|likely)"

_PATTERNS = (
    # "a 70% chance", "60-70% probability", "35% recession probability", "90% likely"
    re.compile(_PERCENT + r"(?:\s+[\w-]+){0,2}?\s+" + _CHANCE + r"\b", re.IGNORECASE),
    # "the probability of a recession in the next 12 months at 44%", "chances ... at 77 percent"
    re.compile(r"\b" + _CHANCE_NOUN + r"\b(?:\s+(?![\w-]*%)[^\s.;!?]+){0,16}?\s+" + _PERCENT, re.IGNORECASE),
    # "our base case (65%)", "Colorado (85 percent)"
    re.compile(r"\(\s*" + _PERCENT + r"(?:\s+" + _CHANCE_NOUN + r")?\s*\)", re.IGNORECASE),
)
# "less than 5%", "<10% chance", "under 1 percent": the probability is somewhere below N.
_BELOW = re.compile(r"(?:<\s*|\b(?:less than|under|below|fewer than)\s+(?:an?\s+)?)(?P<a>\d{1,2}(?:\.\d+)?)\s*(?:%|percent\b)"
                    r"(?=(?:\s+[\w-]+){0,2}?\s+" + _CHANCE + r"\b|\s*\))", re.IGNORECASE)
# A predictions list's line that opens with its probability: "85: X", "70%: X", "60% - X". Two digits only:
# "1: X", "2: X" is a numbered list far more often than a 1% call, and a bare "22 Republicans will" a count.
_LIST_PREFIX = re.compile(r"^\s*(?P<a>[1-9]\d)(?:\s*:|\s*%\s*[:\-–—]?)(?=\s+\S)")
# Bookmakers' fractional odds against: "at 4/6", "odds of 2/1" -> P = den / (num + den).
_FRACTIONAL_ODDS = re.compile(r"\b(?:at|odds of|priced at|is|are)\s+(?P<n>\d{1,3})/(?P<m>\d{1,3})\b(?!/)", re.IGNORECASE)
_ODDS = (
    # "3-to-1 odds", "odds of 3 to 1", "odds are 3-to-1 against"
    re.compile(r"(?P<n>" + _COUNT + r")[\s-]+to[\s-]+(?P<m>" + _COUNT + r")\s+odds(?P<against>\s+against)?", re.IGNORECASE),
    re.compile(r"\bodds\s+(?:are\s+|of\s+|at\s+)?(?P<n>" + _COUNT + r")[\s-]*(?:to|:)[\s-]*(?P<m>" + _COUNT + r")(?P<against>\s+against)?", re.IGNORECASE),
)
# "1 in 4 chance", "a one-in-three chance", "almost 4 out of 5", "50:50 chance"
_FRACTION = re.compile(
    r"(?<![$\d.,])(?P<k>" + _COUNT + r")[\s-]+(?:in|out[\s-]+of)[\s-]+(?P<n>(?!(?:19|20)\d\d\b)" + _COUNT + r")\b(?=(?:\s+[\w-]+){0,2}?\s+" + _CHANCE
    + r"|\s*[,.;)])|(?P<even>\b(?:50[-:/]50|fifty-fifty)\s+(?:chance|odds|proposition|bet)\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Explicit:
    """A probability written as a number, where it is in the sentence, and the text that said it."""

    probability: float
    low: float
    high: float
    start: int
    end: int
    text: str


def _count(word: str) -> float:
    return float(word) if word[0].isdigit() else float(_WORD_NUMBERS[word.lower()])


def _percent(match: re.Match[str]) -> Explicit | None:
    low = float(match.group("a")) / 100
    high = float(match.group("b")) / 100 if match.group("b") else low
    if not 0 <= low <= high <= 1:
        return None
    text = match.group()
    if len(text.split()) > 5:  # "probability of a recession ... at 44%": keep the two ends
        text = f"{text.split()[0]} … {match.string[match.start('a'):match.end()]}"
    return Explicit(round((low + high) / 2, 4), low, high, match.start(), match.end(), text)


def _odds(match: re.Match[str]) -> Explicit | None:
    n, m = _count(match.group("n")), _count(match.group("m"))
    if n + m == 0:
        return None
    # "3-to-1 odds" that X: three chances for, one against; "against" turns it round.
    probability = (m if match.group("against") else n) / (n + m)
    return Explicit(round(probability, 4), round(probability, 4), round(probability, 4),
                    match.start(), match.end(), match.group())


def _list_prefix(match: re.Match[str]) -> Explicit:
    probability = float(match.group("a")) / 100
    return Explicit(probability, probability, probability, match.start("a"), match.end(), match.group().strip())


def _fraction(match: re.Match[str]) -> Explicit | None:
    if match.group("even"):
        return Explicit(0.5, 0.5, 0.5, match.start(), match.end(), match.group())
    k, n = _count(match.group("k")), _count(match.group("n"))
    if n == 0 or k > n:
        return None
    probability = round(k / n, 4)
    return Explicit(probability, probability, probability, match.start(), match.end(), match.group())


def _below(match: re.Match[str]) -> Explicit | None:
    high = float(match.group("a")) / 100
    return Explicit(round(high / 2, 4), 0.0, high, match.start(), match.end(), match.group())


def _fractional_odds(match: re.Match[str]) -> Explicit | None:
    against, for_ = float(match.group("n")), float(match.group("m"))
    if against + for_ == 0:
        return None
    probability = round(for_ / (against + for_), 4)
    return Explicit(probability, probability, probability, match.start("n"), match.end(), match.group()[match.start("n") - match.start():])


def find(sentence: str) -> list[Explicit]:
    """Every explicit probability in a sentence, in order; overlapping readings keep the first."""
    found = [
        reading
        for patterns, read in ((_PATTERNS, _percent), (_ODDS, _odds), ((_FRACTION,), _fraction), ((_BELOW,), _below),
                               ((_FRACTIONAL_ODDS,), _fractional_odds), ((_LIST_PREFIX,), _list_prefix))
        for regex in patterns
        for match in regex.finditer(sentence)
        if (reading := read(match)) is not None
    ]
    found.sort(key=lambda reading: (reading.start, -reading.end))
    kept: list[Explicit] = []
    for reading in found:
        if not kept or reading.start >= kept[-1].end:
            kept.append(reading)
    return kept

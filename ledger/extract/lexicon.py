"""The estimative-language lexicon: which words imply which probability, says who.

``lexicon.csv`` (package data) has one row per phrase and source: the
probability the phrase implies, the range (low, high), its kind, and the
source of the number. Rows are ordered by preference and the first row for a
phrase wins:

1. published standards for analytic writing — ICD 203 (probability = middle
   of the band, range = the band), the UK PHIA yardstick, Kent's table
   (centre ± his spread) — because analysts are trained to write to them;
2. survey medians of how readers understand the phrase (range = the
   interquartile range), larger sample first, for phrases no standard defines;
3. Forecast Ledger mappings, each naming the band it borrows, for idioms no
   one has measured ("doomed to fail", "would never", "is set to").

Later rows for the same phrase stay in the file so the alternatives can be
audited. Two kinds of phrase:

- ``estimate``: says how likely ("probably", "odds are", "unlikely", "we expect");
- ``assertion``: claims an outcome ("will", "would never", "doomed to fail"); its
  number applies when no estimate hedges it, and a denial ("will not") turns
  an estimate's probability around;
- ``rating``: a step of the handicappers' scale ("rating lean" for "Leans R"),
  read by :mod:`~ledger.extract.cues` from rating lines, never matched as a word;
- ``default``: the one row ``(no cue)``, for a sentence the detector takes for a
  forecast with no cue the rules can read; never matched as a word.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

ESTIMATE, ASSERTION, RATING, DEFAULT = "estimate", "assertion", "rating", "default"
# The reading of a forecast sentence with no cue at all (a pick, a verbless headline, a present-tense call).
NO_CUE = "(no cue)"


@dataclass(frozen=True)
class Entry:
    """One phrase of the lexicon and the probability it implies."""

    phrase: str
    probability: float
    low: float
    high: float
    kind: str
    source: str

    @property
    def denies(self) -> bool:
        """An assertion that the outcome will not happen ("would never", "won't")."""
        return self.kind == ASSERTION and self.probability < 0.5


@lru_cache(maxsize=1)
def entries() -> dict[str, Entry]:
    """Phrase (lower case, straight apostrophes) -> its preferred entry."""
    chosen: dict[str, Entry] = {}
    with resources.files("ledger.extract").joinpath("lexicon.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            phrase = row["phrase"].strip().lower()
            chosen.setdefault(
                phrase,
                Entry(phrase, float(row["probability"]), float(row["low"]), float(row["high"]),
                      row["kind"], row["source"]),
            )
    return chosen


def _alternative(phrase: str) -> str:
    body = r"\s+".join(re.escape(word) for word in phrase.split())
    # "'ll" attaches to the word before it ("it'll"); other phrases start a word. A phrase
    # ends a word, but may sit in quotation marks ('zero likelihood'): only "'s", "'ll"... extend it.
    left = r"(?<=\w)" if phrase.startswith("'") else r"(?<!\w)"
    return left + body + r"(?!\w|'\w)"


@lru_cache(maxsize=1)
def pattern() -> re.Pattern[str]:
    """One regex for every phrase, longest first so "would not be surprised" beats "would not"."""
    phrases = sorted((phrase for phrase, entry in entries().items() if entry.kind in (ESTIMATE, ASSERTION)),
                     key=lambda phrase: (-len(phrase), phrase))
    return re.compile("|".join(_alternative(phrase) for phrase in phrases), re.IGNORECASE)

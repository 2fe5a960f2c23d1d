"""``ledger extract``: find the forecasts in an analysis and draft a prediction file.

The pipeline, one module each:

- :mod:`~ledger.extract.document`: input (text, Markdown, HTML) to readable
  paragraphs and source metadata; sentences via pySBD;
- :mod:`~ledger.extract.cues`: whether a sentence forecasts, with what
  probability (from :mod:`~ledger.extract.numbers` or the
  :mod:`~ledger.extract.lexicon`), denied or affirmed, under what condition;
- :mod:`~ledger.extract.statement`: the draft resolvable statement;
- :mod:`~ledger.extract.drafts`: the draft prediction file (YAML).

Everything is deterministic: the same input gives the same candidates in the
same order, so a re-run gives the same file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ledger.extract import cues, document, statement


@dataclass(frozen=True)
class Candidate:
    """One forecast-bearing sentence and the draft prediction read from it."""

    quote: str
    statement: str
    probability: float
    probability_range: tuple[float, float]
    cue: str
    lexicon_source: str
    polarity: str  # "affirms" or "denies": whether the quote denies the statement
    conditional: bool
    condition: str | None

    def as_dict(self) -> dict:
        return {**asdict(self), "probability_range": list(self.probability_range)}


def candidate(sentence: str) -> Candidate | None:
    """The candidate a single sentence gives, or None."""
    if document.is_boilerplate(sentence):
        return None
    reading = cues.read(sentence)
    if reading is None:
        return None
    condition = reading.condition.text if reading.condition is not None else None
    return Candidate(
        quote=sentence,
        statement=statement.draft(sentence, reading),
        probability=round(reading.probability, 3),
        probability_range=(round(reading.low, 3), round(reading.high, 3)),
        cue=reading.cue,
        lexicon_source=reading.source,
        polarity="denies" if reading.denies else "affirms",
        conditional=condition is not None,
        condition=condition,
    )


def extract(paragraphs: list[str]) -> list[Candidate]:
    """Every candidate in the paragraphs, in reading order."""
    return [
        found
        for paragraph in paragraphs
        for sentence in document.sentences(paragraph)
        if (found := candidate(sentence)) is not None
    ]


def extract_text(raw: str) -> list[Candidate]:
    """Candidates from a raw input (plain text, Markdown or HTML)."""
    return extract(document.read_document(raw).paragraphs)

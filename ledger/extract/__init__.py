"""``ledger extract``: find the forecasts in an analysis and draft a prediction file.

The pipeline, one module each:

- :mod:`~ledger.extract.document`: input (text, Markdown, HTML) to readable
  paragraphs and source metadata; sentences via pySBD;
- :mod:`~ledger.extract.syntax`: the spaCy parse (identity-checked pipeline);
- :mod:`~ledger.extract.features` and :mod:`~ledger.extract.detector`: how
  sure the learned detector is that a sentence is a forecast in the text's
  own voice (:mod:`~ledger.extract.structure` supplies the parse facts);
- :mod:`~ledger.extract.cues`: with what probability the words say it
  (from :mod:`~ledger.extract.numbers` or the :mod:`~ledger.extract.lexicon`),
  denied or affirmed, under what condition, one reading per forecast;
- :mod:`~ledger.extract.statement`: the draft resolvable statement, made
  self-contained from the preceding sentences, and draft criteria;
- :mod:`~ledger.extract.horizon`: the proposed resolve-by date;
- :mod:`~ledger.extract.drafts`: the draft prediction file (YAML).

Candidates come ranked by the detector's confidence (reading order among
equals). Everything is deterministic: the same input and options give the
same candidates in the same order, so a re-run gives the same file.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date

from ledger.extract import cues, document, horizon, lexicon, statement

__all__ = ["Candidate", "read_sentence", "extract", "extract_text"]


@dataclass(frozen=True)
class Candidate:
    """One forecast found in the text and the draft prediction read from it."""

    quote: str
    statement: str
    probability: float
    probability_range: tuple[float, float]
    cue: str
    lexicon_source: str
    polarity: str  # "affirms" or "denies": whether the quote denies the statement
    conditional: bool
    condition: str | None
    confidence: float
    resolve_by: date | None
    resolve_by_basis: str
    default_horizon: bool
    needs_context: str | None
    criteria: str

    def as_dict(self) -> dict:
        data = asdict(self) | {"probability_range": list(self.probability_range)}
        return data | {"resolve_by": self.resolve_by.isoformat() if self.resolve_by else None}


def _uncued(sentence: str) -> cues.Reading:
    """A sentence the detector takes for a forecast with no cue the rules can read ("Buffalo takes a step back")."""
    entry = lexicon.entries()[lexicon.NO_CUE]
    return cues.Reading(entry.probability, entry.low, entry.high, "", entry.source, 0, False, cues.find_condition(sentence))


def read_sentence(sentence: str, confidence: float = 1.0, previous=(), title=None,
                  published: date | None = None, time_context=(),
                  default_days: int = horizon.DEFAULT_HORIZON_DAYS) -> list[Candidate]:
    """The drafts the rules read from one sentence, one per forecast it makes, whatever the detector thinks:
    ``previous`` (parsed preceding sentences) and ``title`` (parsed) resolve "this strategy" / "it";
    ``time_context`` ((where, text) pairs, nearest first) dates a sentence that names no time itself."""
    readings = cues.read_all(sentence) or [_uncued(sentence)]
    when = horizon.resolve_by(sentence, published, time_context, default_days)
    found = []
    for reading in readings:
        drafted, unresolved = statement.self_contained(statement.draft(sentence, reading), previous, title)
        condition = reading.condition.text if reading.condition is not None else None
        found.append(Candidate(
            quote=sentence, statement=drafted, probability=round(reading.probability, 3),
            probability_range=(round(reading.low, 3), round(reading.high, 3)), cue=reading.cue,
            lexicon_source=reading.source, polarity="denies" if reading.denies else "affirms",
            conditional=condition is not None, condition=condition, confidence=round(confidence, 3),
            resolve_by=when.when, resolve_by_basis=when.basis, default_horizon=when.default,
            needs_context=unresolved, criteria=statement.criteria(drafted, when.when)))
    return found


def time_context(sentences: list[str], index: int, title: str | None) -> list[tuple[str, str]]:
    """Where to look for the time frame of sentence ``index`` when it names none, nearest first: its
    neighbours, the title, the text's opening lines (a headline or lede such as "Weekend preview"), then
    the first sentence of the text that names a time (a predictions list says "2024" once, at its top)."""
    places = [("the previous sentence", index - 1), ("the sentence before that", index - 2),
              ("the next sentence", index + 1)]
    context = [(where, sentences[i]) for where, i in places if 0 <= i < len(sentences)]
    return context + [("the title", title or ""), ("the opening lines", " ".join(sentences[:3]))] + [
        ("an earlier sentence" if i < index else "a later sentence", sentences[i])
        for i in sorted(range(len(sentences)), key=lambda i: abs(i - index)) if abs(i - index) > 2]


def extract(paragraphs: list[str], *, published: date | None = None, outlet: str | None = None,
            title: str | None = None, min_confidence: float | None = None,
            default_days: int = horizon.DEFAULT_HORIZON_DAYS) -> list[Candidate]:
    """Every candidate in the paragraphs whose detector confidence reaches ``min_confidence``
    (default: the threshold chosen by cross-validation on train + dev), most confident first; ``default_days`` is the
    resolve-by horizon proposed when neither the sentence nor its context names a time."""
    from ledger.extract import detector, features, syntax

    sentences = [s for paragraph in paragraphs for s in document.sentences(paragraph) if not document.is_boilerplate(s)]
    if not sentences:
        return []
    parsed = syntax.parse(sentences + ([title] if title else []))
    title_doc = parsed.pop() if title else None
    day = published or date(2000, 1, 1)  # only years after it count as future without a date
    threshold = detector.model().threshold if min_confidence is None else min_confidence
    found = []
    for index, (sentence, found_features) in enumerate(zip(sentences, features.for_document(sentences, parsed, day,
                                                                                           outlet))):
        confidence = detector.confidence(found_features)
        if confidence >= threshold:
            found += read_sentence(sentence, confidence, parsed[max(0, index - 3):index], title_doc, published,
                                   time_context(sentences, index, title), default_days)
    return sorted(found, key=lambda candidate: -candidate.confidence)


def extract_text(raw: str, **options) -> list[Candidate]:
    """Candidates from a raw input (plain text, Markdown or HTML); options as for :func:`extract`."""
    return extract(document.read_document(raw).paragraphs, **options)

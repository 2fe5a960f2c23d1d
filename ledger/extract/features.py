"""The features the forecast detector weighs: parse, lexicon and date facts about one sentence.

Named features say what the rules know (a cue from the lexicon, an explicit
number, the main verb's tense and modal, whose voice it is, a future date,
the line type); hashed lemma unigrams and bigrams let the model learn the
idioms of each domain ("on track to", "is the pick", "set to") from the
labelled corpus rather than from a hand list. Hashing uses CRC-32, so the
same sentence gives the same features on every machine and Python version.
"""

from __future__ import annotations

import re
import zlib
from datetime import date

from ledger.extract import cues, horizon, structure

__all__ = ["HASH_BUCKETS", "is_lexical", "features", "document_context", "for_document", "future_years"]

HASH_BUCKETS = 1 << 14
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
_RELATIVE_FUTURE = re.compile(r"\b(?:next|coming|upcoming|this)\s+(?:year|season|month|week|weekend|winter|summer|"
                              r"spring|fall|autumn|quarter|decade|election|cycle)\b|\bby\s+(?:the\s+end\s+of|year-end|"
                              r"end-\d{4})|\bin\s+the\s+(?:coming|next)\b|\bthrough\s+(?:19|20)\d{2}\b", re.IGNORECASE)


_WILL = {"'ll": "will", "wo": "will", "shall": "will"}
_ATTRIBUTION = re.compile(r"\b(?:said|says|told|tells|according to|wrote|writes|noted|added|believes|predicts|"
                          r"predicted|responded|stated|argues|argued|reckons|reported)\b", re.IGNORECASE)
_OPENING, _CLOSING = "“‘", "”’"


def future_years(text: str, published: date) -> tuple[int, int]:
    """How many year numbers in ``text`` lie after, and before, the publication year."""
    years = [int(year) for year in _YEAR.findall(text)]
    return sum(year > published.year for year in years), sum(year < published.year for year in years)


def _hash(name: str) -> str:
    return f"h{zlib.crc32(name.encode()) % HASH_BUCKETS}"


def is_lexical(name: str) -> bool:
    """Is ``name`` a hashed lemma n-gram (the training script regularises these harder than named features)?"""
    return name[:1] == "h" and name[1:].isdigit()


def _lexical(sentence) -> list[str]:
    lemmas = [token.lemma_.lower() for token in sentence if not token.is_punct and not token.is_space]
    grams = lemmas + [f"{a} {b}" for a, b in zip(lemmas, lemmas[1:])]
    return [_hash(gram) for gram in grams]


def document_context(sentences, outlet: str | None) -> tuple[dict[str, float], frozenset[str]]:
    """Facts about the whole text that decide whose voice a sentence is in: does the text speak in the
    first person anywhere, is it mostly reporting what others said, and the outlet's own name words
    (a reprinted agency text says "CBO projects" of itself)."""
    subjects = [structure.person(structure.subject(structure.root(sentence))) for sentence in sentences]
    reported = sum(structure.reported_by_third_party(sentence) for sentence in sentences)
    context = {}
    if "first" in subjects or any(token.lower_ in ("we", "our", "i", "my") for s in sentences for token in s):
        context["doc:first_person"] = 1.0
    if sentences and reported / len(sentences) >= 0.25:
        context["doc:reporting"] = 1.0
    names = frozenset(word.lower() for word in re.findall(r"[A-Za-z]{2,}", outlet or "")) - _OUTLET_NOISE
    return context, names


_OUTLET_NOISE = frozenset("the reprinted quoted reposted by text minutes of and news blog".split())


def features(text: str, sentence, published: date, context: dict[str, float] | None = None,
             outlet_words: frozenset[str] = frozenset()) -> dict[str, float]:
    """The detector's view of one sentence: ``text`` as written, ``sentence`` its spaCy parse, ``context``
    and ``outlet_words`` from :func:`document_context`."""
    found: dict[str, float] = dict(context or {})

    def on(name: str, value: float = 1.0) -> None:
        found[name] = value

    head = structure.root(sentence)
    modal = next((child.lower_ for child in head.children if child.tag_ == "MD"), "none")
    on(f"modal:{_WILL.get(modal, modal)}")
    on(f"root_tag:{head.tag_}")
    who = structure.subject(head)
    on(f"subject:{structure.person(who)}")
    if who is not None and structure.names_someone(who):
        on("subject_proper_noun")
    if who is not None and outlet_words & {token.lower_ for token in who.subtree}:
        on("subject_is_outlet")
    if head.lemma_ in structure.FORECASTING:
        on(f"forecasting_verb:{structure.person(who)}")
    if head.lemma_ in structure.REPORTING:
        on(f"reporting_verb:{structure.person(who)}")
    on(f"line:{structure.line_type(text, sentence)}")
    for name, test in (("reported_by_third_party", structure.reported_by_third_party),
                       ("generic_you", structure.generic_you),
                       ("negative_quantifier_subject", structure.negative_quantifier_subject),
                       ("own_plan", structure.own_plan), ("past_report", structure.past_report),
                       ("revises_forecast", structure.revises_forecast)):
        if test(sentence):
            on(name)
    reading = cues.read(text)
    if reading is not None:
        on(f"cue:{reading.source.split(' ')[0].lower()}")
        on("cue")
        if (where := structure.embedded_cue(sentence, reading.cue_start)) is not None:
            on(f"cue_in:{where}")
        if reading.condition is not None:
            on("conditional")
    after, before = future_years(text, published)
    if after:
        on("future_year")
    if before:
        on("past_year")
    if _RELATIVE_FUTURE.search(text):
        on("relative_future")
    if not horizon.resolve_by(text, published).default:
        on("time_expression")
    if text.rstrip(" \"'”’)").endswith("?"):
        on("question")
    if re.search(r"[\"“”]", text):
        on("quotation")
    if re.search(r"\bif\b|\bunless\b", text, re.IGNORECASE):
        on("if")
    if _ATTRIBUTION.search(text):
        on("attribution")
    if (kind := structure.attributed_clause(sentence)) is not None:
        on(f"attributed:{kind}")
    words = len(text.split())
    on(f"length:{min(words // 10, 4)}")
    # Whose voice depends on the document: the same cue means a forecast in a first-person outlook and a
    # report in a news story about one. A linear model needs the products spelt out.
    voice = [name for name in ("doc:reporting", "doc:first_person", "subject_is_outlet", "attribution",
                               "attributed:named", "attributed:group", "quote:inside", "neighbour:reported",
                               "revises_forecast")
             if name in found]
    for name in [n for n in found if n == "cue" or n.startswith(("modal:", "forecasting_verb:", "line:", "subject:"))]:
        for other in voice:
            found[f"{name}&{other}"] = 1.0
    for name in _lexical(sentence):
        found[name] = 1.0
    return found


def _quote_depths(texts: list[str]) -> list[bool]:
    """For each sentence, does it lie inside a quotation: opened before it and not yet closed, or opened in
    it and left open (a quoted speech split over several lines of the text)? Straight double quotes
    toggle; curly ones open and close. Apostrophes (’ inside a word) are not quotes."""
    inside, result = False, []
    for text in texts:
        marks = re.findall(r'"|“|”|(?<!\w)‘|’(?!\w)', text)
        starts_inside = inside
        for mark in marks:
            inside = (not inside) if mark == '"' else mark in _OPENING
        result.append(starts_inside or inside)
    return result


def _speaks_for_others(text: str, doc) -> bool:
    return bool(_ATTRIBUTION.search(text)) or structure.reported_by_third_party(doc) \
        or structure.attributed_clause(doc) is not None


def for_document(texts: list[str], docs, published: date, outlet: str | None) -> list[dict[str, float]]:
    """The features of every sentence of one text (``texts`` as written, ``docs`` their parses, in order):
    the one place both extraction and training compute them, so the two never drift apart. Beyond each
    sentence's own features, whose voice its neighbours are in: a forecast quoted over several lines, or
    a blockquote whose speaker is named in the line before ("he responded:") or after ("…,” Steyn said"),
    is reported speech even where the sentence itself names no one."""
    context, outlet_words = document_context(docs, outlet)
    quoted = _quote_depths(texts)
    others = [_speaks_for_others(text, doc) for text, doc in zip(texts, docs)]
    rows = []
    for index, (text, doc) in enumerate(zip(texts, docs)):
        extra = dict(context)
        if quoted[index]:
            extra["quote:inside"] = 1.0
        if (index > 0 and others[index - 1]) or (index + 1 < len(texts) and others[index + 1]):
            extra["neighbour:reported"] = 1.0
        rows.append(features(text, doc, published, extra, outlet_words))
    return rows

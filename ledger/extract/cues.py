"""Reading one sentence: is it a forecast, how likely does it say, under what condition?

A sentence is a candidate when it holds a cue that makes a resolvable claim
about the future: an explicit number, an estimative word from the lexicon, or
an assertion ("will", "would never", "doomed to fail"). Cues in a clause about
the past ("economists assigned a 38% probability"), the author's own plans
("we will discuss"), embedded questions ("how bad the season will be") and
nouns ("the will of the people") are not.

Precedence: an explicit number beats an estimative word, which beats an
assertion. A negation before an estimate ("not likely", "don't expect") and a
denying assertion near it ("probably won't") each turn the probability
around, so the probability is always that of the statement *without* the
negation: "Congress would never allow X" reads as a low probability that
Congress allows X.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ledger.extract import lexicon, numbers

__all__ = ["Condition", "Reading", "normalise", "find_condition", "rating", "read", "read_all"]

# Same length in and out, so offsets in the normalised text are offsets in the sentence.
_NORMALISE = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"'})

_CLAUSE_BREAK = re.compile(r"[,;:()\"—–]|\s-\s|--")
_PAST = re.compile(r"\b(?:had|was|were|did|once|previously|used to|assigned|gave|saw)\b", re.IGNORECASE)
_EMBEDDED_QUESTION = re.compile(r"\b(?:how|whether|what|when|where|why)\b", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")
_NEGATOR = re.compile(r"^(?:not|never|no|hardly|\w+n't)$", re.IGNORECASE)
_FIRST_PERSON = frozenset({"i", "we"})
# A word before "will" that makes it the noun: "the will of", "political will".
_NOUN_WILL = frozenset({"the", "political", "free", "good", "ill", "own", "their", "his", "her", "its",
                        "popular", "at", "against", "last", "strong", "public"})
# Fixed terms that contain an estimative word but estimate nothing.
_NOT_ESTIMATES = re.compile(r"^\s+(?:voters?|cause|outcomes?\s+of)\b", re.IGNORECASE)
# Unhedged "will": a forecast about the world, unless it is the author's plan or an embedded question.
_WILL_FORMS = frozenset({"will", "'ll", "will not", "won't", "will never"})
# "might not X", "may not X": the possibility that X does not happen, so the probability of X turned round.
_POSSIBILITY_MODALS = frozenset({"may", "might"})
_NOT_AFTER = re.compile(r"\s+(?:not|never)\b", re.IGNORECASE)
# A handicapper's rating: "Leans GOP", "Likely Democratic", "Toss-up"; the last one in a line is the current one.
_RATING = re.compile(r"\b(?P<step>toss[- ]?up|tilts?|lean(?:s|ing)?|likely|safe|solid)\b(?=\s+(?:r|d|dem|dems|gop|rep|"
                     r"democratic|democrat|democrats|republican|republicans)\b)|\b(?P<tossup>toss[- ]?ups?)\b", re.IGNORECASE)
_RATING_STEP = {"toss": "toss-up", "tilt": "tilt", "lean": "lean", "likely": "likely", "safe": "safe", "solid": "solid"}
# A pick written as a headline: "Arsenal to win the league", "Verstappen to take the title" (no verb before "to").
_PICK_LINE = re.compile(r"^\W*[A-Z][\w.'&-]*(?:\s+(?:[A-Z0-9][\w.'&-]*|of|the|and|&|de|van|von))*\s+to\s+"
                        r"(?:win|beat|take|claim|lift|retain|defend|top|finish|make|reach|go)\b")
_ASSERTION_REACH = 80  # characters: how far a denial ("won't") may sit from the estimate it turns around

_CONDITIONS = (
    # "Even if X, Y", "Unless X, Y", "Absent X, Y"
    re.compile(r"^\W*(?P<c>(?:even if|if|unless|without|absent|barring|provided that|as long as|in the event that)\b"
               r"[^,;]*?)\s*,\s+", re.IGNORECASE),
    # "... - absent X - Y"
    re.compile(r"[—–]\s*(?P<c>(?:even if|if|unless|absent|barring|without)\b[^—–]*?)\s*[—–]", re.IGNORECASE),
    # "Y, unless X"
    re.compile(r",\s*(?P<c>(?:even if|unless|if|barring|provided that|as long as)\b[^,;”\"]*)", re.IGNORECASE),
)


@dataclass(frozen=True)
class Condition:
    """The condition a forecast is made under, and where it sits in the sentence."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Reading:
    """What a sentence forecasts: probability, range, the cue that said so and where."""

    probability: float
    low: float
    high: float
    cue: str
    source: str
    cue_start: int
    denies: bool  # the sentence denies the statement ("would never"): a negation was taken out
    condition: Condition | None


def normalise(text: str) -> str:
    return text.translate(_NORMALISE)


def find_condition(sentence: str) -> Condition | None:
    """The first "if/unless/even if/absent" condition, without its parenthetical asides."""
    for regex in _CONDITIONS:
        if match := regex.search(sentence):
            text = re.sub(r"\s*\([^()]*\)", "", match.group("c")).strip(" ,;.!-—–")
            return Condition(text, match.start("c"), match.end("c"))
    return None


def _clause_prefix(text: str, position: int) -> str:
    """The text of the clause before ``position`` (from the last comma, dash or quote)."""
    breaks = [match.end() for match in _CLAUSE_BREAK.finditer(text, 0, position)]
    return text[breaks[-1] if breaks else 0:position]


@dataclass(frozen=True)
class _Match:
    entry: lexicon.Entry
    start: int
    end: int
    negated: bool  # "not likely", "don't expect", "might not"
    cue_start: int  # including a negation before it
    cue_end: int  # including a negation after it


def _negator(text: str, cue_start: int, taken: list[tuple[int, int]]) -> int | None:
    """Where a negation starts among the last three words before a cue, unless another cue owns it."""
    clause_start = cue_start - len(_clause_prefix(text, cue_start))
    words = list(_WORD.finditer(text, clause_start, cue_start))[-3:]
    for word in words:
        if _NEGATOR.match(word.group()) and not any(start <= word.start() < end for start, end in taken):
            return word.start()
    return None


def _keep(text: str, match: re.Match[str], entry: lexicon.Entry) -> bool:
    """False for cues that do not forecast here: past, own plans, questions, nouns, months."""
    prefix = _clause_prefix(text, match.start())
    words = prefix.lower().split()
    before = words[-1] if words else ""
    if match.group() == "May" and match.start() > 0:  # the month
        return False
    if _NOT_ESTIMATES.match(text[match.end():]):
        return False
    if _PAST.search(prefix):
        return False
    if entry.phrase in _WILL_FORMS:
        if entry.phrase == "will" and before in _NOUN_WILL:
            return False
        attached = re.findall(r"(\w+)$", text[:match.start()].lower())
        subject = attached[0] if entry.phrase == "'ll" and attached else before
        if subject in _FIRST_PERSON or _EMBEDDED_QUESTION.search(prefix):
            return False
    return True


def _lexicon_matches(text: str) -> list[_Match]:
    entries = lexicon.entries()
    raw = [(match, entries[normalise(match.group()).lower().replace("\n", " ")])
           for match in lexicon.pattern().finditer(text)]
    raw = [(match, entry) for match, entry in raw if _keep(text, match, entry)]
    taken = [(match.start(), match.end()) for match, _ in raw]
    result = []
    for match, entry in raw:
        start, end, negated = match.start(), match.end(), False
        if entry.kind == lexicon.ESTIMATE:
            if (negator := _negator(text, start, taken)) is not None:
                start, negated = negator, True
            elif entry.phrase in _POSSIBILITY_MODALS and (after := _NOT_AFTER.match(text, end)):
                end, negated = after.end(), True
        result.append(_Match(entry, match.start(), match.end(), negated, start, end))
    return result


def _turned(probability: float, low: float, high: float) -> tuple[float, float, float]:
    return round(1 - probability, 4), round(1 - high, 4), round(1 - low, 4)


def rating(sentence: str) -> Reading | None:
    """The current rating a handicapper's line gives ("Florida Toss-up Leans GOP" -> Lean), or None."""
    steps = list(_RATING.finditer(sentence))
    if not steps:
        return None
    last = steps[-1]
    word = (last.group("step") or last.group("tossup")).lower()
    entry = lexicon.entries()["rating " + next(v for k, v in _RATING_STEP.items() if word.startswith(k))]
    return Reading(entry.probability, entry.low, entry.high, last.group(), entry.source, last.start(), False, None)


def read(sentence: str) -> Reading | None:
    """The forecast a sentence makes, or None when it makes none."""
    if sentence.rstrip(" \"'”’)").endswith("?"):
        return None
    if (rated := rating(normalise(sentence))) is not None:
        return rated
    condition = find_condition(sentence)
    text = normalise(sentence)
    if condition is not None:  # cues inside the condition are not the forecast
        text = text[:condition.start] + " " * (condition.end - condition.start) + text[condition.end:]
    explicit = [reading for reading in numbers.find(text) if not _PAST.search(_clause_prefix(text, reading.start))]
    matches = _lexicon_matches(text)
    estimates = [match for match in matches if match.entry.kind == lexicon.ESTIMATE]
    assertions = [match for match in matches if match.entry.kind == lexicon.ASSERTION]

    if explicit:
        number = explicit[0]
        probability, low, high = number.probability, number.low, number.high
        cue, source, start, denies = number.text, numbers.SOURCE, number.start, False
    elif estimates:
        estimate = estimates[0]
        entry = estimate.entry
        probability, low, high = entry.probability, entry.low, entry.high
        start, denies = estimate.cue_start, estimate.negated
        cue, source = sentence[start:estimate.cue_end], entry.source
        if denies:
            probability, low, high = _turned(probability, low, high)
    elif assertions:
        assertion = assertions[0]
        entry = assertion.entry
        return Reading(entry.probability, entry.low, entry.high, sentence[assertion.start:assertion.end],
                       entry.source, assertion.start, entry.denies, condition)
    elif _PICK_LINE.match(text):
        entry = lexicon.entries()["is the pick"]  # the picks band: a confident call, not a certain one
        return Reading(entry.probability, entry.low, entry.high, text[:_PICK_LINE.match(text).end()].strip(),
                       entry.source, 0, False, condition)
    else:
        return None

    denial = next((match for match in assertions
                   if match.entry.denies and abs(match.start - start) <= _ASSERTION_REACH
                   and ";" not in text[min(start, match.start):max(start, match.start)]), None)
    if denial is not None:
        probability, low, high = _turned(probability, low, high)
        denies = not denies
        said = sentence[denial.start:denial.end]
        cue = f"{said} … {cue}" if denial.start < start else f"{cue} … {said}"
    return Reading(probability, low, high, cue, source, start, denies, condition)


# Where one sentence holds several forecasts: "X will rise in 2024 and fall in 2025; Y will ..."
_SEVERAL = re.compile(r";\s+|,\s+(?:and|but|while|whereas)\s+|\s+[—–]\s+|\.\s+(?=[A-Z])")


def read_all(sentence: str) -> list[Reading]:
    """One reading per forecast the sentence makes: one per explicit probability when it gives several,
    else one per coordinated clause that has a cue of its own, else the single reading."""
    text = normalise(sentence)
    explicit = numbers.find(text)
    if len(explicit) > 1 and rating(text) is None:
        condition = find_condition(sentence)
        return [Reading(n.probability, n.low, n.high, n.text, numbers.SOURCE, n.start, False, condition) for n in explicit]
    readings, start = [], 0
    for cut in [*_SEVERAL.finditer(text), None]:
        end = cut.start() if cut else len(text)
        clause = sentence[start:end]
        if (reading := read(clause)) is not None:
            readings.append(Reading(reading.probability, reading.low, reading.high, reading.cue, reading.source,
                                    reading.cue_start + start, reading.denies, reading.condition and Condition(
                                        reading.condition.text, reading.condition.start + start,
                                        reading.condition.end + start)))
        start = cut.end() if cut else start
    single = read(sentence)
    return readings if len(readings) > 1 else [single] if single is not None else []

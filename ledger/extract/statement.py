"""Drafting a resolvable statement from a forecast sentence.

The draft is the claim the sentence makes, stripped of everything that is
not the claim: the condition (kept separately), asides in parentheses,
attribution ("analysts say", "according to"), framing ("our assessment is
that", "there is a 40% chance that") and the estimative words themselves,
with the verb put in the future ("is most likely doomed to fail" -> "will
fail"). Negations the probability already accounts for are removed, so
"Congress would never allow X" drafts as "Congress will allow X" (at a low
probability). It is a draft for a person to finish, not a parse: the rules
cover the common constructions of analytic prose and leave the rest as
written.
"""

from __future__ import annotations

import re

from ledger.extract.cues import Condition, Reading, normalise

_I = re.IGNORECASE
_NUMBER = r"(?:[\d.]+(?:\s*(?:-|to)\s*[\d.]+)?\s*(?:%|percent|per cent)|[\w]+-in-[\w]+|\d+\s+in\s+\d+|[\d.]+-to-[\d.]+|50[-:/]50|fifty-fifty)"
_CHANCE = r"(?:chances?|probability|likelihood|odds|risk|possibility|prospects?)"
_HEDGES = (r"(?:very|highly|most|more|less|quite|fairly|increasingly|still|also|now|not|never|almost|all but|virtually|"
           r"likely|probably|certainly|surely|easily|well|ever|currently|only|just|" + _NUMBER + r")")
_OUTCOME_WORDS = (r"(?:likely|unlikely|expected|set|poised|certain|sure|bound|doomed|destined|going|on course|"
                  r"on track|favou?red|probable|improbable)")

# Split a sentence into coordinated clauses; the statement is the clause holding the cue.
_COORDINATION = re.compile(r",\s+(?:and|but|while|whereas)\s+|\s*[—–]\s*(?:and|but)\s+|;\s+")
# A colon before the cue introduces the claim ("Russia sees the same risk: X could...").
_COLON = re.compile(r":\s+")
_LEADING_CONCESSION = re.compile(r"^\W*(?:while|although|though|whereas)\s+(?P<first>[^,]+),\s+(?P<rest>.+)$", _I)

_QUOTED_ATTRIBUTION = re.compile(
    r"^\W*\"(?P<q>.+?)[,.]?\"\s*,?\s+(?:[\w.'-]+\s+){0,8}?(?:said|says|added|adds|wrote|writes|noted|notes|"
    r"warned|warns|told|stressed)\b.*$", _I)
_TRAILING_ATTRIBUTION = re.compile(
    r",?\s+(?:according to [^,.]+|(?:[\w'.-]+\s+){0,5}(?:say|says|said|told\s+\w+|warn|warns|warned|note|notes|"
    r"noted)(?:\s+[\w.]+){0,3})\s*[.!]?$", _I)
_INNER_ATTRIBUTION = re.compile(r"(?:^|,\s*)according to [^,]+,\s*", _I)
_LEADING_SPEAKER = re.compile(r"^(?:[\w'.-]+\s+){1,6}?(?:said|says|told\s+\w+|argues|argued|noted|notes|warned|warns)"
                              r"\s+(?:that\s+)?", _I)
_RELATIVE_ASIDE = re.compile(r",\s*(?:who|which)\s+[^,]+,", _I)
_CONNECTIVES = re.compile(
    r"^(?:(?:however|but|and|so|still|yet|also|moreover|additionally|in addition|in totality|of course|obviously|"
    r"meanwhile|therefore|thus|overall|indeed|furthermore|on the contrary|in fact|instead|as a result|in short)\b,?"
    r"|as [^,]{0,60}?,)\s*", _I)
# A clause that starts with its predicate ("..., and likely to change again") borrows the sentence's subject.
_PREDICATE_FIRST = re.compile(r"^\s*(?:" + r"(?:very|highly|most|almost|probably|likely|unlikely|expected|set|poised|certain|"
                              r"sure|bound|doomed|will|won't|would|could|may|might)\b)", _I)
_SUBJECT = re.compile(r"^\W*(?P<subj>[\w'.-]+(?:\s+[\w'.-]+){0,5}?)\s+(?:is|are|was|were|has|have|had|remains?|"
                      r"stands?|looks?|seems?|\w+s)\b")

# Framing that precedes the claim itself.
_FRAMES = (
    (re.compile(r"^\W*the\s+(?:next\s+)?most\s+likely\s+(?P<what>outcome|result|scenario|winner)(?P<when>[^:]*?)\s*"
                r"(?:\bis|:)\s+(?P<x>.+)$", _I), r"The \g<what>\g<when> will be \g<x>"),
    (re.compile(r"^.*?\b(?:puts?|places?|placed)\s+the\s+" + _CHANCE + r"\s+(?:of|that)\s+(?P<x>.+?)\s+at\s+"
                r"(?:about\s+|around\s+|roughly\s+)?" + _NUMBER + r".*$", _I), r"\g<x>"),
    (re.compile(r"^(?P<subj>.+?)\s+(?:has|have|stands?)\s+(?:only\s+|just\s+|about\s+|roughly\s+|around\s+|better than\s+)*"
                r"(?:an?\s+)?(?:[\w.%'\"-]+\s+){0,3}?" + _CHANCE + r"\s+(?:of|to)\s+(?P<rest>.+)$", _I), "subject"),
    (re.compile(r"^.*?\b(?:gives?|shows?|puts?|assigns?)\s+(?P<subj>.+?)\s+(?:with\s+)?(?:only\s+|just\s+|about\s+|"
                r"roughly\s+|around\s+|better than\s+)*(?:an?\s+)?" + _NUMBER + r"\s+" + _CHANCE
                + r"\s+(?:of|to)\s+(?P<rest>.+)$", _I), "subject"),
    (re.compile(r"^\W*there(?:\s+is|\s+are|'s)\s+(?:only\s+|about\s+|roughly\s+|around\s+|still\s+|now\s+)*(?:an?\s+)?"
                r"(?:[\w.%'\"-]+\s+){0,3}?(?:chances?|probability|likelihood|odds|possibility)['\"]?\s+(?:that\s+)?", _I), ""),
    (re.compile(r"^.*?\b(?:assessment|assess(?:es)?|believes?|expects?|thinks?|means|" + _CHANCE
                + r"|likely|unlikely|certain|possible|predicts?|forecasts?|suggests?|finds?|shows?|judges?|estimates?)"
                r"\s+that\s+", _I), ""),
    (re.compile(r"^.*?\b(?:expects?|forecasts?|predicts?|anticipates?|estimates?)\s+(?P<subj>[\w'-]+(?:\s+[\w'-]+){0,6}?)"
                r"\s+to\s+(?P<rest>\w.*)$", _I), r"\g<subj> will \g<rest>"),
    (re.compile(r"^.*?\b(?:means|expects?|forecasts?|predicts?|believes?|thinks?|anticipates?|estimates?)\s+"
                r"(?=[\w'-]+(?:\s+[\w'-]+){0,6}?\s+(?:will|won't|would)\b)", _I), ""),
    (re.compile(r"^\W*(?:the\s+)?(?:odds|chances)\s+are\s+(?:good\s+|high\s+)?(?:that\s+)?", _I), ""),
    (re.compile(r"\b(?:it|this|that)\s+(?:is|'s|seems|appears|remains)\s+(?:" + _HEDGES + r"\s+)*"
                r"(?:likely|unlikely|probable|improbable|certain|possible|doubtful|expected)\s+that\s+", _I), ""),
)
# Rewrites of the estimative construction itself into a plain future.
_REWRITES = (
    (re.compile(r"\bcannot\s+and\s+will\s+not\b|\bcan't\s+and\s+won't\b|\bwon't\b", _I), "will not"),
    (re.compile(r"\bwouldn't\b", _I), "would not"),
    (re.compile(r"(?<=\w)'ll\b", _I), " will"),
    (re.compile(r"\b(?:don't|do not|doesn't|does not)?\s*expect\s+to\s+see\s+", _I), "there will be "),
    (re.compile(r"^.*?\bwould\s+(?:not\s+)?be\s+surprised\s+(?:to\s+see\s+)", _I), "there will be "),
    (re.compile(r"^.*?\bwould\s+(?:not\s+)?be\s+surprised\s+if\s+", _I), ""),
    (re.compile(r"^.*?\bmakes?\s+(?P<x>.+?)\s+(?:a long shot|unlikely|likely|inevitable|almost certain|impossible)\b", _I),
     r"\g<x> will happen"),
    (re.compile(r"\b(?:is|are|'s|'re|remains?|looks?|seems?)?\s*(?:" + _HEDGES + r"\s+)*" + _OUTCOME_WORDS
                + r"\s+to\s+(?:ever\s+)?", _I), " will "),
    (re.compile(r"\bdoomed\s+to\s+fail\b", _I), "will fail"),
    (re.compile(r"\b(?:probably|likely|most likely|almost certainly|very likely|certainly|just)\s+(?=(?:will|would|could|may|might)\b)", _I), ""),
    (re.compile(r"\b(?:will|would|could|may|might)\s+(?:" + _HEDGES + r"\s+)*", _I), "will "),
    (re.compile(r"\b(?:is|are|'s|seems?|looks?|remains?)\s+(?:" + _HEDGES + r"\s+)*(?:likely|unlikely|probable|improbable|"
                r"almost certain|inevitable|a long shot|doubtful)\b(?=\s*(?:$|[,.;]|(?:before|by|in|this|next|within|until|"
                r"soon|anytime|any time|for)\b))", _I), "will happen"),
    (re.compile(r"\s*\b(?:(?:most|very|highly)\s+)?(?:probably|likely|almost certainly|in all likelihood|inevitably)\b,?", _I), ""),
    (re.compile(r"\bwill\s+being\b|(?<=\w)\s+being\b", _I), " will be"),
)


def _base_form(gerund: str) -> str:
    """'taking' -> 'take', 'winning' -> 'win', 'holding' -> 'hold': good enough for a draft."""
    stem = gerund[:-3]
    if len(stem) >= 3 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
        return stem[:-1]
    if len(stem) >= 6 and stem.endswith("ll") and stem[-3] in "aeiou" and stem[-4] not in "aeiou":
        return stem[:-1]
    if stem.endswith(("v", "c", "u")) or (len(stem) <= 4 and re.search(r"[^aeiou][aeiou][^aeiouwxy]$", stem)):
        return stem + "e"
    return stem


def _subject_will(match: re.Match[str]) -> str:
    """'X has a 70% chance of winning Y' -> 'X will win Y'; 'of a recession' -> 'will have a recession'."""
    subject, rest = match.group("subj").strip(" ,"), match.group("rest")
    if gerund := re.match(r"(\w{2,}ing)\b(.*)$", rest, re.DOTALL):
        return f"{subject} will {_base_form(gerund.group(1).lower())}{gerund.group(2)}"
    return f"{subject} will have {rest}"


def _cue_clause(sentence: str, cue_start: int) -> str:
    """The coordinated clause that holds the cue ("X is likely, but Y" -> "X is likely")."""
    start, end = 0, len(sentence)
    for match in _COORDINATION.finditer(sentence):
        if match.start() >= cue_start:
            end = match.start()
            break
        start = match.end()
    start = max([start] + [colon.end() for colon in _COLON.finditer(sentence, start, cue_start)])
    clause = sentence[start:end]
    if start > 0 and _PREDICATE_FIRST.match(clause) and (subject := _SUBJECT.match(sentence)):
        return f"{subject.group('subj')} {clause.strip()}"
    return clause


def _tidy(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip(" ,;:—–-")
    text = re.sub(r"\s+([,.;:])", r"\1", text)
    if text.count('"') % 2:
        text = text.replace('"', "")
    text = text.rstrip(".!") + "."
    return text[:1].upper() + text[1:]


def draft(sentence: str, reading: Reading) -> str:
    """A resolvable statement, phrased so that ``reading.probability`` is its probability."""
    text = normalise(sentence)
    condition: Condition | None = reading.condition
    if condition is not None:
        text = text[:condition.start] + " " * (condition.end - condition.start) + text[condition.end:]
    text = _cue_clause(text, reading.cue_start)
    if concession := _LEADING_CONCESSION.match(text):
        text = concession.group("first") if reading.cue_start <= concession.end("first") else concession.group("rest")
    text = re.sub(r"\s*\([^()]*\)", "", text).strip()
    if quoted := _QUOTED_ATTRIBUTION.match(text):
        text = quoted.group("q")
    text = _TRAILING_ATTRIBUTION.sub("", text.strip(' "'))
    text = _INNER_ATTRIBUTION.sub(" ", text).strip()
    text = _LEADING_SPEAKER.sub("", text)
    text = _RELATIVE_ASIDE.sub("", text)
    while (stripped := _CONNECTIVES.sub("", text)) != text:
        text = stripped
    for regex, replacement in _FRAMES:
        if match := regex.search(text):
            claim = _subject_will(match) if replacement == "subject" else match.expand(replacement)
            text = text[:match.start()] + claim + text[match.end():]
            break
    for regex, replacement in _REWRITES:
        text = regex.sub(replacement, text, count=1)
    return _tidy(text)


# --- making a statement self-contained -------------------------------------------------------

_REFERENT = re.compile(r"\b(?P<det>[Tt]his|[Tt]hat|[Tt]hese|[Tt]hose|[Ss]uch)\s+(?!(?:year|month|week|weekend|season|"
                       r"summer|winter|spring|fall|autumn|time|decade|quarter|morning|afternoon|evening)\b)"
                       r"(?P<noun>[a-z]+)\b|^(?P<pronoun>It|They|He|She)\b(?!\s+is\s+(?:likely|unlikely|possible))")
# Nouns that name a course of action: "this strategy" can point back at "a calculated attempt to ...".
_COURSES = frozenset("strategy attempt approach plan policy move effort deal proposal shift gambit bet tactic "
                     "initiative agreement push".split())
_PRONOUNS = frozenset("it they he she this that these those we i you".split())


def _antecedent(noun: str | None, previous) -> str | None:
    """The noun phrase in the preceding sentences (latest first) that ``this <noun>`` / a pronoun points at."""
    for sentence in reversed(previous):
        if noun is None:
            head = next((t for t in sentence if t.dep_ == "ROOT"), None)
            subject = next((c for c in head.children if c.dep_ in ("nsubj", "nsubjpass")), None) if head else None
            if subject is not None and subject.lower_ not in _PRONOUNS and subject.pos_ in ("NOUN", "PROPN"):
                return sentence[subject.left_edge.i - sentence[0].i:subject.right_edge.i - sentence[0].i + 1].text
            continue
        for chunk in reversed(list(sentence.noun_chunks)):
            lemma = chunk.root.lemma_.lower()
            if (lemma == noun or (noun in _COURSES and lemma in _COURSES)) and not any(
                    t.lower_ in ("this", "that", "these", "those") for t in chunk):
                left, right = chunk.root.left_edge.i, chunk.root.right_edge.i
                return sentence[left - sentence[0].i:right - sentence[0].i + 1].text.strip(" ,.;:")
    return None


def self_contained(statement: str, previous, title=None) -> tuple[str, str | None]:
    """``statement`` with "this strategy" / "it" spelled out from the preceding sentences or the title
    (parsed spaCy docs, oldest first), and what is still unresolved (None when nothing is)."""
    match = _REFERENT.search(statement)
    if match is None:
        return statement, None
    noun = match["noun"].lower() if match["det"] else None
    if noun is not None and noun in ("is", "was", "will", "would", "could", "can", "may", "might"):
        noun = None
    found = _antecedent(noun, previous) or (_antecedent(noun, [title]) if title is not None else None)
    said = match.group()
    if found is None:
        return statement, f"'{said}' is not named in the statement: say what it refers to"
    return f"{statement[:match.end()]} ({found}){statement[match.end():]}", None


def criteria(statement: str, resolve_by) -> str:
    """A first draft of the resolution criteria, for the analyst to make precise."""
    claim = statement.rstrip(".")
    claim = claim[:1].lower() + claim[1:] if not claim[:2].isupper() else claim
    when = f"by {resolve_by.isoformat()}" if resolve_by is not None else "by the resolve-by date"
    return (f"True if, {when}, {claim}; false otherwise. Judge by the first authoritative public report "
            f"after that date (edit: name the source and any threshold).")

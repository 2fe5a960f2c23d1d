"""What a dependency parse says about a sentence's voice and scope: is the claim the author's own?

Each function takes a spaCy ``Doc`` (or ``Span``) of one sentence and answers
one question the error study of issue 16 found the words alone get wrong:

- :func:`embedded_cue` — is the cue inside a *whether* clause, a relative
  clause or the complement of someone else's expectation (then it is not the
  author's forecast);
- :func:`reported_by_third_party` — is the main verb a reporting or
  forecasting verb whose subject is not the author ("EIA forecasts …",
  "analysts say …");
- :func:`attributed_clause` — any clause, not only the main one, whose
  reporting or forecasting verb has a third party for subject: a named
  person or organisation, or a group such as analysts, experts or polls
  ("… , but Steyn believes England will win", "Chairman Agarkar confirmed
  that …");
- :func:`revises_forecast` — a verb of revision whose object is someone's
  forecast ("Goldman raised its copper forecast", "IMF keeps 2025 outlook
  unchanged"): news of a forecast, not one;
- :func:`generic_you` — a second-person subject, a rule of thumb not a forecast;
- :func:`negative_quantifier_subject` — "no one / none / few … will", which
  reverses the claim;
- :func:`own_plan` — a first-person subject with a future the author controls
  ("we will publish …");
- :func:`past_report` — a forecast reported in the past tense by the text's
  own agency ("the staff projected that …") is still a forecast, but the
  same tense with a third party is not;
- :func:`line_type` — verbless headlines and rating lines ("Florida Toss-up
  Leans GOP", "Team to win") that have no finite verb to parse, and the lines
  around picks that are not forecasts ("Should win: X", "My predictions for 2025").

They feed the detector as features; none of them decides alone.
"""

from __future__ import annotations

import re

__all__ = ["REPORTING", "FORECASTING", "root", "subject", "person", "embedded_cue", "reported_by_third_party",
           "names_someone", "third_party", "attributed_clause", "revises_forecast", "generic_you", "negative_quantifier_subject", "own_plan", "past_report",
           "line_type"]

REPORTING = frozenset("say tell note add write report claim argue warn state explain stress insist caution "
                      "announce declare suggest confirm reveal respond reply indicate acknowledge admit".split())
FORECASTING = frozenset("expect forecast project predict anticipate estimate see believe think assess judge "
                        "foresee envision reckon guess bet doubt".split())
# Subjects that are plainly not the author's own voice when they report or forecast (by lemma).
_GROUPS = frozenset("analyst expert economist strategist forecaster observer pundit poll pollster survey market "
                    "trader investor insider researcher critic official source bookmaker oddsmaker bettor "
                    "consensus participant respondent executive ceo chairman spokesman spokeswoman".split())
# Documents that speak for their authors ("the report says", "the latest World Economic Outlook projects").
_DOCUMENTS = frozenset("report study outlook analysis statement survey poll review update projection".split())
_REVISION_VERBS = frozenset("raise cut lower trim lift boost revise upgrade downgrade maintain keep hold reiterate "
                            "reaffirm stick slash hike increase reduce".split())
_FORECAST_NOUNS = frozenset("forecast forecasts outlook projection projections estimate estimates target targets "
                            "prediction predictions guidance view call".split())
_EXPECTATION_NOUNS = frozenset("expectation expectations hope hopes fear fears belief view consensus".split())
_NEGATIVE_QUANTIFIERS = frozenset("no none nobody nothing neither few".split())
_FIRST_PERSON = frozenset("i we us our my".split())
_PLAN_VERBS = frozenset("publish release update issue post discuss write share host present cover look return "
                        "examine offer include explore review provide hold".split())
_RATING = re.compile(r"\b(?:safe|solid|likely|lean|leans|leaning|tilt|tilts|toss[- ]?ups?)\b(?:\s+(?:to\s+)?"
                     r"(?:safe|solid|likely|lean|leans|tilt|toss[- ]?up))*\s+(?:r|d|dem|dems|gop|rep|democratic|"
                     r"democrat|republican)\b|\btoss[- ]?ups?\b", re.IGNORECASE)
_TO_WIN = re.compile(r"^[\w .'&-]{2,60}\bto\s+(?:win|beat|lose|top|lead|finish|make|miss|reach|fall|rise)\b",
                     re.IGNORECASE)
_PROBABILITY_PREFIX = re.compile(r"^\s*\d{1,3}\s*%?\s*[:.)-]?\s+\S")
# "Should win: X" is the critic's preference beside the pick, an opinion (corpus/README.md's rules).
_SHOULD_WIN = re.compile(r"^\s*should\s+(?:win|be|get)\b", re.IGNORECASE)
# Head nouns of a line that announces forecasts ("My predictions for 2025", "Latest Predictions from …").
_ANNOUNCING = frozenset("prediction forecast pick preview outlook projection tip".split())


def root(sentence):
    """The sentence's main verb (or head word when there is none)."""
    return next((token for token in sentence if token.dep_ == "ROOT"), sentence[0])


def subject(head):
    """The nominal subject of ``head``, or None."""
    return next((child for child in head.children if child.dep_ in ("nsubj", "nsubjpass", "expl")), None)


def person(token) -> str:
    """'first', 'second', 'third' or 'none' for a subject token."""
    if token is None:
        return "none"
    word = token.lower_
    if word in _FIRST_PERSON:
        return "first"
    if word == "you":
        return "second"
    return "third"


def embedded_cue(sentence, cue_start: int) -> str | None:
    """Which kind of embedded clause holds the character offset ``cue_start``: 'whether', 'relative',
    'expectation', or None when the cue is in the main clause."""
    base = sentence[0].idx
    token = next((t for t in sentence if t.idx - base <= cue_start < t.idx - base + len(t) + 1), None)
    while token is not None and token.dep_ != "ROOT":
        if any(child.lower_ in ("whether", "if") and child.dep_ == "mark" for child in token.children) \
                and token.dep_ in ("ccomp", "advcl", "pcomp", "csubj") and token.head.lemma_ not in FORECASTING:
            return "whether"
        if token.dep_ in ("ccomp", "acl", "xcomp") and token.head.lemma_ in _EXPECTATION_NOUNS:
            return "expectation"
        if token.dep_ in ("relcl", "acl"):
            return "relative"
        if token.dep_ == "ccomp" and token.head.lemma_ in FORECASTING | REPORTING \
                and person(subject(token.head)) == "third" and token.head.dep_ == "ROOT":
            return "expectation"
        token = token.head
    return None


def reported_by_third_party(sentence) -> bool:
    """The main verb reports or forecasts, and its subject is someone other than the author."""
    head = root(sentence)
    if head.lemma_ not in REPORTING | FORECASTING:
        return "according to" in sentence.text.lower()
    return person(subject(head)) == "third"


def names_someone(token) -> bool:
    """Does the phrase headed by ``token`` hold a proper noun ("Goldman Sachs", "Ravi Shastri")? The tagger's
    PROPN stands in for the entity recogniser, which the pipeline does not load (see syntax)."""
    return any(t.pos_ == "PROPN" for t in token.subtree)


def third_party(token) -> str | None:
    """'named' for a subject naming a person or organisation, 'group' for analysts / experts / polls and the
    like, else None (the author, "it", "prices" …)."""
    if token is None or person(token) != "third":
        return None
    if names_someone(token):
        return "named"
    if token.lemma_.lower() in _GROUPS:
        return "group"
    if token.lemma_.lower() in _DOCUMENTS and not any(child.lower_ in _FIRST_PERSON for child in token.children):
        return "group"
    return None


def attributed_clause(sentence) -> str | None:
    """The strongest third party ('named' before 'group') that is the subject of a reporting or forecasting
    verb anywhere in the sentence, or None: the voice of every clause, not only the main one."""
    kinds = {third_party(subject(token)) for token in sentence if token.lemma_ in REPORTING | FORECASTING}
    return "named" if "named" in kinds else "group" if "group" in kinds else None


def revises_forecast(sentence) -> bool:
    """Some verb of revision (raise, cut, keep …) has a forecast, outlook, estimate or target for its object,
    and the forecast is not the author's own ("we raise our forecast" is a forecast)."""
    for token in sentence:
        if token.lemma_.lower() not in _REVISION_VERBS:
            continue
        for child in token.children:
            if child.dep_ in ("dobj", "nsubjpass") and child.lemma_.lower() in _FORECAST_NOUNS:
                owner = [t.lower_ for t in child.children if t.dep_ == "poss"] + [person(subject(token))]
                if "first" not in owner and not _FIRST_PERSON & set(owner):
                    return True
    return False


def generic_you(sentence) -> bool:
    """A second-person subject of the main verb: advice or a rule of thumb."""
    return person(subject(root(sentence))) == "second"


def negative_quantifier_subject(sentence) -> bool:
    """The main subject is, or is quantified by, no / none / nobody / few."""
    who = subject(root(sentence))
    if who is None:
        return False
    return who.lower_ in _NEGATIVE_QUANTIFIERS or any(
        child.lower_ in _NEGATIVE_QUANTIFIERS and child.dep_ in ("det", "amod") for child in who.children)


def own_plan(sentence) -> bool:
    """'We will publish …': a first-person future the author controls, not a forecast."""
    head = root(sentence)
    return person(subject(head)) == "first" and head.lemma_ in _PLAN_VERBS and any(
        child.dep_ == "aux" and child.lower_ in ("will", "'ll", "shall") for child in head.children)


def past_report(sentence) -> bool:
    """The main verb is in the past tense with no modal: a report of what was, or of what was forecast."""
    head = root(sentence)
    return head.tag_ == "VBD" and not any(child.tag_ == "MD" for child in head.children)


def line_type(text: str, sentence) -> str:
    """'rating' for handicapper lines, 'to-win' for "X to win", 'probability-prefix' for "85: X",
    'should-win' for a critic's preference, 'announces' for a verbless line headed by "predictions",
    "picks" and the like that names no outcome, 'no-words' for punctuation alone, 'verbless' for a line
    with no verb, else 'sentence'."""
    if not re.search(r"[^\W\d_]", text):
        return "no-words"
    if _PROBABILITY_PREFIX.match(text) and len(text.split()) <= 25:
        return "probability-prefix"
    if _SHOULD_WIN.match(text):
        return "should-win"
    if _RATING.search(text):
        return "rating"
    if _TO_WIN.match(text) and not any(token.pos_ == "AUX" for token in sentence):
        return "to-win"
    verbless = not any(token.pos_ in ("VERB", "AUX") for token in sentence)
    if verbless and root(sentence).lemma_.lower() in _ANNOUNCING and not re.search(r":\s*\S", text):
        return "announces"
    if verbless:
        return "verbless"
    return "sentence"

"""The domain: sources, questions, forecasts and resolutions.

These pydantic models are the one definition of what a valid prediction
is. The CLI, prediction files and the store all validate through them, and
``ledger schema`` publishes their JSON Schema so an editor can check a
prediction file while it is being written.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from ledger.errors import LedgerError
from ledger.parse import parse_date, parse_moment, parse_probability

SUM_TOLERANCE = 1e-6


def _lift(parser):
    """Turn a parser's LedgerError into the ValueError pydantic reports."""

    def validate(value):
        if value is None:
            return None
        try:
            return parser(value)
        except LedgerError as error:
            raise ValueError(str(error)) from None

    return validate


Probability = Annotated[float, BeforeValidator(_lift(parse_probability))]
ResolveBy = Annotated[date, BeforeValidator(_lift(parse_date))]
Moment = Annotated[datetime, BeforeValidator(_lift(parse_moment))]
Text = Annotated[str, Field(min_length=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Source(_Model):
    """The analysis a prediction was taken from."""

    title: str | None = None
    author: str | None = None
    outlet: str | None = None
    url: str | None = None
    published: Annotated[date | None, BeforeValidator(_lift(parse_date))] = None


class Question(_Model):
    """A resolvable statement: binary (yes/no) or multiple choice."""

    id: str | None = None
    statement: Text
    criteria: str | None = None
    resolve_by: ResolveBy
    options: list[Text] | None = Field(
        default=None, description="Mutually exclusive options; absent for a yes/no question."
    )
    tags: list[Text] = Field(default_factory=list)
    source: Source | None = None
    quote: str | None = Field(default=None, description="The sentence the prediction was taken from.")

    @field_validator("options")
    @classmethod
    def _options_distinct(cls, options):
        if options is not None:
            if len(options) < 2:
                raise ValueError("a multiple-choice question needs at least two options")
            if len(set(options)) != len(options):
                raise ValueError("options must be distinct")
            if {"yes", "no"} & {option.lower() for option in options} and len(options) == 2:
                raise ValueError("a yes/no question takes a probability, not options")
        return options

    @field_validator("tags")
    @classmethod
    def _tags_distinct(cls, tags):
        return list(dict.fromkeys(tags))

    @property
    def kind(self) -> Literal["binary", "multiple_choice"]:
        return "binary" if self.options is None else "multiple_choice"

    def outcome_for(self, answer: str) -> str:
        """Validate an outcome against the question: yes/no, or one of the options."""
        answer = answer.strip()
        if self.options is None:
            normalised = {"yes": "yes", "y": "yes", "true": "yes", "1": "yes",
                          "no": "no", "n": "no", "false": "no", "0": "no"}.get(answer.lower())
            if normalised is None:
                raise LedgerError(f"outcome must be yes or no for this question, got {answer!r}")
            return normalised
        for option in self.options:
            if option.lower() == answer.lower():
                return option
        raise LedgerError(
            f"outcome must be one of the options {', '.join(self.options)}; got {answer!r}"
        )


class Forecast(_Model):
    """One forecaster's probability (or probability vector) for a question, at a moment."""

    question_id: str | None = None
    forecaster: Text
    probability: Probability | None = Field(default=None, description="P(yes) of a binary question.")
    probabilities: list[Probability] | None = Field(
        default=None, description="One probability per option of a multiple-choice question, summing to 1."
    )
    made_at: Moment | None = Field(
        default=None,
        description="When the forecast was made (UTC); absent means now. Earlier than recorded_at means backfilled.",
    )
    recorded_at: Moment | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _one_form(self):
        if (self.probability is None) == (self.probabilities is None):
            raise ValueError("give either probability (yes/no) or probabilities (multiple choice)")
        if self.probabilities is not None and abs(sum(self.probabilities) - 1) > SUM_TOLERANCE:
            raise ValueError(f"probabilities must sum to 1, they sum to {sum(self.probabilities):g}")
        return self

    @property
    def backfilled(self) -> bool:
        return None not in (self.made_at, self.recorded_at) and self.made_at < self.recorded_at

    def check_fits(self, question: Question) -> None:
        """Raise unless this forecast has the shape its question needs."""
        if question.options is None and self.probability is None:
            raise LedgerError("this is a yes/no question: give one probability")
        if question.options is not None:
            if self.probabilities is None or len(self.probabilities) != len(question.options):
                raise LedgerError(
                    f"this question has {len(question.options)} options "
                    f"({', '.join(question.options)}): give one probability for each"
                )


class Resolution(_Model):
    """The outcome of a question, or its annulment. A later record supersedes."""

    question_id: str | None = None
    outcome: str | None = Field(default=None, description="yes, no or an option; absent when annulled.")
    annulled: bool = False
    resolved_at: Moment | None = Field(default=None, description="When the outcome became known (UTC); absent means now.")
    note: str | None = None
    evidence: str | None = None
    resolver: str | None = None
    recorded_at: Moment | None = None

    @model_validator(mode="after")
    def _outcome_or_annulled(self):
        if self.annulled == (self.outcome is not None):
            raise ValueError("a resolution has an outcome, or is annulled with a reason")
        if self.annulled and not self.note:
            raise ValueError("annulling needs a reason")
        return self


class Extraction(_Model):
    """How ``ledger extract`` read a candidate: the cue, its lexicon source and range."""

    cue: str
    lexicon_source: str
    probability_range: tuple[float, float]
    polarity: Literal["affirms", "denies"] | None = Field(
        default=None,
        description="Whether the quote affirms the statement or denies it ('would never'); "
        "the probability is always the statement's.",
    )
    conditional: bool = False
    condition: str | None = None
    confidence: float | None = Field(default=None, ge=0, le=1,
                                     description="The detector's confidence that the quote is a forecast.")
    resolve_by_basis: str | None = Field(default=None, description="The time expression the proposed resolve_by "
                                         "was read from, or the default horizon used when the text gives none.")
    needs_context: str | None = Field(default=None, description="What the statement refers to that it does "
                                      "not name ('this strategy'), when extraction could not resolve it.")


class PredictionEntry(_Model):
    """One prediction in a prediction file (``predictions/*.yaml``)."""

    statement: Text
    probability: Probability | None = None
    probabilities: list[Probability] | None = None
    options: list[Text] | None = None
    resolve_by: ResolveBy | None = None
    criteria: str | None = None
    quote: str | None = None
    tags: list[Text] = Field(default_factory=list)
    forecaster: str | None = None
    made_at: Moment | None = Field(
        default=None, description="When the forecast was made; defaults to the source's publication date."
    )
    draft: bool = Field(default=False, description="Set by `ledger extract`; a draft is never logged.")
    extraction: Extraction | None = None

    @model_validator(mode="after")
    def _shape(self):
        if (self.probability is None) == (self.probabilities is None):
            raise ValueError("give either probability (yes/no) or probabilities with options")
        if (self.options is None) != (self.probabilities is None):
            raise ValueError("probabilities go with options, one for each")
        if self.options is not None and len(self.options) != len(self.probabilities):
            raise ValueError("give one probability for each option")
        if self.probabilities is not None and abs(sum(self.probabilities) - 1) > SUM_TOLERANCE:
            raise ValueError(f"probabilities must sum to 1, they sum to {sum(self.probabilities):g}")
        return self

    def missing(self) -> list[str]:
        """What stops this entry from being logged: draft mark, criteria, resolve-by."""
        problems = []
        if self.draft:
            problems.append("draft: true (review it, then remove the mark)")
        if not self.criteria:
            problems.append("criteria missing")
        if self.resolve_by is None:
            problems.append("resolve_by missing")
        return problems


class PredictionFile(_Model):
    """A prediction file: one analysis's source and the predictions taken from it."""

    source: Source | None = None
    forecaster: str | None = Field(default=None, description="Default forecaster for every entry.")
    predictions: list[PredictionEntry] = Field(min_length=1)


def json_schema() -> dict:
    """The JSON Schema of a prediction file, for editors and ``ledger schema``."""
    schema = PredictionFile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Forecast Ledger prediction file"
    return schema


def default_forecaster() -> str:
    """Who is forecasting when nobody says: ``$LEDGER_FORECASTER``, else the login name."""
    import getpass
    import os

    if name := os.environ.get("LEDGER_FORECASTER"):
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. in some containers
        return "me"

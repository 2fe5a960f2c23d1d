"""The learned forecast detector: how sure is it that a sentence is a forecast in the text's own voice?

A logistic regression over :mod:`~ledger.extract.features`, trained by
``scripts/train_detector.py`` on the labelled corpus in ``corpus/`` and
shipped as ``model/detector.json`` (named weights, hashed-feature weights,
the bias and the decision threshold chosen by cross-validation over the
train and dev documents). Why a linear
model and not spaCy's ``textcat``: with a few hundred positive sentences a
linear model over features the rules already compute (cue, voice, tense,
dates, line type) generalises from less data, trains in seconds on a laptop
with a fixed seed, is a few hundred kilobytes, and every weight can be read.

The detector only says *whether*; the rules (:mod:`~ledger.extract.cues`)
keep the job of turning the words into a probability.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Model", "model", "confidence"]


@dataclass(frozen=True)
class Model:
    """A trained detector: weights by feature name, bias, and the cross-validated threshold."""

    weights: dict[str, float]
    bias: float
    threshold: float
    meta: dict

    def confidence(self, found: dict[str, float]) -> float:
        """P(forecast) for one sentence's features."""
        score = self.bias + sum(self.weights.get(name, 0.0) * value for name, value in found.items())
        return 1 / (1 + math.exp(-score)) if score > -30 else 0.0


@lru_cache(maxsize=1)
def model() -> Model:
    """The detector shipped with the package."""
    data = json.loads(resources.files("ledger.extract").joinpath("model/detector.json").read_text(encoding="utf-8"))
    return Model(data["weights"], data["bias"], data["threshold"], data["meta"])


def confidence(found: dict[str, float]) -> float:
    return model().confidence(found)

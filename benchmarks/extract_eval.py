"""How well ``ledger extract`` finds forecasts: precision, recall, probability in range, speed.

Scores the extractor against the labelled excerpts in ``tests/extract_corpus``
(see its README for the labelling rules) at the sentence level:

- precision: candidates that are labelled forecasts / candidates;
- recall: labelled forecasts found / labelled forecasts;
- in range: found forecasts whose probability lies in a labelled range;
- conditional: found forecasts whose conditional flag agrees with the label.

Then times extraction of a 5,000-word analysis (the excerpts repeated), best
of five runs after a warm-up, against its target (under a second) and
against a yardstick measured in the same run on the same text (finding
every word with a regular expression), so figures from machines of
different speed compare.

    python benchmarks/extract_eval.py            # figures, by split and domain
    python benchmarks/extract_eval.py --errors dev   # every miss and false alarm of the dev split
    python benchmarks/extract_eval.py --json     # the figures as JSON
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "extract_corpus"
TIMED_WORDS = 5000
TARGET_SECONDS = 1.0  # a 5,000-word analysis is extracted in under a second
WORD = re.compile(r"\w+")
RANGE_TOLERANCE = 1e-9
sys.path.insert(0, str(ROOT))

from ledger.extract import Candidate, extract_text  # noqa: E402


@dataclass
class Tally:
    """Counts for one group of excerpts."""

    candidates: int = 0
    true_positives: int = 0
    labels: int = 0
    found: int = 0
    in_range: int = 0
    conditional_agree: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("candidates", "true_positives", "labels", "found", "in_range", "conditional_agree"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.errors += other.errors

    def figures(self) -> dict[str, float | int]:
        def share(part: int, whole: int) -> float:
            return round(part / whole, 3) if whole else float("nan")

        return {
            "precision": share(self.true_positives, self.candidates),
            "recall": share(self.found, self.labels),
            "in_range": share(self.in_range, self.found),
            "conditional": share(self.conditional_agree, self.found),
            "candidates": self.candidates,
            "labels": self.labels,
        }


def _plain(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _same_sentence(quote: str, label: str) -> bool:
    """Sentence splitters may cut a little differently: containment either way counts."""
    quote, label = _plain(quote), _plain(label)
    return label in quote or quote in label


def score(excerpt: dict, candidates: list[Candidate]) -> Tally:
    labels = excerpt["forecasts"]
    tally = Tally(candidates=len(candidates), labels=len(labels))
    for candidate in candidates:
        if any(_same_sentence(candidate.quote, label["sentence"]) for label in labels):
            tally.true_positives += 1
        else:
            tally.errors.append(f"false alarm  {candidate.probability:<6} {candidate.quote}")
    for label in labels:
        match = next((c for c in candidates if _same_sentence(c.quote, label["sentence"])), None)
        if match is None:
            tally.errors.append(f"missed              {label['sentence']}")
            continue
        tally.found += 1
        if any(low - RANGE_TOLERANCE <= match.probability <= high + RANGE_TOLERANCE for low, high in label["ranges"]):
            tally.in_range += 1
        else:
            tally.errors.append(f"out of range {match.probability:<6} {label['ranges']} via {match.cue!r}: {label['sentence']}")
        if match.conditional == bool(label.get("conditional", False)):
            tally.conditional_agree += 1
        else:
            tally.errors.append(f"conditional  {match.conditional!s:<6} {label['sentence']}")
    return tally


def load_corpus() -> list[dict]:
    import yaml

    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.yaml"))]


def evaluate(corpus: list[dict]) -> dict[str, dict[str, Tally]]:
    groups: dict[str, dict[str, Tally]] = {"split": defaultdict(Tally), "domain": defaultdict(Tally)}
    overall = Tally()
    for excerpt in corpus:
        tally = score(excerpt, extract_text(excerpt["text"]))
        tally.errors = [f"[{excerpt['id']}] {error}" for error in tally.errors]
        groups["split"][excerpt["split"]].add(tally)
        groups["domain"][excerpt["domain"]].add(tally)
        overall.add(tally)
    groups["split"]["all"] = overall
    return groups


def analysis_of(words: int, corpus: list[dict]) -> str:
    """A long analysis made of the excerpts, repeated until it has ``words`` words."""
    texts, count = [], 0
    while count < words:
        for excerpt in corpus:
            texts.append(excerpt["text"])
            count += len(excerpt["text"].split())
            if count >= words:
                break
    return "\n".join(texts)


def timing(corpus: list[dict], runs: int = 5) -> dict[str, float | int]:
    text = analysis_of(TIMED_WORDS, corpus)
    extract_text(text)  # warm-up: imports, regex compilation, pySBD rules
    seconds, found = _best_of(runs, extract_text, text)
    yardstick, _ = _best_of(runs, WORD.findall, text)
    return {"words": len(text.split()), "seconds": round(seconds, 3), "candidates": len(found),
            "target_seconds": TARGET_SECONDS, "yardstick_seconds": round(yardstick, 5),
            "ratio_to_yardstick": round(seconds / yardstick, 1)}


def _best_of(runs: int, function, argument):
    """The fastest of ``runs`` calls (the least disturbed by other load) and the last result."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = function(argument)
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", metavar="SPLIT", help="list misses and false alarms of this split (dev, heldout, all)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    corpus = load_corpus()
    groups = evaluate(corpus)
    speed = timing(corpus)
    if args.json:
        print(json.dumps({kind: {name: tally.figures() for name, tally in sorted(group.items())}
                          for kind, group in groups.items()} | {"timing": speed}, indent=2))
        return
    print(f"{len(corpus)} excerpts, {groups['split']['all'].labels} labelled forecasts\n")
    print(f"{'':<12} {'precision':>9} {'recall':>7} {'in range':>9} {'cond.':>6} {'cands':>6} {'labels':>7}")
    for kind in ("split", "domain"):
        for name, tally in sorted(groups[kind].items()):
            f = tally.figures()
            print(f"{name:<12} {f['precision']:>9} {f['recall']:>7} {f['in_range']:>9} {f['conditional']:>6} "
                  f"{f['candidates']:>6} {f['labels']:>7}")
        print()
    print(f"timing: {speed['words']} words in {speed['seconds']} s ({speed['candidates']} candidates), best of 5; "
          f"target under {speed['target_seconds']} s; {speed['ratio_to_yardstick']}x the yardstick "
          f"(a word regex over the same text, {speed['yardstick_seconds']} s)")
    if args.errors:
        print()
        for error in groups["split"][args.errors].errors:
            print(error)


if __name__ == "__main__":
    main()

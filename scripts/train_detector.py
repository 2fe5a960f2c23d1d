"""Train the forecast detector on corpus/ and write ledger/extract/model/detector.json.

    python scripts/train_detector.py            # cross-validate, fit, write the model
    python scripts/train_detector.py --dry-run  # report the cross-validation only

The test split (ledger.extract.corpus.split_of, seeded, by document) is never
read here, nor corpus/unseen4 (the held-out set); the retired held-out sets
(corpus.RETIRED_SETS, read in earlier rounds) are fitted on with train + dev.
The regularisation strength C, the scale of the hashed lemma n-grams and the
decision threshold are chosen by cross-validation over all of these with
folds of whole domains: each fold's model is fitted on the
other domains and scores the held-out domain's sentences, because what the
detector is measured on is analyses from domains it never saw. The
out-of-fold scores of all folds are pooled and the setting is chosen by a
rule fixed before any held-out figure was read (RULE below). Two rules were
tried first and set aside, both before any held-out figure: the same folds
with precision >= 0.6 required (it forced threshold 0.75, recall 0.30: a
model is less sure outside its domains), and five folds of random documents
(they share outlets and idioms with their training folds, so they chose
full-weight n-grams, C=0.3, threshold 0.5, and a model that no longer found
"The central bank is very likely to cut rates in June" at that threshold).
The shipped model is then fitted on all of train + dev with the setting, so
dev figures after it are in-sample.
scikit-learn (a dev dependency) fits with a fixed random_state, so a re-run
writes the same file.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ledger.extract import corpus, features, syntax  # noqa: E402

SEED = 16
C_GRID = (0.3, 1.0)
# The hashed n-grams are thousands of sparse features on a few hundred positive sentences: fitted at full
# scale they learn the training texts' words (train precision 0.97, dev 0.65). Fitting them at a smaller
# scale is a stronger L2 penalty on them alone, so the named features (cue, voice, tense, dates) carry
# more of the decision. The scale is folded into the shipped weights, so features stay 0/1.
LEXICAL_SCALES = (0.25, 0.5)
THRESHOLDS = tuple(round(0.05 + 0.05 * step, 2) for step in range(18))
RULE = ("maximise pooled out-of-fold F1 over leave-one-domain-out folds of train + dev; "
        "ties to the lower threshold (recall)")
OUTPUT = ROOT / "ledger" / "extract" / "model" / "detector.json"


def featurise(documents):
    """(features, label, document) for every sentence of ``documents``."""
    parsed = iter(syntax.parse([sentence.text for document in documents for sentence in document.sentences]))
    rows = []
    for document in documents:
        rows += document_rows(document, [next(parsed) for _ in document.sentences])
    return rows


def document_rows(document, docs):
    """(features, label, document) for each sentence of one document, given its parses."""
    found = features.for_document([s.text for s in document.sentences], docs, document.published, document.outlet)
    return [(row, sentence.is_forecast, document) for row, sentence in zip(found, document.sentences)]


def _scaled(found: dict[str, float], scale: float) -> dict[str, float]:
    return {name: value * scale if features.is_lexical(name) else value for name, value in found.items()}


def fit(rows, c: float, scale: float):
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = DictVectorizer()
    matrix = _indexed_32(vectoriser.fit_transform([_scaled(found, scale) for found, _, _ in rows]))
    # liblinear, not lbfgs: with the retired held-out sets the leave-one-domain-out grid is ~180 fits, and
    # on this corpus liblinear fits in a twentieth of lbfgs' time (0.2 s against 4 s CPU) to the same optimum
    # but for its penalised intercept.
    classifier = LogisticRegression(C=c, class_weight="balanced", solver="liblinear", max_iter=5000,
                                    random_state=SEED)
    classifier.fit(matrix, [label for _, label, _ in rows])
    return vectoriser, classifier, scale


def _indexed_32(matrix):
    """``matrix`` with 32-bit index arrays, the only kind liblinear takes (DictVectorizer may give 64-bit)."""
    matrix.indices, matrix.indptr = matrix.indices.astype("int32"), matrix.indptr.astype("int32")
    return matrix


def scores(vectoriser, classifier, scale, rows):
    matrix = _indexed_32(vectoriser.transform([_scaled(found, scale) for found, _, _ in rows]))
    return classifier.predict_proba(matrix)[:, 1]


def figures(probabilities, rows, threshold: float) -> dict[str, float]:
    predicted = [p >= threshold for p in probabilities]
    truth = [label for _, label, _ in rows]
    hits = sum(p and t for p, t in zip(predicted, truth))
    precision = hits / max(sum(predicted), 1)
    recall = hits / max(sum(truth), 1)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(float(precision), 3), "recall": round(float(recall), 3), "f1": round(float(f1), 3)}


def out_of_fold(rows, c: float, scale: float) -> tuple[list, list[float]]:
    """Every row's score from the model fitted without its domain, rows regrouped domain by domain."""
    ordered, pooled = [], []
    for domain in sorted({document.domain for _, _, document in rows}):
        held = [row for row in rows if row[2].domain == domain]
        model = fit([row for row in rows if row[2].domain != domain], c, scale)
        ordered += held
        pooled += list(scores(*model, held))
    return ordered, pooled


def choose(candidates):
    """The setting RULE picks from (c, scale, threshold, figures) candidates."""
    return max(candidates, key=lambda candidate: (candidate[3]["f1"], -candidate[2]))


def by_domain(rows, probabilities, threshold: float) -> dict[str, dict[str, float]]:
    """Out-of-fold figures of each held-out domain at ``threshold``."""
    result = {}
    for domain in sorted({document.domain for _, _, document in rows}):
        picked = [(row, p) for row, p in zip(rows, probabilities) if row[2].domain == domain]
        result[domain] = figures([p for _, p in picked], [row for row, _ in picked], threshold) \
            | {"forecasts": sum(row[1] for row, _ in picked), "sentences": len(picked)}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dry-run", action="store_true", help="report the cross-validation, write nothing")
    args = parser.parse_args()
    documents = corpus.tuning_documents(ROOT / "corpus")
    rows = featurise(documents)
    candidates, pooled_scores = [], {}
    for c in C_GRID:
        for scale in LEXICAL_SCALES:
            ordered, pooled = out_of_fold(rows, c, scale)
            pooled_scores[c, scale] = ordered, pooled
            candidates += [(c, scale, threshold, figures(pooled, ordered, threshold)) for threshold in THRESHOLDS]
    c, scale, threshold, result = choose(candidates)
    folds = by_domain(*pooled_scores[c, scale], threshold)
    print(f"rule: {RULE}\nchosen on {len(rows)} train + dev + retired-set sentences in {len(folds)} domain folds: C={c} "
          f"lexical scale={scale} threshold={threshold}; pooled out-of-fold {result}")
    for domain, figure in folds.items():
        print(f"  held out {domain:<17} {figure}")
    if args.dry_run:
        return
    vectoriser, classifier, _ = fit(rows, c, scale)
    weights = {name: round(float(weight * (scale if features.is_lexical(name) else 1.0)), 5)
               for name, weight in zip(vectoriser.feature_names_, classifier.coef_[0]) if abs(weight) >= 1e-5}
    meta = {"trained_on": f"corpus/sentences train and dev splits and the retired held-out sets "
                          f"({', '.join(corpus.RETIRED_SETS)})",
            "chosen_on": "leave-one-domain-out cross-validation over train and dev", "rule": RULE,
            "documents": len({d.id for _, _, d in rows}), "sentences": len(rows), "C": c,
            "lexical_scale": scale, "seed": SEED, "split_seed": corpus.SPLIT_SEED,
            "cross_validation": {"pooled": result, "by_domain": folds}, "hash_buckets": features.HASH_BUCKETS}
    OUTPUT.write_text(json.dumps({"weights": weights, "bias": round(float(classifier.intercept_[0]), 5),
                                  "threshold": threshold, "meta": meta}, indent=0, sort_keys=True) + "\n",
                      encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)} ({OUTPUT.stat().st_size // 1024} KiB, {len(weights)} weights)")


if __name__ == "__main__":
    main()

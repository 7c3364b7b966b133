"""Annotation-artefact check for our Romanian NLI: a classifier that reads only the hypothesis.

A bag of words and word pairs with (one-vs-rest) logistic regression, its C chosen by 5-fold cross-validation on
the train split, scored once on the test split and on the validation split; and the same classifier cross-validated
inside the test split (folds by premise), which finds cues the test split carries on its own.  Chance is 1/3; XNLI's protocol aims at a test
accuracy this baseline cannot push far above it (our bar: under 0.45).

    python eval/hypothesis_only.py                  # data/ro_nli of the checkout
    python eval/hypothesis_only.py --dir other/ro_nli --format json
"""
from __future__ import annotations

import argparse
import json

from sklearn.feature_extraction.text import CountVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_val_score
from sklearn.multiclass import OneVsRestClassifier  # liblinear, one class at a time: seconds, not minutes
from sklearn.pipeline import make_pipeline

from contradict.evaluation import datasets


def hypothesis_only(directory=None, seed: int = 0) -> dict:
    train = datasets.ro_nli("train", path=directory)
    test = datasets.ro_nli("test", path=directory)
    pipeline = make_pipeline(CountVectorizer(ngram_range=(1, 2), lowercase=True, min_df=1),
                             OneVsRestClassifier(LogisticRegression(solver="liblinear", random_state=seed)))
    search = GridSearchCV(pipeline, {"onevsrestclassifier__estimator__C": [0.01, 0.1, 1.0, 10.0]}, cv=5)
    search.fit(train["hypothesis"], train["label"])
    predicted = search.predict(test["hypothesis"])
    per_label = {label: float((predicted[test["label"] == label] == label).mean()) for label in datasets.LABELS}
    # cues inside the test split itself, whatever the train split teaches: 5 folds, one premise never split
    within = cross_val_score(search.best_estimator_, test["hypothesis"], test["label"], groups=test["item"],
                             cv=GroupKFold(n_splits=5))
    # a copy of the data from before the validation split (run 7's) has none
    has_validation = (datasets.ro_nli_dir(directory) / "validation.jsonl").is_file()
    validation = datasets.ro_nli("validation", path=directory) if has_validation else None
    return {"train_pairs": len(train), "test_pairs": len(test),
            "validation_pairs": len(validation) if has_validation else 0,
            "validation_accuracy": float(accuracy_score(validation["label"], search.predict(validation["hypothesis"])))
            if has_validation else None,
            "C": search.best_params_["onevsrestclassifier__estimator__C"],
            "cv_accuracy": float(search.best_score_), "test_accuracy": float(accuracy_score(test["label"], predicted)),
            "test_recall_per_label": per_label, "within_test_cv_accuracy": float(within.mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=None, help="folder with train.jsonl and test.jsonl (default: data/ro_nli)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    result = hypothesis_only(args.dir)
    if args.format == "json":
        print(json.dumps(result, indent=2))
    else:
        print(f"hypothesis-only baseline: test accuracy {result['test_accuracy']:.3f} "
              f"({result['test_pairs']} pairs; cross-validated on train {result['cv_accuracy']:.3f}, C={result['C']})")
        print(f"  hypothesis-only cross-validated within the test split: {result['within_test_cv_accuracy']:.3f}")
        if result["validation_pairs"]:
            print(f"  on the validation split ({result['validation_pairs']} pairs): {result['validation_accuracy']:.3f}")
        for label, recall in result["test_recall_per_label"].items():
            print(f"  {label:13s} recall {recall:.3f}")


if __name__ == "__main__":
    main()

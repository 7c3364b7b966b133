"""Metrics of NLI probabilities against gold labels: pure functions, checkable by hand."""
from __future__ import annotations

import math
from collections import defaultdict
from typing import Iterable

import numpy as np
import pandas as pd

from ..errors import ContradictError
from ..labels import CONTRADICTION, LABELS, label_indices

ECE_BINS = 15


def json_number(value) -> float | None:
    """JSON-safe: NaN (undefined, e.g. precision of a class never predicted) becomes None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """Equal-width confidence bins (lo, hi]: count, mean confidence and accuracy of each non-empty bin."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    result = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            result.append({"lo": b / bins, "hi": (b + 1) / bins, "n": int(mask.sum()),
                           "confidence": float(confidence[mask].mean()), "accuracy": float(correct[mask].mean())})
    return result


def expected_calibration_error(confidence, correct, bins: int = ECE_BINS) -> float:
    n = len(confidence)
    return float(sum(b["n"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in reliability_bins(confidence, correct, bins))) if n else float("nan")


def _accuracy_macro_f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Accuracy, and macro-F1 over the classes present in the gold labels (an absent class has no recall)."""
    from sklearn.metrics import f1_score

    gold_classes = sorted(set(y.tolist()))
    return float((y == pred).mean()), float(f1_score(y, pred, labels=gold_classes, average="macro", zero_division=0))


def _per_group(y: np.ndarray, pred: np.ndarray, groups) -> dict:
    groups = np.asarray(groups, dtype=object)
    result = {}
    for group in sorted(set(groups.tolist()), key=str):
        mask = groups == group
        accuracy, macro_f1 = _accuracy_macro_f1(y[mask], pred[mask])
        result[str(group)] = {"n": int(mask.sum()), "accuracy": json_number(accuracy), "macro_f1": json_number(macro_f1)}
    return result


def compute_metrics(y_true: Iterable, probs, langs: Iterable | None = None) -> dict:
    """Metrics of (n, 3) probabilities in LABELS order against gold labels (names or LABELS indices).

    accuracy; macro_f1 (over the gold classes); per_class precision/recall/f1/support (None where
    undefined); confusion_matrix (rows gold, columns predicted); contradiction-vs-rest ROC-AUC,
    PR-AUC (average precision) and argmax precision/recall/F1; ece (15 bins on the max probability);
    per_language n/accuracy/macro_f1 when `langs` is given.
    """
    from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_fscore_support, \
        roc_auc_score

    y = label_indices(y_true)
    probs = np.asarray(probs, dtype=float)
    if not len(y):
        raise ContradictError("no rows to evaluate")
    if probs.shape != (len(y), len(LABELS)):
        raise ValueError(f"probs must have shape ({len(y)}, {len(LABELS)}), got {probs.shape}")
    pred = probs.argmax(axis=1)
    everything = list(range(len(LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=everything,
                                                                     zero_division=np.nan)
    accuracy, macro_f1 = _accuracy_macro_f1(y, pred)
    per_class = {label: {"precision": json_number(precision[i]), "recall": json_number(recall[i]), "f1": json_number(f1[i]),
                         "support": int(support[i])} for i, label in enumerate(LABELS)}
    is_contradiction = y == CONTRADICTION
    both_classes = 0 < is_contradiction.sum() < len(y)
    return {
        "n": int(len(y)),
        "accuracy": json_number(accuracy),
        "macro_f1": json_number(macro_f1),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(LABELS),
                             "matrix": confusion_matrix(y, pred, labels=everything).tolist()},
        "contradiction_roc_auc": json_number(roc_auc_score(is_contradiction, probs[:, CONTRADICTION]))
        if both_classes else None,
        "contradiction_pr_auc": json_number(average_precision_score(is_contradiction, probs[:, CONTRADICTION]))
        if both_classes else None,
        # contradiction vs not (the FEVER-style reading): the contradiction row of per_class, plus accuracy
        "contradiction_binary": {**per_class["contradiction"],
                                 "accuracy": json_number(((pred == CONTRADICTION) == is_contradiction).mean())},
        "ece": json_number(expected_calibration_error(probs.max(axis=1), pred == y)),
        "mean_confidence": json_number(probs.max(axis=1).mean()),
        "per_language": _per_group(y, pred, list(langs)) if langs is not None else {},
    }


def _as_tags(value) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(t) for t in value]
    return []


def breakdowns(frame: pd.DataFrame, probs) -> dict:
    """Data-set specific figures, from the extra columns the loaders add.

    tags (ANLI): accuracy per reasoning tag; round (ANLI): per round; label4 (RoNLI): share of each
    predicted 3-way label per 4-way gold label; category (Breaking NLI): contradiction recall per category.
    """
    y = label_indices(frame["label"])
    pred = np.asarray(probs).argmax(axis=1)
    correct = y == pred
    result = {}
    if "tags" in frame:
        seen = defaultdict(list)
        for tags, ok in zip(frame["tags"], correct):
            for tag in set(_as_tags(tags)):  # a tag listed twice on a row counts once
                seen[tag].append(ok)
        result["per_tag"] = {tag: {"n": len(oks), "accuracy": json_number(np.mean(oks))}
                             for tag, oks in sorted(seen.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
    if "round" in frame:
        result["per_round"] = _per_group(y, pred, frame["round"])
    for column in ("source", "phenomenon"):  # the validation pool's sources, our Romanian NLI's phenomena
        if column in frame:
            result[f"per_{column}"] = _per_group(y, pred, frame[column])
    if "label4" in frame:
        label4 = frame["label4"].astype(str).values
        result["label4"] = {
            gold: {"n": int((label4 == gold).sum()),
                   "predicted": {label: json_number((pred[label4 == gold] == i).mean()) for i, label in enumerate(LABELS)}}
            for gold in sorted(set(label4))}
    if "category" in frame:
        category = frame["category"].astype(str).values
        result["per_category"] = {}
        for name in sorted(set(category)):
            gold = (category == name) & (y == CONTRADICTION)
            result["per_category"][name] = {
                "n": int(gold.sum()),
                "contradiction_recall": json_number((pred[gold] == CONTRADICTION).mean()) if gold.any() else None}
    return result

"""Fitting the learned ranker: a logistic regression over the pair signals of labelled documents.

The documents should be ones the model did not train on (the fit split of `evaluation.docbench`, built
from the pool's validation split): on its own training items the model is overconfident, and a ranker
fitted there learns to trust the NLI score more than it deserves.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

import numpy as np

from ..evaluation.documents import gold_or_left_out, load_docs, score_docs, statement_span
from ..pipeline.ranking import LearnedRanker
from ..pipeline.signals import GROUPS, NAMES, SIGNS, pair_signals

C_GRID = (0.03, 0.1, 0.3, 1.0, 3.0)
FOLDS = 5
TARGET_PRECISION = 0.8


def document_rows(docs: Sequence[dict], scored: Sequence):
    """Signals, labels (the pair is gold) and document numbers of every scored pair; pairs ambiguous by
    construction are left out, as in the evaluation."""
    xs, ys, groups = [], [], []
    for number, (doc, one) in enumerate(zip(docs, scored)):
        if not one.pairs:
            continue
        signals, _ = pair_signals(one.statements, one.pairs, one.probs_ab, one.probs_ba)
        offset_b = len(doc["text"]) + 1
        for k, (i, j) in enumerate(one.pairs):
            pair = (statement_span(one.statements[i], offset_b), statement_span(one.statements[j], offset_b))
            gold = gold_or_left_out(doc, pair)
            if gold is None:
                continue
            xs.append(signals[k])
            ys.append(gold)
            groups.append(number)
    if not xs:
        return np.zeros((0, len(NAMES))), np.zeros(0, dtype=bool), np.zeros(0, dtype=int)
    return np.asarray(xs), np.asarray(ys, dtype=bool), np.asarray(groups)


def _fit(x: np.ndarray, y: np.ndarray, c: float, weight: np.ndarray, signs: Sequence[int]):
    """L2-regularised logistic regression (sklearn's objective: C * weighted log loss + |w|^2 / 2) whose
    weights keep the signs in `signs` (L-BFGS-B with bounds; scikit-learn's solvers take no bounds)."""
    from scipy.optimize import minimize

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0  # a constant feature carries no information: weight it at zero cost
    z = (x - mean) / scale
    target = y.astype(float)

    def objective(params):
        w, b = params[:-1], params[-1]
        logits = z @ w + b
        loss = np.logaddexp(0.0, logits) - target * logits
        residual = weight * (1.0 / (1.0 + np.exp(-logits)) - target)
        grad = np.append(c * (z.T @ residual) + w, c * residual.sum())
        return c * float(weight @ loss) + 0.5 * float(w @ w), grad

    bounds = [(0.0, None) if sign > 0 else (None, 0.0) if sign < 0 else (None, None) for sign in signs]
    result = minimize(objective, np.zeros(z.shape[1] + 1), jac=True, method="L-BFGS-B",
                      bounds=bounds + [(None, None)], options={"maxiter": 5000})
    return mean, scale, result.x[:-1], float(result.x[-1])


def _predict(x, mean, scale, coef, intercept) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-(((x - mean) / scale) @ coef + intercept)))


def _threshold_for_precision(scores: np.ndarray, labels: np.ndarray, target: float,
                             weight: np.ndarray | None = None) -> float:
    """The lowest score cut whose pairs at or above it are at least `target` precise (weighted as in the
    fit); 1.0 (report nothing) when no cut is."""
    weight = np.ones(len(scores)) if weight is None else weight
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum((labels * weight)[order])
    precision = hits / np.cumsum(weight[order])
    ok = np.flatnonzero(precision >= target)
    if not len(ok):
        return 1.0
    return float(scores[order][ok[-1]])


def fit_rows(x: np.ndarray, y: np.ndarray, groups: np.ndarray, features: Sequence[str] = NAMES, seed: int = 0,
             c_grid: Sequence[float] = C_GRID, target_precision: float = TARGET_PRECISION,
             sample_weight: np.ndarray | None = None) -> LearnedRanker:
    """C chosen by grouped cross-validation (documents never split; folds shuffled by `seed`) on weighted
    log loss; the threshold chosen on the out-of-fold scores for `target_precision`; then one fit on every
    row.  Weights keep the signs of `signals.SIGNS`."""
    from sklearn.model_selection import GroupKFold

    if y.sum() < FOLDS or (~y).sum() < FOLDS:
        raise ValueError(f"too few gold ({int(y.sum())}) or other ({int((~y).sum())}) pairs to fit a ranker")
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
    weight = weight / weight.mean()
    columns = [NAMES.index(f) for f in features]
    signs = [SIGNS.get(f, 0) for f in features]
    x = x[:, columns]
    folds = list(GroupKFold(n_splits=FOLDS, shuffle=True, random_state=seed).split(x, y, groups))
    best = None
    for c in c_grid:
        oof = np.zeros(len(y))
        for train, test in folds:
            oof[test] = _predict(x[test], *_fit(x[train], y[train], c, weight[train], signs))
        p = np.clip(oof, 1e-6, 1 - 1e-6)
        loss = float(np.average(-(y * np.log(p) + (~y) * np.log(1 - p)), weights=weight))
        if best is None or loss < best[0]:
            best = (loss, c, oof)
    loss, c, oof = best
    threshold = _threshold_for_precision(oof, y, target_precision, weight)
    mean, scale, coef, intercept = _fit(x, y, c, weight, signs)
    fitted = {"rows": int(len(y)), "gold_pairs": int(y.sum()), "documents": int(len(np.unique(groups))),
              "C": c, "cv_log_loss": round(float(loss), 5), "seed": seed,
              "threshold_rule": f"lowest out-of-fold score cut with pair precision >= {target_precision}"}
    return LearnedRanker(list(features), mean, scale, coef, intercept, threshold, fitted)


def parse_source(spec: str) -> tuple[str, float | None]:
    """"FILE=0.25": the documents of FILE carry a quarter of the fit's weight; "FILE": weighted by rows."""
    path, _, share = spec.rpartition("=")
    if path:
        try:
            value = float(share)
        except ValueError:
            return spec, None
        if not 0.0 < value < 1.0:
            raise ValueError(f"a document share must be between 0 and 1 (exclusive), got {spec!r}")
        return path, value
    return spec, None


def fit_ranker(sources: Sequence[str | tuple[str, float | None]], detector, seed: int = 0,
               features: Sequence[str] = NAMES, show_progress_bar: bool | None = None,
               about: dict | None = None) -> LearnedRanker:
    """Score each source's documents with `detector`'s model and fit a ranker on them all (see `fit_rows`).

    A source with a share (`"FILE=0.25"` or `(FILE, 0.25)`) gets that share of the total weight; the others
    split the rest in proportion to their rows, so a few documents written the way articles are written
    are not drowned by thousands built from NLI pairs."""
    started = time.time()
    parts = []
    for source in sources:
        path, share = parse_source(source) if isinstance(source, str) else source
        docs = load_docs(path)
        x, y, groups = document_rows(docs, score_docs(docs, detector, show_progress_bar))
        parts.append((path, share, x, y, groups))
    fixed = sum(share for _, share, *_ in parts if share)
    if fixed >= 1.0:
        raise ValueError("the shares of the document sources add up to 1 or more")
    free_rows = sum(len(y) for _, share, _, y, _ in parts if not share)
    weights, described = [], []
    for path, share, x, y, groups in parts:
        total = share if share else (1.0 - fixed) * len(y) / max(1, free_rows)
        weights.append(np.full(len(y), total / max(1, len(y))))
        described.append({"documents": str(Path(path).name), "pairs": int(len(y)), "share": round(total, 4)})
    x = np.concatenate([p[2] for p in parts])
    y = np.concatenate([p[3] for p in parts])
    groups = np.concatenate([p[4] + 10**6 * k for k, p in enumerate(parts)])  # documents never mix sources
    ranker = fit_rows(x, y, groups, features, seed, sample_weight=np.concatenate(weights))
    ranker.fitted.update(about or {}, sources=described, model=getattr(detector, "model_name", None),
                         seconds=round(time.time() - started, 1))
    return ranker


def drop_group(group: str) -> list[str]:
    """The feature list without one group: for ablations."""
    if group not in GROUPS:
        raise ValueError(f"unknown feature group {group!r}; known: {', '.join(GROUPS)}")
    return [name for name in NAMES if name not in GROUPS[group]]

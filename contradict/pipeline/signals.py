"""What a ranker weighs for each candidate pair, as one numeric row per pair.

Groups (an ablation drops a whole group): `nli` (both directions' label probabilities and how they
agree), `background` (each statement's other pairs: a statement that contradicts everything says
nothing specific), `overlap` (entities, words, numbers, dates shared), `evidence` (the surface tags of
features.evidence_kinds, and a bare denial), `source` (attributed or not, same or different source),
`position` (distance in the text, lengths, document size).
"""
from __future__ import annotations

import math
from statistics import median
from typing import Sequence

import numpy as np

from ..labels import CONTRADICTION, ENTAILMENT, NEUTRAL
from .features import Facts, evidence_kinds, facts, same_source, topical_overlap
from .statements import Statement

EVIDENCE_TAGS = ("negation", "number", "date", "quantity", "changed-figure", "different-sources", "denial")

GROUPS = {
    "nli": ("contradiction_mean", "contradiction_min", "contradiction_max", "contradiction_logit",
            "entailment_max", "neutral_mean"),
    "background": ("background_median", "background_max", "above_background", "top_of_both", "top_of_one"),
    "overlap": ("entity_overlap", "word_overlap", "shared_years", "shared_numbers", "topical_overlap"),
    # one side denying what the other asserts is evidence; two denials agree with each other
    "evidence": tuple(f"tag_{t}" for t in EVIDENCE_TAGS if t != "different-sources") + ("rejects_one", "rejects_both"),
    "source": ("attributed_both", "attributed_one", "tag_different-sources", "same_source"),
    "position": ("distance", "log_length_min", "log_length_ratio", "log_statements", "cross_text"),
}
NAMES = tuple(name for group in GROUPS.values() for name in group)

# The direction a careful reader gives each signal, as a constraint on its learned weight: +1 may only raise
# the score, -1 only lower it, 0 is free.  Documents built from NLI data rarely carry a date or quantity
# conflict, so without this a ranker fitted there can learn that such evidence argues *against* a
# contradiction, which no reader would accept.
SIGNS = {
    **{n: +1 for n in ("contradiction_mean", "contradiction_min", "contradiction_max", "contradiction_logit",
                       "above_background", "top_of_both", "top_of_one")},
    **{n: -1 for n in ("entailment_max", "background_median", "background_max")},
    **{n: +1 for n in GROUPS["overlap"]},
    **{n: +1 for n in GROUPS["evidence"] if n != "rejects_both"},
    "rejects_both": -1,
    "tag_different-sources": +1,
}


def _share(a: frozenset, b: frozenset) -> float:
    return len(a & b) / max(1, min(len(a), len(b)))


def _logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def _backgrounds(raw: np.ndarray, pairs: Sequence[tuple[int, int]], n: int):
    """Per pair: the median and max over each statement's other pairs (the larger of the two statements),
    and whether the pair is the top pair of both / one of its statements."""
    per: list[list[int]] = [[] for _ in range(n)]
    for k, (i, j) in enumerate(pairs):
        per[i].append(k)
        per[j].append(k)
    med = np.zeros(len(pairs))
    top = np.zeros(len(pairs))
    tops = np.zeros((len(pairs), 2), dtype=bool)
    for k, (i, j) in enumerate(pairs):
        for side, s in enumerate((i, j)):
            others = [raw[m] for m in per[s] if m != k]
            if others:
                med[k] = max(med[k], median(others))
                top[k] = max(top[k], max(others))
            tops[k, side] = not others or raw[k] >= max(others)
    return med, top, tops


def pair_evidence(a: Statement, b: Statement) -> tuple[Facts, Facts, list[str], bool]:
    """Both statements' facts, the evidence tags the code can justify ("denial" among them when one
    statement denies the other), and whether it does."""
    fa, fb = facts(a.text), facts(b.text)
    kinds = evidence_kinds(fa, fb, a.source, b.source)
    denial = a.denial_with(b)
    if denial:
        kinds.append("denial")
    return fa, fb, kinds, denial


def pair_signals(statements: Sequence[Statement], pairs: Sequence[tuple[int, int]], probs_ab: np.ndarray,
                 probs_ba: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
    """(len(pairs), len(NAMES)) feature rows, and each pair's evidence tags."""
    n = len(statements)
    raw = (probs_ab[:, CONTRADICTION] + probs_ba[:, CONTRADICTION]) / 2 if len(pairs) else np.zeros(0)
    med, top, tops = _backgrounds(raw, pairs, n)
    rows, all_kinds = [], []
    for k, (i, j) in enumerate(pairs):
        a, b = statements[i], statements[j]
        fa, fb, kinds, _ = pair_evidence(a, b)
        all_kinds.append(kinds)
        c_ab, c_ba = float(probs_ab[k, CONTRADICTION]), float(probs_ba[k, CONTRADICTION])
        values = {
            "contradiction_mean": raw[k], "contradiction_min": min(c_ab, c_ba), "contradiction_max": max(c_ab, c_ba),
            "contradiction_logit": _logit(raw[k]),
            "entailment_max": max(probs_ab[k, ENTAILMENT], probs_ba[k, ENTAILMENT]),
            "neutral_mean": (probs_ab[k, NEUTRAL] + probs_ba[k, NEUTRAL]) / 2,
            "background_median": med[k], "background_max": top[k],
            "above_background": raw[k] - med[k], "top_of_both": float(tops[k].all()),
            "top_of_one": float(tops[k].any() and not tops[k].all()),
            **_overlap(fa, fb),
            **{f"tag_{t}": float(t in kinds) for t in EVIDENCE_TAGS},
            "rejects_one": float(fa.rejects != fb.rejects), "rejects_both": float(fa.rejects and fb.rejects),
            "attributed_both": float(bool(a.source and b.source)),
            "attributed_one": float(bool(a.source) != bool(b.source)),
            "same_source": float(bool(a.source and b.source and same_source(a.source, b.source))),
            "distance": abs(j - i) / max(1, n - 1) if a.doc == b.doc else 1.0,
            "log_length_min": math.log1p(min(len(a.text), len(b.text))),
            "log_length_ratio": abs(math.log1p(len(a.text)) - math.log1p(len(b.text))),
            "log_statements": math.log1p(n), "cross_text": float(a.doc != b.doc),
        }
        rows.append([float(values[name]) for name in NAMES])
    return np.asarray(rows, dtype=np.float64).reshape(len(pairs), len(NAMES)), all_kinds


def _overlap(fa: Facts, fb: Facts) -> dict:
    return {"entity_overlap": _share(fa.entities, fb.entities), "word_overlap": _share(fa.words, fb.words),
            "shared_years": float(bool(fa.years & fb.years)), "shared_numbers": float(bool(fa.numbers & fb.numbers)),
            "topical_overlap": topical_overlap(fa, fb)}

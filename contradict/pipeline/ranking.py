"""From NLI probabilities to a ranked list of specific contradictions.

For an unordered pair (a, b) with contradiction probabilities c_ab (a as
premise) and c_ba, the raw NLI score is their mean: contradiction is symmetric,
and the mean damps one-direction noise of small models.

Raw NLI probability is a poor ranking: a statement that contradicts nearly
everything ("Toate astea sunt minciuni") carries no specific claim.  Each
statement's *background* is the median raw score of its other pairs; the
specific NLI score is how far the pair rises above the larger background of
its two statements, rescaled to [0, 1], and weighted by topical overlap
(shared entities, dates, words): nli_part = specific * (0.6 + 0.4 * overlap).

Surface evidence the code can justify (a date, number or quantity mismatch, a
negation, an explicit denial) between statements that share entities gives a
second score, surface_part in [0, 0.8] (features.surface_evidence).  The two
are combined as independent signals (noisy-OR):
score = 1 - (1 - nli_part) * (1 - surface_part * (1 - entailment / 2)), where
entailment is the larger of the two directions' entailment probabilities.  A
pair the model reads as saying the same thing keeps only half its surface
evidence, not none: small models take word overlap for entailment ("regular
contact since 2022" "entails" "a single call before 2022" at 0.7 for the
embedded model), which is exactly where the surface cues matter.  A "changed
figure" (the same words with another number or year) keeps all of it: the
model reads such a pair as a restatement.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Sequence

import numpy as np

from ..defaults import THRESHOLD
from ..labels import CONTRADICTION, ENTAILMENT, LABELS
from .features import evidence_kinds, facts, surface_evidence, topical_overlap
from .statements import Statement

MIN_PAIRS_FOR_BACKGROUND = 3


@dataclass
class Contradiction:
    score: float
    a: Statement
    b: Statement
    probs: dict  # {"ab": {label: p}, "ba": {label: p}}
    kinds: list[str] = field(default_factory=list)
    nli: float = 0.0  # mean contradiction probability before ranking corrections
    reverse_scored: bool = True  # False: probs["ba"] repeats "ab" (Detector(reverse_share < 1) skipped it)

    def to_dict(self) -> dict:
        def span(s: Statement) -> dict:
            return {"text": s.text, "start": s.start, "end": s.end, "source": s.source,
                    "sentence": [s.sentence_start, s.sentence_end], "doc": s.doc}

        return {"score": round(float(self.score), 6), "nli": round(float(self.nli), 6),
                "a": span(self.a), "b": span(self.b), "kinds": list(self.kinds),
                "reverse_scored": bool(self.reverse_scored),
                "probs": {d: {k: round(float(v), 6) for k, v in p.items()} for d, p in self.probs.items()}}


def _background(raw: dict[tuple[int, int], float], n: int) -> dict[tuple[int, int], float]:
    """For each pair, the larger of its two statements' median score over their *other* pairs."""
    per: dict[int, list[tuple[tuple[int, int], float]]] = {i: [] for i in range(n)}
    for pair, value in raw.items():
        per[pair[0]].append((pair, value))
        per[pair[1]].append((pair, value))
    result = {}
    for pair in raw:
        levels = []
        for i in pair:
            others = [v for p, v in per[i] if p != pair]
            levels.append(median(others) if len(others) >= MIN_PAIRS_FOR_BACKGROUND else 0.0)
        result[pair] = max(levels)
    return result


def rank(statements: Sequence[Statement], pairs: Sequence[tuple[int, int]], probs_ab: np.ndarray,
         probs_ba: np.ndarray, threshold: float = THRESHOLD, top_k: int | None = None,
         reverse_scored: Sequence[bool] | None = None) -> list[Contradiction]:
    """Contradictions among `pairs` (positions into `statements`), most specific first."""
    raw = {tuple(p): float((probs_ab[k, CONTRADICTION] + probs_ba[k, CONTRADICTION]) / 2) for k, p in enumerate(pairs)}
    background = _background(raw, len(statements))
    found = []
    for k, (i, j) in enumerate(pairs):
        a, b = statements[i], statements[j]
        nli = raw[(i, j)]
        bg = background[(i, j)]
        specific = max(0.0, nli - bg) / (1.0 - bg) if bg < 1.0 else 0.0
        fa, fb = facts(a.text), facts(b.text)
        denial = a.denial_with(b)
        if denial:
            specific = max(specific, nli)  # an explicit denial is specific by construction
        nli_part = specific * (0.6 + 0.4 * topical_overlap(fa, fb))
        kinds = evidence_kinds(fa, fb, a.source, b.source)
        if denial:
            kinds.append("denial")
        entailment = max(probs_ab[k, ENTAILMENT], probs_ba[k, ENTAILMENT])
        # a figure changed in the same words reads to the model as a restatement: entailment is no counter-sign
        damping = 1.0 if "changed-figure" in kinds else 1.0 - float(entailment) / 2
        surface_part = surface_evidence(kinds, fa, fb) * damping
        score = 1.0 - (1.0 - nli_part) * (1.0 - surface_part)
        if score < threshold:
            continue
        probs = {"ab": dict(zip(LABELS, map(float, probs_ab[k]))), "ba": dict(zip(LABELS, map(float, probs_ba[k])))}
        found.append(Contradiction(score=min(1.0, score), a=a, b=b, probs=probs, kinds=kinds, nli=nli,
                                   reverse_scored=True if reverse_scored is None else bool(reverse_scored[k])))
    # deterministic: score, then document order
    found.sort(key=lambda x: (-x.score, x.a.doc, x.a.start, x.b.doc, x.b.start))
    return found[:top_k] if top_k else found

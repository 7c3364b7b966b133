"""From NLI probabilities to a ranked list of specific contradictions.

Two rankers.  `LearnedRanker` (the default where the model directory has a `ranker.json`): a logistic
regression over `signals.pair_signals`, fitted on labelled documents (`contradict fit-ranker`), whose
score reads as the probability that the pair is a real contradiction of its document.  `RulesRanker`
(`ranker="rules"`): the hand-written formula below, kept for comparison and for models without a ranker.

The rules formula:

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

import json
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import Sequence

import numpy as np

from ..defaults import THRESHOLD
from ..errors import ContradictError
from ..labels import CONTRADICTION, ENTAILMENT, LABELS
from .features import surface_evidence, topical_overlap
from .signals import NAMES, pair_evidence, pair_signals
from .statements import Statement

MIN_PAIRS_FOR_BACKGROUND = 3
RANKER_FILE = "ranker.json"
RANKER_FORMAT = 1


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


class RulesRanker:
    """The hand-written formula of the module docstring."""

    name = "rules"
    threshold = THRESHOLD

    def score(self, statements: Sequence[Statement], pairs: Sequence[tuple[int, int]], probs_ab: np.ndarray,
              probs_ba: np.ndarray) -> tuple[np.ndarray, list[list[str]]]:
        raw = {tuple(p): float((probs_ab[k, CONTRADICTION] + probs_ba[k, CONTRADICTION]) / 2)
               for k, p in enumerate(pairs)}
        background = _background(raw, len(statements))
        scores, all_kinds = np.zeros(len(pairs)), []
        for k, (i, j) in enumerate(pairs):
            a, b = statements[i], statements[j]
            nli, bg = raw[(i, j)], background[(i, j)]
            specific = max(0.0, nli - bg) / (1.0 - bg) if bg < 1.0 else 0.0
            fa, fb, kinds, denial = pair_evidence(a, b)
            if denial:
                specific = max(specific, nli)  # an explicit denial is specific by construction
            nli_part = specific * (0.6 + 0.4 * topical_overlap(fa, fb))
            entailment = max(probs_ab[k, ENTAILMENT], probs_ba[k, ENTAILMENT])
            # a figure changed in the same words reads to the model as a restatement: entailment is no counter-sign
            damping = 1.0 if "changed-figure" in kinds else 1.0 - float(entailment) / 2
            surface_part = surface_evidence(kinds, fa, fb) * damping
            scores[k] = min(1.0, 1.0 - (1.0 - nli_part) * (1.0 - surface_part))
            all_kinds.append(kinds)
        return scores, all_kinds


class LearnedRanker:
    """A logistic regression over the pair signals, read from JSON (no pickle): standardised features,
    one weight each.  `threshold` was chosen on the documents it was fitted on (see `fitted`)."""

    name = "learned"

    def __init__(self, features: Sequence[str], mean, scale, coef, intercept: float, threshold: float,
                 fitted: dict | None = None, path: str | None = None):
        unknown = [f for f in features if f not in NAMES]
        if unknown:
            raise ContradictError(f"ranker {path or ''}: unknown features {', '.join(unknown)}")
        self.features = list(features)
        self.columns = [NAMES.index(f) for f in self.features]
        self.mean, self.scale = np.asarray(mean, dtype=float), np.asarray(scale, dtype=float)
        self.coef, self.intercept = np.asarray(coef, dtype=float), float(intercept)
        if not (len(self.mean) == len(self.scale) == len(self.coef) == len(self.features)):
            raise ContradictError(f"ranker {path or ''}: features, mean, scale and coef differ in length")
        self.threshold = float(threshold)
        self.fitted = fitted or {}
        self.path = path

    def probability(self, signals: np.ndarray) -> np.ndarray:
        if not len(signals):
            return np.zeros(0)
        z = ((signals[:, self.columns] - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-z))

    def score(self, statements, pairs, probs_ab, probs_ba) -> tuple[np.ndarray, list[list[str]]]:
        signals, kinds = pair_signals(statements, pairs, probs_ab, probs_ba)
        return self.probability(signals), kinds

    def to_dict(self) -> dict:
        return {"format": RANKER_FORMAT, "kind": "logistic-regression", "features": self.features,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept, "threshold": self.threshold, "fitted": self.fitted}

    def save(self, path) -> Path:
        from ..files import publish_file

        path = Path(path)
        if path.is_dir():
            path = path / RANKER_FILE
        body = json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n"
        return publish_file(path, lambda tmp: tmp.write_text(body, encoding="utf-8"))

    @classmethod
    def load(cls, path) -> "LearnedRanker":
        path = Path(path)
        if path.is_dir():
            path = path / RANKER_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ContradictError(f"no ranker file {path}") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ContradictError(f"cannot read the ranker {path}: {exc}") from None
        if not isinstance(data, dict) or data.get("format") != RANKER_FORMAT:
            raise ContradictError(f"{path} is not a contradict ranker (format {RANKER_FORMAT})")
        try:
            return cls(data["features"], data["mean"], data["scale"], data["coef"], data["intercept"],
                       data["threshold"], data.get("fitted"), str(path))
        except (KeyError, TypeError, ValueError) as exc:
            raise ContradictError(f"ranker {path}: missing or malformed field ({exc})") from None


def resolve_ranker(ranker, model_dir: str | None = None):
    """"default": the model directory's ranker.json when it has one, else the rules; "rules"; a path to a
    ranker.json (or a folder holding one); or a ranker object (anything with `score` and `threshold`)."""
    if ranker is None or ranker == "default":
        candidate = Path(model_dir) / RANKER_FILE if model_dir else None
        return LearnedRanker.load(candidate) if candidate and candidate.is_file() else RulesRanker()
    if ranker == "rules":
        return RulesRanker()
    if isinstance(ranker, (str, Path)):
        return LearnedRanker.load(ranker)
    if not hasattr(ranker, "score"):
        raise ContradictError(f"ranker must be 'default', 'rules', a ranker.json path or a ranker, got {ranker!r}")
    return ranker


def rank(statements: Sequence[Statement], pairs: Sequence[tuple[int, int]], probs_ab: np.ndarray,
         probs_ba: np.ndarray, threshold: float | None = None, top_k: int | None = None,
         reverse_scored: Sequence[bool] | None = None, ranker=None) -> list[Contradiction]:
    """Contradictions among `pairs` (positions into `statements`), most specific first.
    `threshold` None: the ranker's own."""
    ranker = ranker or RulesRanker()
    threshold = ranker.threshold if threshold is None else threshold
    scores, all_kinds = ranker.score(statements, pairs, probs_ab, probs_ba)
    found = []
    for k, (i, j) in enumerate(pairs):
        if scores[k] < threshold:
            continue
        nli = float((probs_ab[k, CONTRADICTION] + probs_ba[k, CONTRADICTION]) / 2)
        probs = {"ab": dict(zip(LABELS, map(float, probs_ab[k]))), "ba": dict(zip(LABELS, map(float, probs_ba[k])))}
        found.append(Contradiction(score=float(scores[k]), a=statements[i], b=statements[j], probs=probs,
                                   kinds=all_kinds[k], nli=nli,
                                   reverse_scored=True if reverse_scored is None else bool(reverse_scored[k])))
    # deterministic: score, then document order
    found.sort(key=lambda x: (-x.score, x.a.doc, x.a.start, x.b.doc, x.b.start))
    return found[:top_k] if top_k else found

"""Which statement pairs to score.

Small documents are checked exhaustively.  Above `max_exhaustive` statements
we keep, for each statement, its `neighbors` nearest statements by sentence
embedding plus up to `anchors` statements sharing an entity, number or date
(rarest anchors first), so the number of pairs grows as about
(neighbors + anchors) * n instead of n^2 / 2.
"""
from __future__ import annotations

from collections import defaultdict
from typing import Callable, Sequence

import numpy as np

from ..defaults import ANCHORS, MAX_EXHAUSTIVE, NEIGHBORS
from .features import facts
from .statements import Statement

Embed = Callable[[Sequence[str]], np.ndarray]


def _allowed(a: Statement, b: Statement, cross_only: bool) -> bool:
    if a is b or (a.doc == b.doc and a.index == b.index):
        return False
    if a.contains(b) or b.contains(a):
        return False
    if cross_only and a.doc == b.doc:
        return False
    return True


def _key(a: Statement, b: Statement):
    return ((a.doc, a.index), (b.doc, b.index)) if (a.doc, a.index) < (b.doc, b.index) else \
        ((b.doc, b.index), (a.doc, a.index))


def candidate_pairs(statements: Sequence[Statement], embed: Embed | None = None, max_exhaustive: int = MAX_EXHAUSTIVE,
                    neighbors: int = NEIGHBORS, anchors: int = ANCHORS, cross_only: bool = False) -> list[tuple[int, int]]:
    """Unordered pairs (i, j), i < j, of positions in `statements`, in a deterministic order."""
    n = len(statements)
    pos = {(s.doc, s.index): i for i, s in enumerate(statements)}
    chosen: set = set()

    def add(i: int, j: int):
        a, b = statements[i], statements[j]
        if _allowed(a, b, cross_only):
            chosen.add(_key(a, b))

    if n <= max_exhaustive:
        for i in range(n):
            for j in range(i + 1, n):
                add(i, j)
    else:
        if embed is not None:
            vectors = np.asarray(embed([s.text for s in statements]), dtype=np.float32)
            vectors /= np.linalg.norm(vectors, axis=1, keepdims=True) + 1e-9
            sims = vectors @ vectors.T
            np.fill_diagonal(sims, -np.inf)
            if cross_only:
                docs = np.array([s.doc for s in statements])
                sims[docs[:, None] == docs[None, :]] = -np.inf
            k = min(neighbors, n - 1)
            nearest = np.argpartition(-sims, k, axis=1)[:, :k] if k < n - 1 else np.argsort(-sims, axis=1)[:, :k]
            for i in range(n):
                for j in nearest[i]:
                    if np.isfinite(sims[i, j]):
                        add(i, int(j))
        # statements sharing a rare anchor (entity, number, year) are likely about the same thing
        index: dict[str, list[int]] = defaultdict(list)
        for i, s in enumerate(statements):
            f = facts(s.text)
            for anchor in f.entities | f.numbers | f.years:
                index[anchor].append(i)
        for i, s in enumerate(statements):
            f = facts(s.text)
            ranked = sorted(f.entities | f.numbers | f.years, key=lambda a: (len(index[a]), a))
            picked = 0
            for anchor in ranked:
                for j in index[anchor]:
                    if picked >= anchors:
                        break
                    if j != i and _key(statements[i], statements[j]) not in chosen \
                            and _allowed(statements[i], statements[j], cross_only):
                        add(i, j)
                        picked += 1
    # a denial is always checked against the claim it points back to
    for i, s in enumerate(statements):
        if s.denies is not None and (s.doc, s.denies) in pos:
            add(pos[(s.doc, s.denies)], i)
    return sorted((pos[a], pos[b]) for a, b in chosen)

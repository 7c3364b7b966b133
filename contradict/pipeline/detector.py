"""The front door: segment -> pair -> score -> rank."""
from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

import numpy as np

from ..defaults import ANCHORS, BATCH_SIZE, MAX_CHARS, MAX_EXHAUSTIVE, NEIGHBORS
from ..errors import InputError
from ..labels import CONTRADICTION
from ..nli.scorer import NLIScorer
from .pairs import candidate_pairs
from .ranking import Contradiction, rank, resolve_ranker
from .statements import Document, Statement, segment

DOCS_PER_BATCH = 16  # Detector.pipe: documents whose pairs are scored together


@dataclass(frozen=True)
class ScanStats:
    statements: int = 0
    pairs_scored: int = 0
    pairs_exhaustive: int = 0
    seconds: float = 0.0


@dataclass
class Scored:
    """One document (or pair of texts) scored but not ranked: what any ranker needs."""

    statements: list[Statement]
    pairs: list[tuple[int, int]]
    probs_ab: np.ndarray
    probs_ba: np.ndarray
    reverse_scored: np.ndarray


class Findings(list):
    """The contradictions of one scan, most specific first (a list), with the scan's `stats`."""

    def __init__(self, found: Iterable[Contradiction] = (), stats: ScanStats | None = None):
        super().__init__(found)
        self.stats = stats or ScanStats()


@dataclass
class _Scan:
    """One document (or pair of texts) between segmentation and ranking."""

    statements: list[Statement]
    pairs: list[tuple[int, int]]
    exhaustive: int
    started: float

    @property
    def texts(self) -> list[tuple[str, str]]:
        return [(self.statements[i].text, self.statements[j].text) for i, j in self.pairs]


class Detector:
    """Finds contradictions inside a text or between two texts.

    >>> det = Detector()                     # the embedded offline model
    >>> det.find(text)[0].a.text             # most specific contradiction first
    """

    def __init__(self, model: str = "default", *, device: str | None = None, threshold: float | None = None,
                 top_k: int | None = None, batch_size: int = BATCH_SIZE, max_exhaustive: int = MAX_EXHAUSTIVE,
                 neighbors: int = NEIGHBORS, anchors: int = ANCHORS, label_map: dict | None = None,
                 trust_remote_code: bool = False, max_length: int | None = None,
                 max_chars: int = MAX_CHARS, show_progress_bar: bool | None = None, cache=None,
                 backend: str = "torch", reverse_share: float = 1.0, scorer=None, ranker="default"):
        """`reverse_share` < 1 scores every pair premise-first, then only that share of the pairs (the most
        contradictory so far, and every denial) in reverse as well; the others reuse the first direction.
        1.0 (the default) scores both directions of every pair; 0.25 took 30% less time on 200 statements.
        `scorer`: anything with NLIScorer's `predict(pairs, batch_size, show_progress_bar)` (and `backend`),
        used instead of loading `model` (a server's shared batcher, say).
        `ranker`: "default" (the model directory's learned ranker.json, else the rules), "rules", a path to a
        ranker.json, or a ranker object.  `threshold` None: the ranker's own (chosen when it was fitted)."""
        if not 0.0 <= reverse_share <= 1.0:
            raise InputError(f"reverse_share must be between 0 and 1, got {reverse_share}")
        self.scorer = scorer if scorer is not None else NLIScorer(
            model, device=device, label_map=label_map, max_length=max_length,
            trust_remote_code=trust_remote_code, cache=cache, backend=backend)
        self.model_name = model
        self.ranker = resolve_ranker(ranker, getattr(self.scorer, "path", None))
        self.threshold = self.ranker.threshold if threshold is None else threshold
        self.top_k, self.batch_size = top_k, batch_size
        self.max_exhaustive, self.neighbors, self.anchors = max_exhaustive, neighbors, anchors
        self.max_chars = max_chars
        self.reverse_share = reverse_share
        self.show_progress_bar = show_progress_bar
        self._encoder = None

    # -- the four steps -------------------------------------------------------------------------
    def segment(self, text: str, lang: str | None = None, doc: int = 0) -> Document:
        if not isinstance(text, str):
            raise InputError(f"expected text (str), got {type(text).__name__}")
        if len(text) > self.max_chars:
            raise InputError(f"the text has {len(text):,} characters; the limit is {self.max_chars:,} "
                             "(max_chars): split it into documents, e.g. with `contradict scan-batch`")
        return segment(text, lang=lang, doc=doc)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        if self._encoder is None:
            from ..nli.encoder import SentenceEncoder

            self._encoder = SentenceEncoder(backend=getattr(self.scorer, "backend", "torch"))
        return self._encoder.encode(texts)

    def score_pairs(self, pairs: Sequence[tuple[str, str]], batch_size: int | None = None,
                    show_progress_bar: bool | None = None) -> np.ndarray:
        """(n, 3) NLI probabilities (entailment, neutral, contradiction) for (premise, hypothesis) pairs."""
        return self.scorer.predict(pairs, batch_size=batch_size or self.batch_size,
                                   show_progress_bar=self.show_progress_bar if show_progress_bar is None
                                   else show_progress_bar)

    def _plan(self, statements: list[Statement], cross_only: bool) -> _Scan:
        started = time.perf_counter()
        pairs = candidate_pairs(statements, embed=self._embed, max_exhaustive=self.max_exhaustive,
                                neighbors=self.neighbors, anchors=self.anchors, cross_only=cross_only)
        if cross_only:
            docs = [s.doc for s in statements]
            exhaustive = docs.count(0) * docs.count(1)
        else:
            exhaustive = len(statements) * (len(statements) - 1) // 2
        return _Scan(statements, pairs, exhaustive, started)

    def _score(self, scans: Sequence[_Scan]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Both directions' probabilities for every scan, the pairs of all scans in shared batches."""
        texts = [t for scan in scans for t in scan.texts]
        bounds = np.cumsum([0] + [len(scan.pairs) for scan in scans])
        if self.reverse_share >= 1.0:
            # both directions in one pass: long and short pairs share length-sorted batches
            probs = self.score_pairs(texts + [(b, a) for a, b in texts]) if texts else np.zeros((0, 3))
            ab, ba, reversed_ = probs[:len(texts)], probs[len(texts):], np.ones(len(texts), dtype=bool)
        else:
            ab = self.score_pairs(texts) if texts else np.zeros((0, 3))
            reversed_ = np.zeros(len(texts), dtype=bool)
            for scan, lo in zip(scans, bounds):  # each document's most contradictory share, and its denials
                k = len(scan.pairs)
                if not k:
                    continue
                top = np.argsort(-ab[lo:lo + k, CONTRADICTION], kind="stable")[:int(np.ceil(self.reverse_share * k))]
                reversed_[lo + top] = True
                for m, (i, j) in enumerate(scan.pairs):
                    reversed_[lo + m] |= scan.statements[i].denial_with(scan.statements[j])
            ba = ab.copy()
            picked = np.flatnonzero(reversed_)
            if len(picked):
                ba[picked] = self.score_pairs([(texts[k][1], texts[k][0]) for k in picked])
        return [(ab[lo:hi], ba[lo:hi], reversed_[lo:hi]) for lo, hi in zip(bounds[:-1], bounds[1:])]

    def _rank(self, scan: _Scan, scored, threshold: float | None, top_k: int | None) -> Findings:
        probs_ab, probs_ba, reversed_ = scored
        found = rank(scan.statements, scan.pairs, probs_ab, probs_ba,
                     threshold=self.threshold if threshold is None else threshold,
                     top_k=self.top_k if top_k is None else (top_k or None), reverse_scored=reversed_,
                     ranker=self.ranker)
        stats = ScanStats(len(scan.statements), len(scan.pairs), scan.exhaustive, time.perf_counter() - scan.started)
        return Findings(found, stats)

    # -- public API ---------------------------------------------------------------------------
    def find(self, text: str, lang: str | None = None, *, threshold: float | None = None,
             top_k: int | None = None) -> Findings:
        """Contradictions inside one text, most specific first; `.stats` says what the scan did.
        `threshold` / `top_k` override the detector's for this call (top_k=0: no limit)."""
        scan = self._plan(self.segment(text, lang).statements, cross_only=False)
        return self._rank(scan, self._score([scan])[0], threshold, top_k)

    def compare(self, text_a: str, text_b: str, lang: str | None = None, *, threshold: float | None = None,
                top_k: int | None = None) -> Findings:
        """Contradictions between two texts; `a` spans point into text_a, `b` spans into text_b."""
        # statements of text_a come first, so every cross pair (i, j) has i in text_a
        first = self.segment(text_a, lang, doc=0).statements
        second = self.segment(text_b, lang, doc=1).statements
        scan = self._plan(first + second, cross_only=True)
        return self._rank(scan, self._score([scan])[0], threshold, top_k)

    def pipe(self, texts: Iterable[str | tuple[str, str | None]], lang: str | None = None, *,
             batch_size: int = DOCS_PER_BATCH, threshold: float | None = None,
             top_k: int | None = None) -> Iterator[Findings]:
        """`find` over many documents, lazily and in input order; the pairs of `batch_size` documents are
        scored in shared batches, so many short documents cost far fewer model calls than one by one.
        An item is a text or a (text, lang) pair; blank texts give empty findings."""
        if batch_size < 1:
            raise InputError(f"batch_size must be at least 1, got {batch_size}")

        def plans():
            for item in texts:
                pair = isinstance(item, (tuple, list)) and len(item) == 2
                text, item_lang = item if pair else (item, None)
                blank = isinstance(text, str) and not text.strip()  # anything else is refused by segment
                yield self._plan([] if blank else self.segment(text, item_lang or lang).statements, cross_only=False)

        for scan, scored in self._scored_plans(plans(), batch_size):
            yield self._rank(scan, scored, threshold, top_k)

    def scored(self, items: Iterable[tuple[str, str | None, str | None]], batch_size: int = DOCS_PER_BATCH
               ) -> Iterator[Scored]:
        """(text, text_b or None, lang) items segmented, paired and scored, unranked, in input order: for
        evaluating or fitting rankers on the same model calls.  A text_b makes it a comparison."""
        def plans():
            for text, text_b, lang in items:
                if text_b is None:
                    yield self._plan(self.segment(text, lang).statements, cross_only=False)
                else:
                    statements = self.segment(text, lang, doc=0).statements + \
                        self.segment(text_b, lang, doc=1).statements
                    yield self._plan(statements, cross_only=True)

        for scan, (ab, ba, reversed_) in self._scored_plans(plans(), batch_size):
            yield Scored(scan.statements, scan.pairs, ab, ba, reversed_)

    def _scored_plans(self, plans: Iterable[_Scan], batch_size: int) -> Iterator[tuple[_Scan, tuple]]:
        """Each plan with its scores, lazily and in order; the pairs of `batch_size` plans share model calls."""
        chunk: list[_Scan] = []
        for plan in plans:
            chunk.append(plan)
            if len(chunk) >= batch_size:
                yield from zip(chunk, self._score(chunk))
                chunk = []
        if chunk:
            yield from zip(chunk, self._score(chunk))


_DETECTORS: OrderedDict = OrderedDict()
_DETECTORS_KEPT = 2  # each holds a model: a few hundred MB for the default, GBs for large hub models


def _options_key(options: dict) -> str:
    """A hashable, order-free key for detector options (dicts such as label_map included)."""
    import json

    return json.dumps(options, sort_keys=True, default=repr)


def find(text: str, model: str = "default", **options) -> Findings:
    """One call: contradictions in `text`.  The last few detectors are kept for later calls."""
    key = (model, _options_key(options))
    if key in _DETECTORS:
        _DETECTORS.move_to_end(key)
    else:
        _DETECTORS[key] = Detector(model, **options)
        while len(_DETECTORS) > _DETECTORS_KEPT:
            _DETECTORS.popitem(last=False)
    return _DETECTORS[key].find(text)

"""Properties that hold for any input: segmentation offsets and ranking order."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from contradict.pipeline.ranking import rank
from contradict.pipeline.statements import LANGS, Statement, segment

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

FRAGMENTS = ["Ministrul a declarat că", "nu există nicio relație", "Potrivit presei,", "cei doi se întâlnesc",
             "din 2022", "Dl.", "nr. 5", "Peskov said that", "the plan failed", "selon Le Monde,", "laut der Zeitung",
             "Nu, nu este adevărat", "I. C. Brătianu", "2,1 mil. lei", "a adăugat ea", "- ", "• ", "| a | b |",
             "Привет", "你好", "مرحبا", "😀", "etc", "e.g", "…"]
PUNCTUATION = [".", "!", "?", ",", ";", ":", "...", "?!", " — ", "„", "”", "«", "»", "\"", "'", "(", ")"]
SPACING = [" ", "  ", "\n", "\n\n", "\r\n", "\t", "\u00a0", ""]

news_like = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(PUNCTUATION), st.sampled_from(SPACING),
                               st.text(max_size=8)), max_size=40).map("".join)
any_text = st.one_of(st.text(), news_like)


def check_statements(text: str, lang: str | None):
    doc = segment(text, lang=lang)
    previous_end = 0
    for position, s in enumerate(doc):
        assert text[s.start:s.end] == s.text and s.text.strip()
        assert s.sentence_start <= s.start < s.end <= s.sentence_end <= len(text)
        assert s.start >= previous_end, "statements overlap or are out of order"
        previous_end = s.end
        assert s.index == position
        if s.source is not None:
            assert text[s.source_start:s.source_end] == s.source
        if s.denies is not None:
            assert 0 <= s.denies < position


@SETTINGS
@given(any_text)
def test_segment_offsets_slice_back(text):
    check_statements(text, lang=None)


@SETTINGS
@given(news_like, st.sampled_from(LANGS + ("xx",)))
def test_segment_offsets_slice_back_in_every_language(text, lang):
    check_statements(text, lang=lang)


# --------------------------------------------------------------------------- ranking

@st.composite
def scored_pairs(draw):
    n = draw(st.integers(2, 8))
    statements = [Statement(f"s{i}", 3 * i, 3 * i + 2, 3 * i, 3 * i + 2, i) for i in range(n)]
    every_pair = [(i, j) for i in range(n) for j in range(i + 1, n)]
    pairs = draw(st.lists(st.sampled_from(every_pair), min_size=1, unique=True))
    probabilities = arrays(np.float64, (len(pairs), 3), elements=st.floats(0, 1))
    ab, ba = draw(probabilities), draw(probabilities)
    # rows sum to one like softmax output; an all-zero row becomes uniform
    ab, ba = ((p + 1e-12) / (p + 1e-12).sum(axis=1, keepdims=True) for p in (ab, ba))
    return statements, pairs, ab, ba


@SETTINGS
@given(scored_pairs(), st.floats(0, 1))
def test_rank_scores_are_bounded_sorted_and_deterministic(data, threshold):
    statements, pairs, ab, ba = data
    found = rank(statements, pairs, ab, ba, threshold=threshold)
    scores = [c.score for c in found]
    assert all(threshold <= s <= 1.0 for s in scores)
    assert all(x >= y - 1e-9 for x, y in zip(scores, scores[1:]))  # ties within 1e-9 go in text order
    again = rank(statements, pairs, ab.copy(), ba.copy(), threshold=threshold)
    assert [(c.a.index, c.b.index, c.score) for c in again] == [(c.a.index, c.b.index, c.score) for c in found]
    # the order does not depend on the order the pairs were scored in
    order = list(reversed(range(len(pairs))))
    shuffled = rank(statements, [pairs[k] for k in order], ab[order], ba[order], threshold=threshold)
    assert [(c.a.index, c.b.index) for c in shuffled] == [(c.a.index, c.b.index) for c in found]

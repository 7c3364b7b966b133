import numpy as np

from contradict.pipeline.pairs import candidate_pairs
from contradict.pipeline.statements import Statement, segment


def _statements(texts, doc=0):
    out, pos = [], 0
    for i, t in enumerate(texts):
        out.append(Statement(t, pos, pos + len(t), pos, pos + len(t), i, doc=doc))
        pos += len(t) + 1
    return out


def test_exhaustive_below_threshold_without_self_pairs():
    sts = _statements([f"Statement number {i}." for i in range(5)])
    pairs = candidate_pairs(sts, max_exhaustive=10)
    assert pairs == [(i, j) for i in range(5) for j in range(i + 1, 5)]


def test_never_pairs_a_span_with_one_containing_it():
    outer = Statement("A said B.", 0, 9, 0, 9, 0)
    inner = Statement("B.", 7, 9, 0, 9, 1)
    other = Statement("C.", 10, 12, 10, 12, 2)
    assert candidate_pairs([outer, inner, other]) == [(0, 2), (1, 2)]


def test_pruning_grows_linearly_and_keeps_anchored_pairs():
    rng = np.random.default_rng(0)
    n = 200
    texts = [f"Filler sentence about topic {i} with words w{i}." for i in range(n)]
    texts[17] = "The Zorvan bridge opened in 2021."
    texts[163] = "The Zorvan bridge never opened."

    def embed(batch):
        return rng.normal(size=(len(batch), 8))  # unrelated embeddings: anchors must do the work

    pairs = candidate_pairs(_statements(texts), embed=embed, max_exhaustive=40, neighbors=6, anchors=4)
    assert len(pairs) <= (6 + 4 + 1) * n
    assert (17, 163) in pairs
    assert len(set(pairs)) == len(pairs)
    assert all(i < j for i, j in pairs)


def test_neighbours_come_from_embeddings():
    texts = [f"s{i}" for i in range(60)]
    vectors = np.eye(60)
    vectors[5] = vectors[50]  # 5 and 50 are identical in meaning
    pairs = candidate_pairs(_statements(texts), embed=lambda b: vectors, max_exhaustive=10, neighbors=1, anchors=0)
    assert (5, 50) in pairs


def test_cross_only_pairs_span_both_texts():
    a = _statements(["One.", "Two."], doc=0)
    b = _statements(["Three.", "Four."], doc=1)
    pairs = candidate_pairs(a + b, cross_only=True)
    assert pairs == [(0, 2), (0, 3), (1, 2), (1, 3)]


def test_denial_is_paired_with_its_claim_even_when_pruning():
    text = ("Potrivit Gazetei de Vest, ministrul s-a întâlnit des cu directorul. " +
            " ".join(f"Propoziția {i} vorbește despre altceva." for i in range(50)) +
            " Purtătorul de cuvânt a declarat: „Nu, nu este adevărat.” Este o minciună a Gazetei de Vest.")
    sts = segment(text, lang="ro").statements
    denial = next(i for i, s in enumerate(sts) if s.denies is not None)
    pairs = candidate_pairs(sts, embed=lambda b: np.eye(len(b)), max_exhaustive=10, neighbors=1, anchors=0)
    assert (sts[denial].denies, denial) in pairs

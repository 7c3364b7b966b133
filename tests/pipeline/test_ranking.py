import numpy as np

from contradict.pipeline.ranking import rank
from contradict.pipeline.statements import Statement


def _statements(texts, sources=None):
    out, pos = [], 0
    for i, t in enumerate(texts):
        src = sources[i] if sources else None
        out.append(Statement(t, pos, pos + len(t), pos, pos + len(t), i, source=src))
        pos += len(t) + 1
    return out


def _probs(c):
    c = np.asarray(c, dtype=float)
    return np.stack([(1 - c) / 2, (1 - c) / 2, c], axis=1)


def test_hub_statement_does_not_dominate():
    texts = ["Toate astea sunt minciuni.", "Musk și Putin vorbesc regulat din 2022.",
             "Putin a vorbit cu Musk o singură dată, înainte de 2022.", "Starlink funcționează în Ucraina.",
             "Vremea a fost frumoasă.", "Bursa a crescut ieri."]
    sts = _statements(texts)
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    c = []
    for i, j in pairs:
        if 0 in (i, j):
            c.append(0.9)  # the hub contradicts everything
        elif (i, j) == (1, 2):
            c.append(0.8)
        else:
            c.append(0.05)
    found = rank(sts, pairs, _probs(c), _probs(c), threshold=0.0)
    assert (found[0].a.index, found[0].b.index) == (1, 2)


def test_scores_in_unit_interval_and_deterministic():
    sts = _statements([f"Statement {i} about 20{i}." for i in range(6)])
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6)]
    rng = np.random.default_rng(1)
    ab, ba = rng.dirichlet([1, 1, 1], len(pairs)), rng.dirichlet([1, 1, 1], len(pairs))
    first = rank(sts, pairs, ab, ba, threshold=0.0)
    second = rank(sts, pairs, ab, ba, threshold=0.0)
    assert [(c.a.index, c.b.index) for c in first] == [(c.a.index, c.b.index) for c in second]
    assert all(0.0 <= c.score <= 1.0 for c in first)
    assert [c.score for c in first] == sorted((c.score for c in first), reverse=True)


def test_threshold_and_top_k():
    sts = _statements(["A is red.", "A is blue.", "B is green."])
    pairs = [(0, 1), (0, 2), (1, 2)]
    c = [0.95, 0.1, 0.1]
    assert len(rank(sts, pairs, _probs(c), _probs(c), threshold=0.5)) == 1
    assert len(rank(sts, pairs, _probs(c), _probs(c), threshold=0.0, top_k=2)) == 2


def test_probs_are_reported_per_direction():
    sts = _statements(["A is red.", "A is blue."])
    ab, ba = _probs([0.9]), _probs([0.7])
    (found,) = rank(sts, [(0, 1)], ab, ba, threshold=0.0)
    assert found.probs["ab"]["contradiction"] == 0.9 and found.probs["ba"]["contradiction"] == 0.7
    assert abs(found.nli - 0.8) < 1e-9


def test_a_changed_figure_ranks_even_when_the_model_reads_a_restatement():
    texts = ["Podul din Cluj va costa 85 de milioane de euro.", "Podul din Cluj va costa 850 de milioane de euro.",
             "Die Stadt Bremen plant einen Neubau für 300 Millionen Euro.",
             "Die Stadt Valencia plant einen Neubau für 2500 Millionen Euro."]
    sts = _statements(texts)
    restated = np.array([[0.9, 0.07, 0.03]])  # the model: "entailment"
    weak = np.array([[0.2, 0.4, 0.4]])
    found = rank(sts, [(0, 1), (2, 3)], np.vstack([restated, weak]), np.vstack([restated, weak]), threshold=0.0)
    assert (found[0].a.index, found[0].b.index) == (0, 1) and "changed-figure" in found[0].kinds
    assert "changed-figure" not in found[1].kinds

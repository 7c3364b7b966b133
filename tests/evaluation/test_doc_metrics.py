"""Document metrics beyond the ranking: threshold figures, ambiguous pairs, two-text documents."""
import numpy as np
import pytest

import contradict.evaluation as ev
from contradict.errors import ContradictError
from contradict.evaluation.documents import ranked_results
from contradict.pipeline.detector import Scored
from contradict.pipeline.ranking import RulesRanker
from contradict.pipeline.statements import Statement


def test_threshold_figures_by_hand():
    results = [
        {"id": "A", "lang": "ro", "variant": "plain", "gold": [((0, 10), (20, 30))],
         "found": [((22, 25), (5, 8)), ((40, 50), (0, 5))], "scores": [0.9, 0.6]},
        {"id": "B", "lang": "en", "variant": "compare", "gold": [((0, 5), (10, 15))],
         "found": [((30, 32), (20, 21)), ((0, 5), (10, 15))], "scores": [0.7, 0.3]},
        {"id": "C", "lang": "en", "variant": "plain", "gold": [], "found": [((0, 1), (2, 3))], "scores": [0.4]},
        {"id": "D", "lang": "ro", "variant": "plain", "gold": [], "found": [((0, 1), (2, 3))], "scores": [0.6]},
    ]
    m = ev.compute_doc_metrics(results, threshold=0.5)
    # reported (>= 0.5): A's two pairs (one gold), B's 0.7 (not gold), D's 0.6: precision 1 / 4
    assert m["precision"] == pytest.approx(0.25)
    assert m["recall"] == pytest.approx(0.5)  # A's gold found above the cut, B's only below it
    assert m["consistent_below_threshold"] == pytest.approx(0.5)  # C under it, D over it
    assert m["per_variant"]["compare"]["mrr"] == pytest.approx(0.5)
    assert m["language_mean"]["precision@1"] == pytest.approx(0.5)  # ro 1.0, en 0.0
    assert m["pair_ece"] is not None and 0 <= m["pair_ece"] <= 1
    text = ev.format_doc_metrics(m)
    assert "consistent documents under it 0.500" in text and "compare" in text


def test_two_text_documents_and_ambiguous_pairs_load():
    doc = {"id": 7, "text": "It rained.", "text_b": "It was dry. Grass grew.",
           "contradictions": [["It rained", "It was dry"]], "ambiguous": [[[0, 10], [23, 34]]]}
    (loaded,) = ev.load_docs([doc])
    assert loaded["gold"] == [((0, 9), (11, 21))] and loaded["ambiguous"] == [((0, 10), (23, 34))]
    with pytest.raises(ContradictError, match="text_b must be"):
        ev.load_docs([{**doc, "text_b": " "}])
    with pytest.raises(ContradictError, match="ambiguous must be a list"):
        ev.load_docs([{**doc, "ambiguous": "x"}])


def test_ranked_results_leave_ambiguous_pairs_out_and_shift_the_second_text():
    text, text_b = "Alpha is red. Beta is blue.", "Alpha is green."
    statements = [Statement("Alpha is red.", 0, 13, 0, 13, 0), Statement("Beta is blue.", 14, 27, 14, 27, 1),
                  Statement("Alpha is green.", 0, 15, 0, 15, 0, doc=1)]
    gold = [((0, 13), (28, 43))]
    ambiguous = [((14, 27), (28, 43))]
    probs = np.array([[0.1, 0.1, 0.8], [0.1, 0.1, 0.8]])
    scored = Scored(statements, [(0, 2), (1, 2)], probs, probs, np.ones(2, dtype=bool))
    doc = {"id": 1, "text": text, "text_b": text_b, "gold": gold, "ambiguous": ambiguous}
    (result,) = ranked_results([doc], [scored], RulesRanker())
    assert result["found"] == [((0, 13), (28, 43))]  # the ambiguous pair is gone; text_b starts at 28

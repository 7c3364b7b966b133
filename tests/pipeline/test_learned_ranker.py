"""The pair signals and the learned ranker: JSON in and out, errors, and ranking by its weights."""
import json

import numpy as np
import pytest

from contradict.errors import ContradictError
from contradict.pipeline.ranking import LearnedRanker, RulesRanker, rank, resolve_ranker
from contradict.pipeline.signals import GROUPS, NAMES, pair_signals
from test_ranking import _probs, _statements


def _ranker(weights: dict, threshold=0.5, centre: dict | None = None):
    coef = [weights.get(n, 0.0) for n in NAMES]
    mean = [(centre or {}).get(n, 0.0) for n in NAMES]
    return LearnedRanker(NAMES, mean, np.ones(len(NAMES)), coef, 0.0, threshold)


def test_every_feature_is_in_exactly_one_group_and_signals_follow_the_names():
    flat = [n for g in GROUPS.values() for n in g]
    assert len(flat) == len(set(flat)) == len(NAMES)
    sts = _statements(["Bridge closed in 2021.", "The bridge was never closed.", "It rained on Monday."],
                      sources=["the mayor", None, "the mayor"])
    pairs = [(0, 1), (0, 2), (1, 2)]
    x, kinds = pair_signals(sts, pairs, _probs([0.9, 0.1, 0.2]), _probs([0.7, 0.1, 0.2]))
    col = {n: x[:, k] for k, n in enumerate(NAMES)}
    assert x.shape == (3, len(NAMES))
    assert col["contradiction_mean"][0] == pytest.approx(0.8)
    assert col["contradiction_min"][0] == pytest.approx(0.7) and col["contradiction_max"][0] == pytest.approx(0.9)
    assert col["top_of_both"][0] == 1.0 and col["top_of_both"][1] == 0.0
    assert col["attributed_one"][0] == 1.0 and col["same_source"][1] == 1.0
    assert "negation" in kinds[0] and col["tag_negation"][0] == 1.0
    assert col["background_median"][0] == pytest.approx(0.2)  # statement 1's other pair


def test_learned_ranker_orders_pairs_by_its_weights():
    sts = _statements(["A.", "B is not C.", "D.", "E."])
    pairs = [(0, 1), (0, 2), (2, 3)]
    c = _probs([0.2, 0.9, 0.5])
    by_nli = rank(sts, pairs, c, c, threshold=0.0, ranker=_ranker({"contradiction_mean": 5.0}))
    assert [(f.a.index, f.b.index) for f in by_nli] == [(0, 2), (2, 3), (0, 1)]
    by_negation = rank(sts, pairs, c, c, threshold=0.0, ranker=_ranker({"tag_negation": 5.0}))
    assert (by_negation[0].a.index, by_negation[0].b.index) == (0, 1)
    assert all(0.0 < f.score < 1.0 for f in by_nli)
    # its own threshold when none is given
    sharp = _ranker({"contradiction_mean": 50.0}, threshold=0.9, centre={"contradiction_mean": 0.6})
    assert [(f.a.index, f.b.index) for f in rank(sts, pairs, c, c, ranker=sharp)] == [(0, 2)]


def test_ranker_json_round_trip_and_resolution(tmp_path):
    ranker = _ranker({"contradiction_mean": 2.0}, threshold=0.37)
    ranker.fitted = {"rows": 3}
    path = ranker.save(tmp_path)
    assert path == tmp_path / "ranker.json"
    back = LearnedRanker.load(tmp_path)
    assert back.threshold == 0.37 and back.fitted == {"rows": 3}
    x = np.random.default_rng(0).random((5, len(NAMES)))
    assert np.allclose(back.probability(x), ranker.probability(x))
    assert isinstance(resolve_ranker("default", str(tmp_path)), LearnedRanker)
    assert isinstance(resolve_ranker("default", str(tmp_path / "elsewhere")), RulesRanker)
    assert isinstance(resolve_ranker("rules", str(tmp_path)), RulesRanker)
    assert isinstance(resolve_ranker(str(path)), LearnedRanker)


@pytest.mark.parametrize("content, message", [
    ("not json", "cannot read the ranker"),
    (json.dumps({"format": 99}), "is not a contradict ranker"),
    (json.dumps({"format": 1, "features": ["contradiction_mean"]}), "missing or malformed field"),
    (json.dumps({"format": 1, "features": ["shoe_size"], "mean": [0], "scale": [1], "coef": [1], "intercept": 0,
                 "threshold": 0.5}), "unknown features shoe_size"),
    (json.dumps({"format": 1, "features": ["contradiction_mean"], "mean": [0, 1], "scale": [1], "coef": [1],
                 "intercept": 0, "threshold": 0.5}), "differ in length"),
])
def test_bad_ranker_files_are_explained(tmp_path, content, message):
    (tmp_path / "ranker.json").write_text(content)
    with pytest.raises(ContradictError, match=message):
        LearnedRanker.load(tmp_path / "ranker.json")
    with pytest.raises(ContradictError, match="no ranker file"):
        LearnedRanker.load(tmp_path / "missing.json")
    with pytest.raises(ContradictError, match="ranker must be"):
        resolve_ranker(42)


def test_detector_uses_the_model_directory_ranker_and_its_threshold(tiny_model, tmp_path):
    import shutil

    from contradict import Detector

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    assert isinstance(Detector(str(model)).ranker, RulesRanker)
    _ranker({"contradiction_mean": 1.0}, threshold=0.61).save(model)
    detector = Detector(str(model))
    assert isinstance(detector.ranker, LearnedRanker) and detector.threshold == 0.61
    assert Detector(str(model), threshold=0.1).threshold == 0.1
    rules = Detector(str(model), ranker="rules")
    assert isinstance(rules.ranker, RulesRanker) and rules.threshold == RulesRanker.threshold
    text = "The bridge closed in 2021. The bridge never closed. It rained."
    assert all(c.score >= 0.61 for c in detector.find(text))

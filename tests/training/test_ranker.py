"""Fitting the learned ranker: grouped cross-validation, the precision threshold, the commands."""
import json

import numpy as np
import pandas as pd
import pytest

from contradict.cli import main
from contradict.evaluation import docbench as db
from contradict.pipeline.ranking import LearnedRanker
from contradict.pipeline.signals import NAMES
from contradict.training.ranker import _threshold_for_precision, drop_group, fit_rows


def _rows(n_docs=60, pairs=20, seed=0):
    """Synthetic pairs: gold pairs have high contradiction_mean and tag_negation more often."""
    rng = np.random.default_rng(seed)
    x = rng.random((n_docs * pairs, len(NAMES))) * 0.3
    y = np.zeros(n_docs * pairs, dtype=bool)
    y[::pairs] = True
    col = NAMES.index("contradiction_mean")
    x[y, col] += 0.6
    x[:, NAMES.index("tag_negation")] = rng.random(len(y)) < np.where(y, 0.7, 0.1)
    return x, y, np.repeat(np.arange(n_docs), pairs)


def test_fit_rows_learns_the_informative_signal_and_picks_a_precise_threshold():
    x, y, groups = _rows()
    ranker = fit_rows(x, y, groups, seed=0)
    coef = dict(zip(ranker.features, ranker.coef))
    assert coef["contradiction_mean"] > 0 and coef["contradiction_mean"] == max(coef.values())
    p = ranker.probability(x)
    assert p[y].mean() > 0.5 > p[~y].mean()
    assert (p[p >= ranker.threshold] > 0).all() and y[p >= ranker.threshold].mean() >= 0.8
    assert ranker.fitted["documents"] == 60 and ranker.fitted["C"] in (0.03, 0.1, 0.3, 1.0, 3.0)
    # the same rows and seed give the same ranker
    assert np.allclose(fit_rows(x, y, groups, seed=0).coef, ranker.coef)


def test_fit_rows_without_a_group_drops_its_features():
    x, y, groups = _rows()
    features = drop_group("nli")
    ranker = fit_rows(x, y, groups, features)
    assert "contradiction_mean" not in ranker.features and len(ranker.coef) == len(features)
    with pytest.raises(ValueError, match="unknown feature group"):
        drop_group("shoes")
    with pytest.raises(ValueError, match="too few gold"):
        fit_rows(x[:10], np.zeros(10, dtype=bool), groups[:10])


def test_threshold_is_the_lowest_cut_that_keeps_the_target_precision():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    labels = np.array([1, 1, 1, 0, 1, 0], dtype=bool)
    assert _threshold_for_precision(scores, labels, 0.8) == 0.5  # 4 of 5 at or above 0.5
    assert _threshold_for_precision(scores, labels, 1.0) == 0.7
    assert _threshold_for_precision(scores, np.zeros(6, dtype=bool), 0.8) == 1.0  # no cut is precise: none
    # weighted as in the fit: the miss at 0.6 weighs as much as the three hits above it
    assert _threshold_for_precision(scores, labels, 0.8, np.array([1, 1, 1, 3, 1, 1.0])) == 0.7


def _toy_docs(monkeypatch, tmp_path):
    rows = []
    for i in range(80):
        premise = f"The council of town {i} approved budget number {i} on Monday"
        for label, h in {"entailment": f"Town {i} has an approved budget", "neutral": f"Town {i} will build",
                         "contradiction": f"Town {i} did not approve any budget"}.items():
            rows.append({"premise": premise, "hypothesis": h, "label": label, "lang": "en"})
    units = db.units_from_frame(pd.DataFrame(rows), "toy")
    monkeypatch.setattr(db, "_language_units", lambda split, root=None: {"en": units})
    monkeypatch.setenv("CONTRADICT_CACHE", str(tmp_path / "cache"))


def test_build_docs_fit_ranker_and_eval_docs_from_the_command_line(tiny_model, tmp_path, monkeypatch, capsys):
    _toy_docs(monkeypatch, tmp_path)
    assert main(["build-docs", "--split", "fit", "--per-language", "24"]) == 0
    path = capsys.readouterr().out.strip()
    assert f"v{db.BENCH_VERSION}-fit-24-seed0" in path and len(open(path).read().splitlines()) == 24
    out = tmp_path / "model"
    code = main(["fit-ranker", "--docs", "bench-fit", "--per-language", "24", "--out", str(out), "--model", tiny_model,
                 "--threads", "1", "--quiet", "--cache", str(tmp_path / "scores.sqlite")])
    assert code == 0 and "fitted on 24 documents" in capsys.readouterr().out
    ranker = LearnedRanker.load(out / "ranker.json")
    assert ranker.fitted["sources"][0]["documents"].startswith(f"v{db.BENCH_VERSION}-fit-24-seed0")
    assert ranker.fitted["model"] == tiny_model
    code = main(["eval-docs", "bench", "--per-language", "12", "--rankers", f"rules,{out / 'ranker.json'}",
                 "--model", tiny_model, "--threads", "1", "--quiet", "--format", "json",
                 "--out", str(tmp_path / "m.json")])
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and set(report["rankers"]) == {"rules", "learned"}
    for m in report["rankers"].values():
        assert m["n_docs"] == 12 and set(m["per_variant"]) == {"plain", "reported", "compare"}
        assert {"precision", "recall", "consistent_below_threshold", "pair_ece"} <= set(m)
    assert json.loads((tmp_path / "m.json").read_text()) == report
    assert main(["eval-docs", "bench", "--per-language", "12", "--rankers", "rules,learned-nowhere.json",
                 "--model", tiny_model, "--threads", "1", "--quiet"]) != 0
    assert "no ranker file" in capsys.readouterr().err

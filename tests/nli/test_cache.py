"""The persistent score cache: same numbers, no model call for pairs seen before."""
from __future__ import annotations

import multiprocessing
import sqlite3
import threading

import numpy as np
import pytest

from contradict.nli.cache import ScoreCache, pair_digest
from contradict.errors import ContradictError
from contradict.nli.scorer import NLIScorer

PAIRS = [("Podul a fost redeschis în 2020.", "Podul nu a fost niciodată redeschis."),
         ("The plan was approved.", "The plan was rejected on Monday by the council."),
         ("Le maire est parti.", "Le maire est resté.")]


class CountingModel:
    """Wraps the model to count the pairs it scores."""

    def __init__(self, model):
        self.model, self.pairs = model, 0

    def __call__(self, **enc):
        self.pairs += enc["input_ids"].shape[0]
        return self.model(**enc)


@pytest.fixture
def counted(tiny_model, tmp_path):
    def make(cache=tmp_path / "scores.sqlite", **options):
        scorer = NLIScorer(tiny_model, cache=cache, **options)
        scorer.model = CountingModel(scorer.model)
        return scorer

    return make


def test_cached_scores_equal_fresh_ones_and_cost_no_model_call(tiny_model, counted):
    fresh = NLIScorer(tiny_model).predict(PAIRS, show_progress_bar=False)
    first = counted()
    np.testing.assert_allclose(first.predict(PAIRS), fresh, atol=1e-6)
    assert first.model.pairs == 3
    again = counted()  # a new process would see the same file
    np.testing.assert_allclose(again.predict(PAIRS), fresh, atol=1e-6)
    assert again.model.pairs == 0
    assert (again.cache.cache.hits, again.cache.cache.misses) == (3, 0)


def test_only_the_misses_are_scored(counted):
    scorer = counted()
    scorer.predict(PAIRS[:2])
    mixed = [PAIRS[1], ("new premise", "new hypothesis"), PAIRS[0], ("new premise", "new hypothesis")]
    probs = scorer.predict(mixed)
    assert scorer.model.pairs == 2 + 2  # the duplicated new pair is scored in both positions, stored once
    np.testing.assert_allclose(probs[1], probs[3], atol=1e-6)
    assert scorer.cache.cache.count() == 3


def test_direction_and_text_boundaries_are_different_keys():
    assert pair_digest("a", "b") != pair_digest("b", "a")
    assert pair_digest("ab", "c") != pair_digest("a", "bc")


def test_options_that_change_the_logits_do_not_share_entries(counted, tmp_path):
    from conftest import build_tiny_model

    counted().predict(PAIRS)
    short = counted(max_length=8)
    short.predict(PAIRS)
    assert short.model.pairs == 3
    other = NLIScorer(str(build_tiny_model(tmp_path / "other", hidden_dropout_prob=0.2)),
                      cache=tmp_path / "scores.sqlite")
    assert other.cache.model != short.cache.model
    assert len({counted().cache.model, short.cache.model, other.cache.model}) == 3


def test_detector_rescan_costs_nothing(tiny_model, tmp_path, ro_article):
    from contradict import Detector

    cache = tmp_path / "scores.sqlite"
    first = Detector(tiny_model, threshold=0.0, cache=cache)
    found = first.find(ro_article)
    second = Detector(tiny_model, threshold=0.0, cache=cache)
    second.scorer.model = CountingModel(second.scorer.model)
    again = second.find(ro_article)
    assert second.scorer.model.pairs == 0
    assert [c.to_dict() for c in again] == [c.to_dict() for c in found]


def _store_from_process(path, model, start):
    cache = ScoreCache(path)
    for k in range(start, start + 200, 20):
        pairs = [(f"p{i}", f"h{i}") for i in range(k, k + 20)]
        cache.store(model, pairs, np.full((20, 3), k, dtype=np.float32))
    cache.close()


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "scores.sqlite"
    cache = ScoreCache(path)
    model = cache.model_id("m")
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_store_from_process, args=(path, model, s)) for s in (0, 200)]
    threads = [threading.Thread(target=_store_from_process, args=(path, model, s)) for s in (400, 600)]
    for worker in procs + threads:
        worker.start()
    for worker in procs + threads:
        worker.join()
    assert all(p.exitcode == 0 for p in procs)
    assert cache.count(model) == 800
    logits, found = cache.lookup(model, [("p805", "h805"), ("p0", "h0"), ("p799", "h799")])
    assert found.tolist() == [False, True, True]
    assert logits[2, 0] == 780
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_weights_are_hashed_once_per_file_version(tmp_path, monkeypatch):
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"x" * 1000)
    cache = ScoreCache(tmp_path / "scores.sqlite")
    digest = cache.file_sha256(weights)
    calls = []
    monkeypatch.setattr("hashlib.sha256", lambda *a: calls.append(a) or pytest.fail("hashed again"))
    assert cache.file_sha256(weights) == digest
    monkeypatch.undo()
    weights.write_bytes(b"y" * 1000)
    assert cache.file_sha256(weights) != digest


def test_a_cache_of_another_schema_is_refused(tmp_path):
    path = tmp_path / "scores.sqlite"
    ScoreCache(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '999' WHERE name = 'schema'")
    with pytest.raises(ContradictError, match="another version"):
        ScoreCache(path)


def test_an_unusable_path_is_one_clear_error(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(ContradictError, match="cannot open the score cache"):
        ScoreCache(tmp_path / "dir")

"""The ONNX Runtime backends: same predictions as torch (fp32), close ones (int8), cached graphs."""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from contradict.errors import ContradictError
from contradict.nli.onnx import INT8_GRAPH
from contradict.nli.scorer import NLIScorer

pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")

PAIRS = [("Ministrul a declarat că nu există nicio relație.", "Cei doi se întâlnesc regulat din 2022."),
         ("short", "pair"), ("a much longer premise " * 12, "and a hypothesis"), ("x", "y")]


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("CONTRADICT_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_onnx_fp32_matches_torch_and_reuses_its_graph(tiny_model, cache_dir):
    expected = NLIScorer(tiny_model).predict(PAIRS, batch_size=2)
    scorer = NLIScorer(tiny_model, backend="onnx")
    graph = scorer.runner.graph
    assert graph.is_file() and cache_dir in graph.parents
    np.testing.assert_allclose(scorer.predict(PAIRS, batch_size=2), expected, atol=1e-5)
    written = graph.stat().st_mtime_ns
    again = NLIScorer(tiny_model, backend="onnx")
    assert again.runner.graph == graph and graph.stat().st_mtime_ns == written  # not exported twice


def test_onnx_int8_is_close_to_torch(tiny_model, cache_dir):
    expected = NLIScorer(tiny_model).predict(PAIRS)
    scorer = NLIScorer(tiny_model, backend="onnx-int8")
    assert scorer.runner.graph.name == INT8_GRAPH
    probs = scorer.predict(PAIRS)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.abs(probs - expected).max() < 0.05
    assert not np.allclose(probs, expected, atol=1e-7)  # it really ran the quantized graph


def test_a_changed_model_gets_a_new_graph(tmp_path, cache_dir):
    from conftest import build_tiny_model

    first = NLIScorer(str(build_tiny_model(tmp_path / "m")), backend="onnx").runner.graph
    build_tiny_model(tmp_path / "m", hidden_dropout_prob=0.2)  # rewritten weights and config
    second = NLIScorer(str(tmp_path / "m"), backend="onnx").runner.graph
    assert first != second


def test_bad_backend_choices_are_explained(tiny_model):
    with pytest.raises(ContradictError, match="unknown backend"):
        NLIScorer(tiny_model, backend="tensorrt")
    with pytest.raises(ContradictError, match="runs on the CPU"):
        NLIScorer(tiny_model, backend="onnx", device="cuda")


def test_score_cache_keeps_backends_apart(tiny_model, cache_dir, tmp_path):
    db = tmp_path / "scores.sqlite"
    torch_scorer = NLIScorer(tiny_model, cache=str(db))
    int8_scorer = NLIScorer(tiny_model, cache=str(db), backend="onnx-int8")
    assert torch_scorer.cache.identity != int8_scorer.cache.identity


def test_cli_scan_with_onnx_backend(tiny_model, tmp_path):
    article = Path(__file__).resolve().parents[2] / "data" / "en_news.txt"
    env = dict(os.environ, CONTRADICT_CACHE=str(tmp_path / "cache"))
    runs = {backend: subprocess.run([sys.executable, "-m", "contradict.cli", "scan", str(article), "--model",
                                     tiny_model, "--threads", "1", "--format", "json", "--threshold", "0",
                                     "--backend", backend], capture_output=True, env=env, timeout=300)
            for backend in ("torch", "onnx")}
    for r in runs.values():
        assert r.returncode == 0, r.stderr.decode()
    # the random tiny model scores many pairs alike, so near-ties may swap: compare pair by pair
    torch_found, onnx_found = ({(c["a"]["start"], c["b"]["start"]): c["score"] for c in json.loads(runs[b].stdout)}
                               for b in ("torch", "onnx"))
    assert torch_found and onnx_found.keys() == torch_found.keys()
    assert all(abs(onnx_found[k] - torch_found[k]) < 1e-4 for k in torch_found)


def test_sentence_encoder_on_onnx_matches_torch(tiny_model, cache_dir):
    from contradict.nli.encoder import SentenceEncoder

    texts = ["Kremlinul a negat orice contact.", "The spokesman denied it.", "x", "a longer sentence " * 10]
    expected = SentenceEncoder(tiny_model).encode(texts)
    fp32 = SentenceEncoder(tiny_model, backend="onnx")
    np.testing.assert_allclose(fp32.encode(texts), expected, atol=1e-5)
    int8 = SentenceEncoder(tiny_model, backend="onnx-int8").encode(texts)
    np.testing.assert_allclose(np.linalg.norm(int8, axis=1), 1.0, rtol=1e-4)
    assert (int8 * expected).sum(axis=1).min() > 0.95  # cosine to the fp32 vectors
    # the pooled graph is its own file, not the classifier's
    assert fp32.runner.graph != NLIScorer(tiny_model, backend="onnx").runner.graph


@pytest.mark.parametrize("family", ["xlm-roberta", "bert"])
def test_last_layer_at_the_first_token_equals_the_full_layer(tiny_model, family):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification, XLMRobertaConfig, \
        XLMRobertaForSequenceClassification

    from contradict.nli.onnx import _first_token_only, _last_layer_at_first_token

    torch.manual_seed(1)
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    sizes = dict(vocab_size=len(tokenizer), hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=70, num_labels=3)
    if family == "bert":
        model = BertForSequenceClassification(BertConfig(**sizes)).eval()
    else:
        model = XLMRobertaForSequenceClassification(XLMRobertaConfig(**sizes, pad_token_id=1)).eval()
    assert _first_token_only(model)
    enc = tokenizer([p for p, _ in PAIRS], [h for _, h in PAIRS], padding=True, truncation=True, max_length=64,
                    return_tensors="pt")
    with torch.no_grad():
        hidden = model.base_model(**enc, output_hidden_states=True).hidden_states
        first = _last_layer_at_first_token(model.base_model.encoder.layer[-1], hidden[-2], enc["attention_mask"])
    assert enc["attention_mask"].min() == 0  # padding is masked out, not just absent
    torch.testing.assert_close(first, hidden[-1][:, :1], atol=1e-5, rtol=1e-4)


def test_two_workers_return_batches_in_order(tiny_model, cache_dir):
    from contradict.nli.onnx import OnnxRunner

    scorer = NLIScorer(tiny_model, backend="onnx")
    batches = [scorer.tokenizer([p], [h], truncation=True, max_length=64, return_tensors="np")
               for p, h in PAIRS * 3]
    one = [scorer.runner(b) for b in batches]
    two = OnnxRunner(scorer.runner.graph, threads=2)
    assert two.workers == 2
    for got, expected in zip(two.map(batches), one, strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-6)

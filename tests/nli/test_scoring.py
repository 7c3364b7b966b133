import numpy as np
import pytest

from contradict.errors import ContradictError, ModelLoadError
from contradict.labels import LABELS, map_model_labels as map_labels
from contradict.nli.scorer import NLIScorer


@pytest.mark.parametrize("id2label,expected", [
    ({0: "ENTAILMENT", 1: "neutral", 2: "Contradiction"}, [0, 1, 2]),
    ({0: "contradiction", 1: "entailment", 2: "neutral"}, [1, 2, 0]),
    ({"0": "Entailment", "1": "Neutral", "2": "CONTRADICTION"}, [0, 1, 2]),
])
def test_label_order_is_read_from_config(id2label, expected):
    assert map_labels(id2label) == expected


def test_unmappable_labels_explain_how_to_pass_a_mapping():
    with pytest.raises(ContradictError, match="label_map"):
        map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"})
    mapping = {"LABEL_0": "contradiction", "LABEL_1": "neutral", "LABEL_2": "entailment"}
    assert map_labels({0: "LABEL_0", 1: "LABEL_1", 2: "LABEL_2"}, mapping) == [2, 1, 0]


def test_predict_returns_probabilities_in_input_order(tiny_model):
    scorer = NLIScorer(tiny_model)
    pairs = [("short", "pair"), ("a much longer premise " * 10, "and hypothesis"), ("x", "y")]
    probs = scorer.predict(pairs, batch_size=2, show_progress_bar=False)
    assert probs.shape == (3, len(LABELS))
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    # the same pair alone gives the same row: sorting by length did not shuffle results
    alone = scorer.predict([pairs[1]], show_progress_bar=False)
    np.testing.assert_allclose(alone[0], probs[1], atol=1e-5)


def test_labels_follow_the_model_order(tmp_path):
    from conftest import build_tiny_model

    plain = build_tiny_model(tmp_path / "plain")
    # same weights, classifier rows permuted and id2label permuted accordingly
    import torch
    from safetensors.torch import load_file, save_file
    import json

    permuted = tmp_path / "permuted"
    import shutil
    shutil.copytree(plain, permuted)
    state = load_file(str(permuted / "model.safetensors"))
    perm = [2, 0, 1]  # new index k holds old label perm[k]
    for name in ("classifier.out_proj.weight", "classifier.out_proj.bias"):
        state[name] = state[name][perm].clone()
    save_file(state, str(permuted / "model.safetensors"), metadata={"format": "pt"})
    config = json.loads((permuted / "config.json").read_text())
    old = {0: "ENTAILMENT", 1: "neutral", 2: "Contradiction"}
    config["id2label"] = {str(k): old[perm[k]] for k in range(3)}
    config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
    (permuted / "config.json").write_text(json.dumps(config))
    pairs = [("Ana are mere.", "Ana nu are mere.")]
    a = NLIScorer(str(plain)).predict(pairs)
    b = NLIScorer(str(permuted)).predict(pairs)
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_overlong_inputs_are_truncated(tiny_model):
    scorer = NLIScorer(tiny_model)
    probs = scorer.predict([("cuvânt " * 5000, "ipoteză " * 3000)])
    assert np.isfinite(probs).all()


def test_missing_directory_and_offline_hub_give_one_line_errors(tmp_path):
    with pytest.raises(ModelLoadError, match="config.json"):
        NLIScorer(str(tmp_path))
    with pytest.raises(ModelLoadError, match="model='default'"):
        NLIScorer("no-such-user/no-such-model-xyz")


def test_remote_code_is_refused(tmp_path):
    import json

    from conftest import build_tiny_model

    path = build_tiny_model(tmp_path / "remote")
    config = json.loads((path / "config.json").read_text())
    config["auto_map"] = {"AutoModelForSequenceClassification": "modeling.Evil"}
    (path / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="remote code"):
        NLIScorer(str(path))

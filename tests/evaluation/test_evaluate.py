"""The evaluation harness: label mapping, loading, metrics by hand, documents, calibration, CLI."""
import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, needs_shared_data, shared_data_dir

import contradict.evaluation as ev
from contradict import labels
from contradict.nli.scorer import softmax
from contradict.cli import main
from contradict.errors import ContradictError
from contradict.nli.scorer import LABELS, NLIScorer
from contradict.pipeline.statements import sentence_spans

# --------------------------------------------------------------------------- labels


def test_labels_in_any_spelling_or_casing():
    raw = ["ENTAILMENT", "Entailment", "e", "entails", "neutral", "N", "Contradiction", "contradicts", "c",
           " CONTRADICTION ", "REFUTES", "not enough info"]
    assert labels.normalise_labels(raw) == ["entailment"] * 4 + ["neutral"] * 2 + ["contradiction"] * 5 + ["neutral"]


def test_integer_labels_follow_the_declared_mapping():
    mapping = "0=entailment,1=neutral,2=contradiction"
    assert labels.normalise_labels([0, 1, 2, "2", 1.0], mapping) == \
        ["entailment", "neutral", "contradiction", "contradiction", "neutral"]
    # another convention, declared as a dict with short label spellings
    assert labels.normalise_labels([0, 1], {0: "c", 1: "E"}) == ["contradiction", "entailment"]


def test_integer_labels_without_a_mapping_are_refused_with_advice():
    with pytest.raises(ContradictError, match=r"'0'.*--label-values 0=entailment"):
        labels.normalise_labels([0, 1, 2])


def test_unknown_labels_are_listed_never_dropped():
    with pytest.raises(ContradictError) as err:
        labels.normalise_labels(["maybe", "entailment", "maybe", "-", "neutral"])
    message = str(err.value)
    assert "'maybe' (2 rows)" in message and "'-' (1 row)" in message
    assert "\n" not in message


@pytest.mark.parametrize("spec", ["0=entailment,1", "0=yes"])
def test_bad_label_values_are_explained(spec):
    with pytest.raises(ContradictError, match="--label-values"):
        labels.parse_label_values(spec)


# --------------------------------------------------------------------------- metrics by hand

# gold, probabilities (entailment, neutral, contradiction), language
# predicted: e, n, n, c, c, c -- confidences sit inside distinct 1/15-wide bins
ROWS = [("entailment", [0.70, 0.20, 0.10], "en"),
        ("entailment", [0.20, 0.50, 0.30], "en"),
        ("neutral", [0.10, 0.65, 0.25], "ro"),
        ("contradiction", [0.05, 0.10, 0.85], "ro"),
        ("contradiction", [0.30, 0.25, 0.45], "ro"),
        ("neutral", [0.20, 0.25, 0.55], "en")]
GOLD = [r[0] for r in ROWS]
PROBS = np.array([r[1] for r in ROWS])
LANGS = [r[2] for r in ROWS]


def test_metrics_match_hand_computed_values():
    m = ev.compute_metrics(GOLD, PROBS, LANGS)
    assert m["n"] == 6
    assert m["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert m["per_class"]["entailment"] == {"precision": 1.0, "recall": 0.5, "f1": pytest.approx(2 / 3, abs=1e-6),
                                            "support": 2}
    assert m["per_class"]["neutral"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert m["per_class"]["contradiction"] == {"precision": pytest.approx(2 / 3, abs=1e-6), "recall": 1.0,
                                               "f1": pytest.approx(0.8, abs=1e-6), "support": 2}
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.5 + 0.8) / 3, abs=1e-6)
    assert m["confusion_matrix"] == {"labels": list(LABELS), "matrix": [[1, 1, 0], [0, 1, 1], [0, 0, 2]]}
    # contradiction scores: positives .85, .45; negatives .10, .30, .25, .55 -> 7 of 8 pairs ordered right
    assert m["contradiction_roc_auc"] == pytest.approx(7 / 8)
    # ranked .85 (+), .55 (-), .45 (+): AP = .5 * 1 + .5 * 2/3
    assert m["contradiction_pr_auc"] == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-6)
    assert m["contradiction_binary"]["accuracy"] == pytest.approx(5 / 6, abs=1e-6)
    # one row per bin: mean |correct - confidence| = (.30 + .50 + .35 + .15 + .55 + .55) / 6
    assert m["ece"] == pytest.approx(0.4, abs=1e-6)
    assert m["per_language"]["ro"] == {"n": 3, "accuracy": 1.0, "macro_f1": 1.0}
    en = m["per_language"]["en"]  # gold e, e, n; predicted e, n, c: entailment F1 2/3, neutral F1 0
    assert en["n"] == 3 and en["accuracy"] == pytest.approx(1 / 3, abs=1e-6)
    assert en["macro_f1"] == pytest.approx(1 / 3, abs=1e-6)


def test_metrics_accept_label_indices_and_leave_undefined_figures_empty():
    gold = [0, 2, 2, 0]  # no neutral in the gold labels, none predicted
    probs = [[0.6, 0.1, 0.3], [0.2, 0.1, 0.7], [0.5, 0.2, 0.3], [0.9, 0.05, 0.05]]
    m = ev.compute_metrics(gold, probs)
    assert m["per_class"]["neutral"] == {"precision": None, "recall": None, "f1": None, "support": 0}
    # macro-F1 over the gold classes only: entailment 2*(2/3*1)/(5/3) = .8, contradiction 2*(1*.5)/1.5 = 2/3
    assert m["macro_f1"] == pytest.approx((0.8 + 2 / 3) / 2, abs=1e-6)
    assert m["per_language"] == {}
    json.dumps(m, allow_nan=False)  # JSON-safe


def test_ece_of_a_single_bin():
    confidence = np.full(10, 0.9)
    correct = np.array([1] * 8 + [0] * 2)
    assert ev.expected_calibration_error(confidence, correct) == pytest.approx(0.1)
    (only,) = ev.reliability_bins(confidence, correct)
    assert only["n"] == 10 and only["lo"] == pytest.approx(13 / 15)


def test_metrics_without_a_contradiction_have_no_auc():
    m = ev.compute_metrics(["entailment", "neutral"], [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1]])
    assert m["contradiction_roc_auc"] is None and m["contradiction_pr_auc"] is None


def test_breakdowns_for_tags_four_way_labels_and_categories():
    frame = pd.DataFrame({"label": GOLD,
                          "tags": [["Numerical", "Numerical"], ["Negation"], [], ["Numerical"], ["Negation"], []],
                          "label4": ["entailment", "consequence", "unrelated", "contrastive", "contrastive",
                                     "unrelated"],
                          "category": ["a", "a", "a", "b", "b", "b"]})
    b = ev.breakdowns(frame, PROBS)
    assert b["per_tag"] == {"Negation": {"n": 2, "accuracy": 0.5}, "Numerical": {"n": 2, "accuracy": 1.0}}
    assert b["label4"]["unrelated"] == {"n": 2, "predicted": {"entailment": 0.0, "neutral": 0.5,
                                                              "contradiction": 0.5}}
    assert b["label4"]["contrastive"]["predicted"]["contradiction"] == 1.0
    assert b["per_category"] == {"a": {"n": 0, "contradiction_recall": None},
                                 "b": {"n": 2, "contradiction_recall": 1.0}}


# --------------------------------------------------------------------------- loading pairs

def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_tsv_with_header_any_column_order(tmp_path):
    path = _write(tmp_path / "pairs.tsv", "label\thypothesis\tpremise\nE\tH1\tP1\ncontradiction\tH2\t\"P2\n")
    frame = ev.load_pairs(path)
    assert frame[["premise", "hypothesis", "label"]].values.tolist() == \
        [["P1", "H1", "entailment"], ['"P2', "H2", "contradiction"]]
    assert "lang" not in frame


def test_tsv_without_header_takes_columns_by_position(tmp_path):
    path = _write(tmp_path / "pairs.tsv", "P1\tH1\tneutral\tro\nP2\tH2\tc\ten\n")
    frame = ev.load_pairs(path)
    assert frame.values.tolist() == [["P1", "H1", "neutral", "ro"], ["P2", "H2", "contradiction", "en"]]


def test_headerless_integer_labels_with_mapping_and_positions(tmp_path):
    path = _write(tmp_path / "pairs.tsv", "2\tP1\tH1\n0\tP2\tH2\n")
    frame = ev.load_pairs(path, columns={"label": 0, "premise": "1", "hypothesis": 2},
                          label_values="0=entailment,1=neutral,2=contradiction")
    assert frame[["premise", "label"]].values.tolist() == [["P1", "contradiction"], ["P2", "entailment"]]


def test_csv_with_quotes_and_renamed_columns(tmp_path):
    path = _write(tmp_path / "pairs.csv", 'sentence1,sentence2,gold_label,language\n"A, quoted",B,entailment,fr\n')
    frame = ev.load_pairs(path)
    assert frame.iloc[0].to_dict() == {"premise": "A, quoted", "hypothesis": "B", "label": "entailment",
                                       "lang": "fr"}


def test_jsonl_and_json_keep_extra_columns(tmp_path):
    rows = [{"premise": "P", "hypothesis": "H", "label": "Neutral", "lang": "de", "topic": "sport"}]
    jsonl = _write(tmp_path / "pairs.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n\n")
    plain = _write(tmp_path / "pairs.json", json.dumps(rows))
    for path in (jsonl, plain):
        assert ev.load_pairs(path).iloc[0].to_dict() == {"premise": "P", "hypothesis": "H", "label": "neutral",
                                                         "lang": "de", "topic": "sport"}


def test_dataframe_and_hugging_face_datasets():
    datasets = pytest.importorskip("datasets")
    frame = pd.DataFrame({"premise": ["P1", "P2"], "hypothesis": ["H1", "H2"], "label": [0, 2]})
    mapping = {0: "entailment", 1: "neutral", 2: "contradiction"}
    assert ev.load_pairs(frame, label_values=mapping)["label"].tolist() == ["entailment", "contradiction"]
    assert frame["label"].tolist() == [0, 2]  # the caller's frame is left alone
    dataset = datasets.Dataset.from_pandas(frame)
    assert len(ev.load_pairs(dataset, label_values=mapping)) == 2
    splits = datasets.DatasetDict({"train": dataset, "test": dataset.select([0])})
    assert len(ev.load_pairs(splits, label_values=mapping)) == 1  # the evaluation split by default
    assert len(ev.load_pairs(splits, split="train", label_values=mapping)) == 2


@pytest.mark.parametrize("content,columns,message", [
    ("a\tb\n", {}, "no label column"),
    ("premise\thypothesis\tlabel\nP\tH\tneutral\n", {"lang": "language"}, "no lang column 'language'"),
])
def test_missing_columns_are_named(tmp_path, content, columns, message):
    with pytest.raises(ContradictError, match=message):
        ev.load_pairs(_write(tmp_path / "pairs.tsv", content), columns=columns)


def test_unknown_source_lists_the_named_sets(tmp_path):
    with pytest.raises(ContradictError, match="no such file, and not a named data set.*xnli"):
        ev.load_pairs(str(tmp_path / "absent.tsv"))
    with pytest.raises(ContradictError, match="unsupported file type"):
        ev.load_pairs(_write(tmp_path / "pairs.xlsx", "x"))


def test_select_rows_filters_samples_and_limits():
    frame = pd.DataFrame({"premise": list("abcdefgh"), "hypothesis": list("abcdefgh"), "label": ["neutral"] * 8,
                          "lang": ["ro", "en"] * 4})
    assert ev.select_rows(frame, langs="ro")["premise"].tolist() == list("aceg")
    assert ev.select_rows(frame, sample_every=3)["premise"].tolist() == list("adg")
    assert ev.select_rows(frame, langs=["en"], sample_every=2, limit=1)["premise"].tolist() == ["b"]
    with pytest.raises(ContradictError, match="no rows in fr; languages here: en, ro"):
        ev.select_rows(frame, langs="fr,ro")
    with pytest.raises(ContradictError, match="--sample-every must be at least 1"):
        ev.select_rows(frame, sample_every=0)


# --------------------------------------------------------------------------- scoring labelled pairs

PAIRS = pd.DataFrame({"premise": ["Ministrul a declarat că nu există nicio relație.",
                                  "The council approved the plan.",
                                  "Le directeur a déclaré que l'usine ne fermera pas.",
                                  "Laut der Zeitung ist sie zu."],
                      "hypothesis": ["Cei doi se întâlnesc regulat.", "The plan was approved.", "L'usine ferme.",
                                     "Die Brücke ist offen."],
                      "label": ["contradiction", "entailment", "contradiction", "neutral"],
                      "lang": ["ro", "en", "fr", "de"]})


def test_evaluate_pairs_scores_every_row(tiny_model, tmp_path):
    result = ev.evaluate_pairs(PAIRS, tiny_model, show_progress_bar=False)
    assert result.metrics["n"] == 4 and set(result.metrics["per_language"]) == {"ro", "en", "fr", "de"}
    np.testing.assert_allclose(result.probs.sum(axis=1), 1.0, rtol=1e-5)
    assert result.rows["predicted"].isin(LABELS).all()
    # the same probabilities as the pipeline's scorer
    direct = NLIScorer(tiny_model).predict(list(zip(PAIRS["premise"], PAIRS["hypothesis"])))
    np.testing.assert_allclose(result.probs, direct, atol=1e-5)

    back = pd.read_json(result.write_predictions(tmp_path / "out" / "pred.jsonl"), lines=True)
    assert back[["label", "lang"]].values.tolist() == PAIRS[["label", "lang"]].values.tolist()
    assert {"p_entailment", "p_neutral", "p_contradiction", "predicted", "correct"} <= set(back.columns)
    assert len(pd.read_csv(result.write_predictions(tmp_path / "pred.csv"))) == 4
    written = result.plot(tmp_path / "plots")
    assert [p.name for p in written] == ["confusion_matrix.png", "pr_curve.png", "reliability.png"]
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in written)
    assert "accuracy" in result.to_text()


def test_evaluate_pairs_accepts_a_detector(tiny_detector):
    result = ev.evaluate_pairs(PAIRS, tiny_detector, limit=2, show_progress_bar=False)
    assert result.metrics["n"] == 2 and result.metrics["model"] == tiny_detector.scorer.name


# --------------------------------------------------------------------------- command line

def _run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_eval_json_plots_and_predictions(tiny_model, tmp_path, capsys):
    path = _write(tmp_path / "pairs.tsv", PAIRS.to_csv(sep="\t", index=False))
    code, out, _ = _run(["eval", path, "--model", tiny_model, "--threads", "1", "--quiet", "--format", "json",
                         "--plots", str(tmp_path / "plots"), "--predictions", str(tmp_path / "pred.csv")], capsys)
    assert code == 0 and len(out.strip().splitlines()) == 1
    report = json.loads(out)
    assert {"n", "accuracy", "macro_f1", "per_class", "per_language", "ece"} <= set(report)
    assert report["n"] == 4 and set(report["per_class"]) == set(LABELS)
    assert (tmp_path / "plots" / "reliability.png").is_file() and (tmp_path / "pred.csv").is_file()


def test_cli_eval_text_with_language_filter(tiny_model, tmp_path, capsys):
    path = _write(tmp_path / "pairs.jsonl", PAIRS.to_json(orient="records", lines=True))
    code, out, _ = _run(["eval", path, "--model", tiny_model, "--threads", "1", "--quiet", "--langs", "ro,fr"],
                        capsys)
    assert code == 0 and ": 2 pairs" in out and "macro-F1" in out


@pytest.mark.parametrize("content,extra,message", [
    (None, [], r"absent\.tsv: no such file"),
    ("P\tH\tmaybe\nP\tH\t7\n", [], r"unknown labels: 'maybe' \(1 row\), '7' \(1 row\)"),
    ("P\tH\t0\n", [], r"--label-values 0=entailment"),
    ("P\tH\tneutral\n", ["--sample-every", "0"], "--sample-every must be at least 1"),
    ("P\tH\tneutral\n", ["--split", "dev"], "--split applies to named data sets"),
])
def test_cli_eval_bad_input_is_one_line_and_exit_2(tiny_model, tmp_path, capsys, content, extra, message):
    path = str(tmp_path / "absent.tsv") if content is None else _write(tmp_path / "pairs.tsv", content)
    code, out, err = _run(["eval", path, "--model", tiny_model, "--threads", "1", *extra], capsys)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("contradict: error: ")
    assert re.search(message, err)


def test_cli_eval_named_set_with_missing_data_dir(tiny_model, tmp_path, capsys):
    code, _, err = _run(["eval", "xnli", "--data-dir", str(tmp_path / "none"), "--model", tiny_model], capsys)
    assert code == 2 and "--data-dir" in err and "no such directory" in err


# --------------------------------------------------------------------------- labelled documents

def test_pair_matching_needs_each_gold_side_on_a_different_found_side():
    gold = ((0, 10), (20, 30))
    assert ev.pair_matches(((5, 8), (22, 25)), gold)
    assert ev.pair_matches(((22, 25), (5, 8)), gold)  # either order
    assert not ev.pair_matches(((0, 30), (40, 50)), gold)  # one found side covers both gold sides
    assert not ev.pair_matches(((10, 20), (22, 25)), gold)  # touching is not overlapping


def test_doc_metrics_match_hand_computed_values():
    results = [
        {"id": "A", "lang": "ro", "gold": [((0, 10), (20, 30))],
         "found": [((40, 50), (0, 5)), ((22, 25), (5, 8)), ((0, 30), (40, 50))], "scores": [0.9, 0.5, 0.2]},
        {"id": "B", "lang": "en", "gold": [((0, 5), (10, 15)), ((20, 25), (30, 35))],
         "found": [((0, 5), (10, 15)), ((30, 32), (20, 21))], "scores": [0.8, 0.7]},
        {"id": "C", "lang": "ro", "gold": [], "found": [((0, 1), (2, 3))], "scores": [0.85]},
        {"id": "D", "lang": None, "gold": [], "found": [], "scores": []},
    ]
    m = ev.compute_doc_metrics(results)
    assert (m["n_docs"], m["n_with_contradictions"]) == (4, 2)
    # A: hits at rank 2 only; B: hits at ranks 1 and 2
    assert m["precision_at"] == pytest.approx({"1": 0.5, "3": 0.5, "5": 0.3, "10": 0.15})
    assert m["recall_at"] == pytest.approx({"1": 0.25, "3": 1.0, "5": 1.0, "10": 1.0})
    assert m["mrr"] == pytest.approx(0.75)
    # top scores: with .9, .8; without .85, 0 -> 3 of 4 pairs ordered right
    assert m["doc_roc_auc"] == pytest.approx(0.75)
    assert m["per_language"]["ro"]["n_docs"] == 2 and m["per_language"]["ro"]["mrr"] == pytest.approx(0.5)
    assert [d["first_hit_rank"] for d in m["documents"][:2]] == [2, 1]
    assert "first_hit_rank" not in m["documents"][2]


def test_load_docs_resolves_substrings_and_offsets():
    docs = ev.load_docs([{"id": 1, "text": "It rained. It did not rain.", "contradictions": [["It rained", [11, 27]]]}])
    assert docs[0]["gold"] == [((0, 9), (11, 27))]
    with pytest.raises(ContradictError, match="document x: 'snow' does not occur"):
        ev.load_docs([{"id": "x", "text": "It rained.", "contradictions": [["snow", "rained"]]}])
    with pytest.raises(ContradictError, match="document 1: contradictions must be a list"):
        ev.load_docs([{"text": "It rained.", "contradictions": ["rained"]}])


def _our_docs():
    return [json.loads(line) for line in (DATA / "docs.jsonl").read_text(encoding="utf-8").splitlines()]


def test_our_labelled_documents_are_well_formed():
    docs = _our_docs()
    assert len(docs) >= 24 and len({d["id"] for d in docs}) == len(docs)
    langs = [d["lang"] for d in docs]
    assert set(langs) == {"ro", "en", "fr", "de", "es"}
    assert max(set(langs), key=langs.count) == "ro" and langs.count("ro") > max(
        langs.count(x) for x in set(langs) - {"ro"})
    assert sum(not d["contradictions"] for d in docs) >= len(docs) / 3
    for doc in docs:
        assert 3 <= len(sentence_spans(doc["text"], doc["lang"])) <= 8, doc["id"]
        for side_a, side_b in doc["contradictions"]:
            for side in (side_a, side_b):  # every gold substring occurs, once, in its own document
                assert doc["text"].count(side) == 1, (doc["id"], side)
    assert len(ev.load_docs(str(DATA / "docs.jsonl"))) == len(docs)


def test_evaluate_docs_with_the_pipeline(tiny_detector, tmp_path, capsys):
    subset = tmp_path / "docs.jsonl"
    subset.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in _our_docs()[:3]), encoding="utf-8")
    threshold = tiny_detector.threshold
    m = ev.evaluate_docs(str(subset), tiny_detector)
    assert tiny_detector.threshold == threshold  # the detector is handed back as it came
    assert m["n_docs"] == 3 and set(m["precision_at"]) == {"1", "3", "5", "10"}
    # threshold 0: every pair of a short document is ranked
    assert all(d["found"] >= 3 for d in m["documents"])
    assert "MRR" in ev.format_doc_metrics(m)


def test_cli_eval_docs_json(tiny_model, tmp_path, capsys):
    subset = tmp_path / "docs.jsonl"
    subset.write_text(json.dumps(_our_docs()[0], ensure_ascii=False), encoding="utf-8")
    code, out, _ = _run(["eval-docs", str(subset), "--model", tiny_model, "--threads", "1", "--format", "json",
                         "--k", "1,2"], capsys)
    report = json.loads(out)
    assert code == 0 and report["n_docs"] == 1 and set(report["recall_at"]) == {"1", "2"}


# --------------------------------------------------------------------------- calibration

def test_fit_temperature_recovers_a_known_temperature():
    rng = np.random.default_rng(0)
    logits = rng.normal(scale=4.0, size=(20000, 3))
    # labels drawn from softmax(logits / 2): the model is over-confident by a factor 2
    probs = softmax(logits, 2.0)
    labels = (probs.cumsum(axis=1) > rng.random((len(probs), 1))).argmax(axis=1)
    assert ev.fit_temperature(logits, labels) == pytest.approx(2.0, rel=0.05)
    assert ev.negative_log_likelihood(logits, labels, 2.0) < ev.negative_log_likelihood(logits, labels, 1.0)


def test_calibrate_writes_a_file_the_scorer_applies(tiny_model, tmp_path, capsys):
    import shutil

    model_dir = shutil.copytree(tiny_model, tmp_path / "model")
    frame = pd.concat([PAIRS] * 10, ignore_index=True)
    record = ev.calibrate(str(model_dir), frame, holdout=0.5, show_progress_bar=False)
    saved = json.loads((model_dir / "calibration.json").read_text())
    assert saved["temperature"] == record["temperature"] > 0
    assert {"fitted_on", "ece_before", "ece_after"} <= set(saved)
    assert saved["fitted_on"]["rows"] == 20 and saved["heldout_rows"] == 20
    assert NLIScorer(str(model_dir)).temperature == pytest.approx(saved["temperature"])

    path = _write(tmp_path / "pairs.tsv", frame.to_csv(sep="\t", index=False))
    code, out, _ = _run(["calibrate", "--model", str(model_dir), "--data", path, "--out", str(tmp_path / "cal"),
                         "--threads", "1", "--quiet", "--format", "json"], capsys)
    assert code == 0 and json.loads(out)["path"] == str(tmp_path / "cal" / "calibration.json")


def test_calibrate_refuses_too_few_rows(tiny_model, tmp_path):
    with pytest.raises(ContradictError, match="too few"):
        ev.calibrate(tiny_model, PAIRS, out=tmp_path)


# --------------------------------------------------------------------------- named data sets

@needs_shared_data
def test_named_loaders_through_the_harness():
    root = shared_data_dir()
    ronli = ev.load_pairs("ronli", data_dir=root)
    assert {"label4", "lang"} <= set(ronli.columns) and set(ronli["label"]) <= set(LABELS)
    assert set(ev.load_pairs("fever_symmetric", data_dir=root)["label"]) == {"entailment", "contradiction"}
    assert ev.select_rows(ev.load_pairs("xnli", data_dir=root), langs="fr,de", limit=5)["lang"].tolist() == ["de"] * 5
    with pytest.raises(ContradictError, match="ronli: there is no split 'train'"):
        ev.load_pairs("ronli", split="train", data_dir=root)


@needs_shared_data
@pytest.mark.parametrize("name,key", [("anli", "per_tag"), ("ronli", "label4"), ("breaking-nli", "per_category")])
def test_named_sets_get_their_breakdowns(tiny_model, name, key):
    result = ev.evaluate_pairs(name, tiny_model, data_dir=shared_data_dir(), sample_every=200,
                               show_progress_bar=False)
    assert result.metrics[key] and result.metrics["source"].startswith(name)


def test_the_text_report_lists_sources_and_phenomena_in_aligned_columns():
    from contradict.evaluation.metrics import breakdowns, compute_metrics
    from contradict.evaluation.pairs import format_metrics

    frame = pd.DataFrame({"label": ["entailment", "neutral", "contradiction", "contradiction"],
                          "source": ["ro-nli", "ro-nli", "xnli-dev", "xnli-dev"],
                          "phenomenon": ["attribution_reported_speech", "numbers", "numbers", "numbers"]})
    probs = np.eye(3)[[0, 1, 2, 0]]
    m = compute_metrics(frame["label"], probs)
    m.update(breakdowns(frame, probs))
    lines = format_metrics(m).splitlines()
    rows = {line.split()[0]: line for line in lines if line.split() and line.split()[0] in
            {"ro-nli", "xnli-dev", "numbers", "attribution_reported_speech", "phenomenon"}}
    assert rows["xnli-dev"].split()[1:3] == ["2", "0.500"] and rows["ro-nli"].split()[1:3] == ["2", "1.000"]
    assert rows["numbers"].split()[1:3] == ["3", "0.667"]
    # the long phenomenon name does not push its figures out of the column
    assert rows["attribution_reported_speech"].index(" 1") == rows["numbers"].index(" 3")

"""The loaders of the second-generation sets, on small files written here in each set's own format,
and the training pool's fixed validation split."""
import json

import pandas as pd
import pytest

from contradict.evaluation import datasets


def write(root, relative, text):
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def jsonl(rows):
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


@pytest.fixture
def root(tmp_path):
    pair = {"premise": "A man sleeps.", "hypothesis": "A man is awake.", "label": "contradiction"}
    write(tmp_path, "lingnli/train_round1_LitL.jsonl", jsonl([pair, dict(pair, hypothesis="He rests.", label="entailment")]))
    write(tmp_path, "lingnli/val_round1_base.jsonl", jsonl([dict(pair, hypothesis="He snores.", label="neutral")]))
    write(tmp_path, "mnli_dev_matched/val.jsonl", jsonl([dict(pair, idx=0)]))
    write(tmp_path, "taxinli/taxinli10k.tsv",
          "prem\thyp\tlabel\tnegation_logic\ttemporal_reasoning\t" + "\t".join(
              c for c in datasets.TAXINLI_CATEGORIES if c not in ("negation_logic", "temporal_reasoning"))
          + "\tpairID\tgenre\n" + "A man sleeps.\tA man is awake.\tcontradiction\t1\t0\t" + "\t".join(
              "0" for c in datasets.TAXINLI_CATEGORIES if c not in ("negation_logic", "temporal_reasoning"))
          + "\t1c\tfiction\n")
    write(tmp_path, "conjnli/conj_dev.tsv", "\ufeffPremise\tHypothesis\tLabel\nHe ran and hid.\tHe ran.\tentailment\n")
    claims = [{"claim_id": str(i), "claim": f"claim {i}", "claim_label": "SUPPORTS",
               "evidences": [{"evidence": f"evidence {i}", "evidence_label": label}
                             for label in ("SUPPORTS", "REFUTES", "NOT_ENOUGH_INFO")]} for i in range(10)]
    write(tmp_path, "climate_fever/climate-fever.jsonl", jsonl(claims))
    write(tmp_path, "indonli/test.jsonl", jsonl([{"premise": "Dia tidur.", "hypothesis": "Dia bangun.", "label": "c",
                                                 "annotator_type": "expert"}]))
    write(tmp_path, "indonli/translate_train_small/train.jsonl",
          jsonl([{"sentence1": "Dia tidur.", "sentence2": "Dia istirahat.", "gold_label": "entailment"}]))
    write(tmp_path, "indonli/translate_train_small/dev.jsonl", "")
    write(tmp_path, "ocnli/dev.json", jsonl([{"sentence1": "他睡了。", "sentence2": "他醒着。", "label": "contradiction"},
                                             {"sentence1": "他睡了。", "sentence2": "他累了。", "label": "-"}]))
    write(tmp_path, "cnli/cnli_test_labeled.txt", "A1\t他睡了。\t他醒着。\tcontradiction\r\n"
                                                  "B2\tbroken\tline\twith\textra\tfields\r\nC3\t他睡了。\t他累了。\tneutral\r\n")
    sick_header = "pair_ID\tsentence_A\tsentence_B\tentailment_label\tSemEval_set\n"
    write(tmp_path, "sick_nl/SICK_NL.txt", sick_header + "1\tEen man slaapt\tEen man is wakker\tCONTRADICTION\tTEST\n"
                                                         "2\tEen man slaapt\tEen man rust\tENTAILMENT\tTRAIN\n")
    write(tmp_path, "sick_br/SICK_BR.txt", "\ufeff" + sick_header + "1\tUm homem dorme\tUm homem acorda\tCONTRADICTION\tTEST\n")
    write(tmp_path, "sick_fr/sick_fr_aligned.tsv", "pair_ID\tsentence_A_fr\tsentence_B_fr\tlabel\tSemEval_set\n"
                                                   "1\tUn homme dort\tUn homme est éveillé\tcontradiction\tTEST\n")
    return tmp_path


def test_lingnli_reads_every_round_file_of_a_split(root):
    assert len(datasets.lingnli("train", root=root)) == 2
    assert len(datasets.lingnli("all", root=root)) == 3
    assert set(datasets.lingnli("all", root=root)["label"]) == set(datasets.LABELS)


def test_taxinli_keeps_its_reasoning_categories_as_tags(root):
    frame = datasets.load("taxinli", root=root)
    assert frame["tags"].iloc[0] == ["negation_logic"]


def test_conjnli_header_with_a_byte_order_mark(root):
    assert list(datasets.load("conjnli", root=root)["label"]) == ["entailment"]


def test_climate_fever_splits_by_claim_and_maps_its_labels(root):
    test, train = datasets.climate_fever("test", root=root), datasets.climate_fever("train", root=root)
    assert sorted(set(test["item"])) == ["climate-fever:0", "climate-fever:5"]  # claim_id % 5 == 0
    assert not set(test["item"]) & set(train["item"]) and len(train) == 8 * 3
    assert list(test["label"][:3]) == ["entailment", "contradiction", "neutral"]


def test_indonli_short_labels_and_translated_split(root):
    assert list(datasets.load("indonli", root=root)["label"]) == ["contradiction"]
    assert list(datasets.indonli("translated", root=root)["lang"]) == ["id"]


def test_ocnli_skips_pairs_without_agreement_and_cnli_skips_broken_lines(root):
    assert list(datasets.load("ocnli", root=root)["label"]) == ["contradiction"]
    assert list(datasets.load("cnli", root=root)["label"]) == ["contradiction", "neutral"]


def test_sick_translations_keep_semeval_splits_and_item_keys(root):
    nl = datasets.load("sick-nl", root=root)
    assert list(nl["label"]) == ["contradiction"] and list(nl["item"]) == ["sick:1"]
    assert list(datasets.sick_nl("train", root=root)["label"]) == ["entailment"]
    for name, lang in (("sick-br", "pt"), ("sick-fr", "fr")):
        assert list(datasets.load(name, root=root)["lang"]) == [lang]


def test_unknown_split_is_an_error(root):
    with pytest.raises(ValueError, match="climate-fever splits"):
        datasets.climate_fever("dev", root=root)


def _pool():
    rows = [{"premise": f"premise {i}", "hypothesis": f"hypothesis {i} {label}", "label": label, "lang": "en",
             "item": None} for i in range(400) for label in datasets.LABELS]
    return pd.DataFrame(rows)


def test_validation_holds_out_whole_items_by_a_stable_hash(monkeypatch):
    monkeypatch.setattr(datasets, "POOL_SOURCES", {"toy": lambda root: _pool()})
    first, again = datasets.pool_v2(), datasets.pool_v2()
    assert first.equals(again)
    held = first[first["split"] == "validation"]
    assert 0 < len(held) < 0.1 * len(first)
    assert held.groupby("item").size().eq(3).all()  # a premise's three hypotheses stay together
    assert not set(held["item"]) & set(first.loc[first["split"] == "train", "item"])


def test_weighted_rows_draws_whole_copies_and_a_seeded_share(monkeypatch):
    monkeypatch.setattr(datasets, "POOL_SOURCES", {"toy": lambda root: _pool()})
    pool = datasets.pool_v2()
    train = int((pool["split"] == "train").sum())
    assert len(datasets.weighted_rows(pool, {"toy": 2.0}, seed=1)) == 2 * train
    half = datasets.weighted_rows(pool, {"toy": 0.5}, seed=1)
    assert 0.4 * train < len(half) < 0.6 * train
    assert half.equals(datasets.weighted_rows(pool, {"toy": 0.5}, seed=1))
    assert (datasets.weighted_rows(pool, {"toy": 1.0}, seed=1)["split"] == "train").all()


def test_pool_weights_parse_over_the_defaults():
    weights = datasets.parse_weights("ronli=0.3,ro-nli=5")
    assert weights["ronli"] == 0.3 and weights["ro-nli"] == 5.0 and weights["lingnli"] == datasets.DEFAULT_WEIGHTS["lingnli"]
    for bad in ("nope=1", "ronli=-1", "ronli=x", "ronli"):
        with pytest.raises(Exception):
            datasets.parse_weights(bad)

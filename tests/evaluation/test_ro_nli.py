"""Our Romanian NLI (data/ro_nli): its loader, its fixed split, and its annotation artefacts."""
import hashlib
import json
import subprocess
import sys

import pytest
from conftest import ROOT

from contradict.evaluation import datasets

RO_NLI = ROOT / "data" / "ro_nli"


def _in_test(item_id: str) -> bool:
    return int(hashlib.md5(f"ro-nli:{item_id}".encode()).hexdigest()[:8], 16) / 2 ** 32 < 1 / 3


def test_the_split_is_the_documented_hash_of_the_id_and_premises_never_straddle_it():
    rows = {split: [json.loads(line) for line in (RO_NLI / f"{split}.jsonl").open(encoding="utf-8")]
            for split in ("train", "test")}
    assert len(rows["train"]) + len(rows["test"]) >= 900
    assert all(not _in_test(r["id"]) for r in rows["train"]) and all(_in_test(r["id"]) for r in rows["test"])
    premises = [{r["premise"] for r in rows[split]} for split in rows]
    assert not premises[0] & premises[1]


def test_the_validation_split_is_new_text_and_the_pool_holds_it_out():
    rows = {split: [json.loads(line) for line in (RO_NLI / f"{split}.jsonl").open(encoding="utf-8")]
            for split in datasets.RO_NLI_SPLITS}
    seen = {r[key] for split in ("train", "test") for r in rows[split]
            for key in ("premise", "entailment", "neutral", "contradiction")}
    assert not {r[key] for r in rows["validation"] for key in ("premise", "entailment", "neutral", "contradiction")} & seen
    assert not {r["id"] for r in rows["validation"]} & {r["id"] for split in ("train", "test") for r in rows[split]}
    assert len({r["phenomenon"] for r in rows["validation"]}) == 10
    pool = datasets.pool_v2(sources=["ro-nli"])
    held_out = pool[pool["split"] == "validation"]
    assert len(held_out) == 3 * len(rows["validation"])
    assert set(held_out["item"]) == {f"ro-nli:{r['id']}" for r in rows["validation"]}
    assert (pool["split"] == "train").sum() == 3 * len(rows["train"])


def test_loader_gives_three_labelled_pairs_per_premise_with_item_keys():
    test = datasets.load("ro-nli")
    assert len(test) % 3 == 0 and set(test["label"]) == set(datasets.LABELS)
    assert all(sorted(labels) == sorted(datasets.LABELS) for _, labels in test.groupby("item")["label"])
    assert set(test["lang"]) == {"ro"} and test["phenomenon"].nunique() == 10


def test_hypothesis_only_baseline_stays_under_the_bar():
    out = subprocess.run([sys.executable, str(ROOT / "eval" / "hypothesis_only.py"), "--format", "json"],
                         capture_output=True, text=True, check=True).stdout
    result = json.loads(out)
    assert result["test_pairs"] == len(datasets.load("ro-nli"))
    assert result["test_accuracy"] < 0.45 and result["validation_accuracy"] < 0.45
    assert result["cv_accuracy"] < 0.45  # the train split teaches no word-level shortcut either


def test_a_missing_directory_is_a_clear_error(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(datasets.DataNotFound, match="test.jsonl"):
        datasets.ro_nli("test", path=tmp_path / "empty")

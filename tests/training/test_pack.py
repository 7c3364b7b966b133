"""A training pack trains the same model as the shared data and the installed encoder."""
import json

import numpy as np
import pandas as pd
import pytest

from conftest import needs_shared_data

from contradict.evaluation import datasets
from contradict.nli.e5file import E5_FILE_ENV, build_tokenizer, find_e5_file, read_e5_file
from contradict.training import pack, trainer

pytestmark = pytest.mark.slow

POOL = pd.DataFrame({
    "premise": ["Podul a fost închis în 2021.", "The plant will close in June.", "Ministrul a vorbit cu el o dată.",
                "Die Brücke ist offen.", "El alcalde se reunió con ellos.", "Școala are 300 de elevi."],
    "hypothesis": ["Podul nu a fost închis niciodată.", "The plant is closing this summer.",
                   "Ministrul s-a întâlnit cu el.", "Die Brücke ist gesperrt.", "El alcalde nunca se reunió.",
                   "Școala are mai puțin de 100 de elevi."],
    "label": ["contradiction", "entailment", "entailment", "contradiction", "contradiction", "contradiction"],
    "lang": ["ro", "en", "ro", "de", "es", "ro"],
    "item": ["a", "b", "c", "d", "e", "f"],
    "source": ["ro-nli", "mnli-dev-matched", "ro-nli", "xnli-dev", "xnli-dev", "ro-nli"],
    "split": ["train"] * 5 + ["validation"],
})


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("pack")
    return out, pack.build_pack(out, pool=POOL)


def test_the_subset_keeps_the_vocabulary_and_exactly_the_rows_the_pool_uses(built):
    out, manifest = built
    original, subset = read_e5_file(find_e5_file()), read_e5_file(out / pack.E5_SUBSET_FILE)
    assert subset.pieces == original.pieces  # the same tokenizer, so the same ids
    hidden = original.header["hidden"]
    rows, kept = original.tensors["emb.word"].reshape(-1, hidden), subset.tensors["emb.word"].reshape(-1, hidden)
    used = sorted(pack.used_token_ids(build_tokenizer(original), list(POOL["premise"]) + list(POOL["hypothesis"])))
    assert manifest["token_ids_kept"] == len(used) < len(rows) // 100
    assert np.array_equal(kept[used], rows[used]) and np.abs(rows[used]).sum() > 0
    unused = np.setdiff1d(np.arange(len(rows)), used)
    assert not kept[unused].any()
    for name in original.tensors:  # everything but the word embeddings is untouched
        if name != "emb.word":
            assert np.array_equal(subset.tensors[name], original.tensors[name])
    assert manifest["bytes"][pack.E5_SUBSET_FILE] < (find_e5_file().stat().st_size * 0.6)


def test_the_pack_holds_every_row_and_the_validation_rows_apart(built):
    out, manifest = built
    assert pd.read_parquet(out / pack.POOL_FILE).equals(POOL)
    validation = [json.loads(line) for line in (out / pack.VALIDATION_FILE).read_text().splitlines()]
    assert [v["hypothesis"] for v in validation] == list(POOL.loc[POOL["split"] == "validation", "hypothesis"])
    assert manifest["train_rows"] == 5 and manifest["validation_rows"] == 1


def test_training_on_the_pack_is_training_on_the_installed_encoder(built, tmp_path, monkeypatch):
    out, _ = built
    options = dict(max_steps=2, batch_size=2, checkpoint_every=1, pool_file=out / pack.POOL_FILE, device="cpu")
    trainer.train(tmp_path / "installed", **options)
    monkeypatch.setenv(E5_FILE_ENV, str(out / pack.E5_SUBSET_FILE))
    trainer.train(tmp_path / "packed", **options)

    from safetensors.torch import load_file

    metas, weights = [], []
    for run in ("installed", "packed"):
        metas.append(trainer.export_checkpoint(tmp_path / run, tmp_path / f"{run}-export"))
        weights.append(load_file(str(tmp_path / f"{run}-export" / "model.safetensors")))
    assert metas[0]["rows_md5"] == metas[1]["rows_md5"]
    # the weighted draw of the train split (ro-nli rows four times over), both orders of a contradiction
    drawn = datasets.weighted_rows(POOL, datasets.parse_weights(None), seed=13)
    assert metas[0]["examples"] == len(trainer.build_examples(drawn, True)) >= 12
    assert "validation" not in set(drawn["split"])
    assert weights[0].keys() == weights[1].keys()
    assert all(np.array_equal(weights[0][k].numpy(), weights[1][k].numpy()) for k in weights[0])


def test_a_pool_file_is_a_second_generation_pool(tmp_path):
    with pytest.raises(ValueError, match="--pool v2"):
        trainer.train(tmp_path / "run", max_steps=1, pool_file=tmp_path / "pool.parquet", pool_version="v1")


def test_the_device_script_runs_its_whole_path_on_a_cpu(built, tmp_path):
    """models/train_on_device.sh with DEVICE=cpu MAX_STEPS=2: what a GPU machine would run, minus the GPU."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from safetensors.torch import load

    out, _ = built
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PACK=str(out), OUT=str(tmp_path / "out"), WORK=str(tmp_path / "work"), DEVICE="cpu",
               MAX_STEPS="2", BATCH_SIZE="2", THREADS="1", PYTHON=sys.executable)
    done = subprocess.run(["bash", str(root / "models" / "train_on_device.sh")], env=env, cwd=root,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    parts = sorted((tmp_path / "out").glob("model.safetensors.part-*"))
    assert parts and all(p.stat().st_size <= 15 * 2 ** 20 for p in parts)
    weights = load(b"".join(p.read_bytes() for p in parts))
    assert weights and not any(k.startswith("bert.embeddings.") for k in weights)
    assert json.loads((tmp_path / "out" / "training.json").read_text())["steps_done"] == 2
    scored = json.loads((tmp_path / "out" / "validation.json").read_text())
    assert scored["n"] == 1


@needs_shared_data
def test_the_packed_pool_draws_the_rows_the_shared_data_draws(tmp_path):
    pool = datasets.pool_v2()
    pool.to_parquet(tmp_path / "pool.parquet", compression="zstd", index=False)  # as build_pack writes it
    weights = datasets.parse_weights(None)
    rows = [trainer.build_examples(trainer.mix_languages(datasets.weighted_rows(frame, weights, 21), 0.5, 21), True)
            for frame in (pool, trainer._read_pool_file(tmp_path / "pool.parquet"))]
    assert rows[0] == rows[1] and len(rows[0]) > 50_000


def test_a_pool_file_that_is_not_a_pack_is_a_clear_error(tmp_path):
    from contradict.errors import ContradictError

    POOL.drop(columns=["split"]).to_parquet(tmp_path / "pool.parquet")
    with pytest.raises(ContradictError, match="lacks split"):
        trainer._read_pool_file(tmp_path / "pool.parquet")
    (tmp_path / "text.parquet").write_text("not parquet")
    with pytest.raises(ContradictError, match="not a readable parquet"):
        trainer._read_pool_file(tmp_path / "text.parquet")

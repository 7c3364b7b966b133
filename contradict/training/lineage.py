"""A model's lineage: the runs behind exported weights, their averages, and the rows they never saw."""
from __future__ import annotations

import json
import math
from pathlib import Path

from .trainer import length_batches, build_examples, mix_languages


def average_exports(dirs, out_dir):
    """Write the element-wise mean of exported weights (a "model soup" of runs of one lineage)."""
    import torch
    from safetensors.torch import load_file, save_file

    states = [load_file(str(Path(d) / "model.safetensors")) for d in dirs]
    if len(states) < 2 or any(s.keys() != states[0].keys() for s in states):
        raise ValueError("average_exports needs two or more exports of the same architecture")
    mean = {k: (sum(s[k].float() for s in states) / len(states)).to(torch.float16).contiguous()
            for k in states[0]}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    save_file(mean, str(out / "model.safetensors"), metadata={"format": "pt"})
    meta = {"average_of": [_run_meta(Path(d)) for d in dirs]}
    (out / "training.json").write_text(json.dumps(meta, indent=2))
    return meta


def lineage_runs(meta: dict) -> list:
    """Every run behind a model: its own, the runs it was warm-started from, the runs it averages."""
    runs = []

    def walk(part):
        while part:
            if "average_of" in part:  # an average may itself be warm-started from, or averaged again
                for averaged in part["average_of"]:
                    walk(averaged)
                return
            if part not in runs:
                runs.append(part)
            part = part.get("previous")

    walk(meta)
    return runs


def _run_meta(run) -> dict:
    """A run's meta with `steps_done`: from a work dir's checkpoint, a training.json, or a dict."""
    if isinstance(run, dict):
        return run
    path = Path(run)
    if path.is_dir() and (path / "checkpoint.pt").exists():
        import torch

        state = torch.load(path / "checkpoint.pt", map_location="cpu", weights_only=False)
        return dict(state["meta"], steps_done=state["step"])
    return json.loads((path / "training.json" if path.is_dir() else path).read_text())


def unseen_rows(*runs, data_dir=None, pool=None):
    """Training-pool rows none of `runs` has reached, nor their translations: data to fit a temperature on.

    Batches are a deterministic function of the seed, so the rows in batches after `steps_done`
    were never shown to the model.  A warm-started model lists every run of its lineage (its
    training.json keeps the previous run's under `previous`, an average its runs' under `average_of`).
    """
    import pandas as pd

    from ..evaluation import datasets
    from ..nli.e5file import build_tokenizer, find_e5_file, read_e5_file

    metas = [meta for run in runs for meta in lineage_runs(_run_meta(run))]
    if any(meta.get("pool") == "v2" for meta in metas):
        raise ValueError("a v2-pool run holds out a fixed validation split: calibrate on it (--data validation)")
    pool = datasets.training_pool(data_dir) if pool is None else pool  # `pool`: a DataFrame, as in train()
    with_items = build_examples(pool, metas[0]["swap_contradictions"], extra=["item"] if "item" in pool else [])
    rows = [row[:3] for row in with_items]
    # a translation of a seen item is not unseen (XNLI dev is one set of 2,490 items in 15 languages)
    items = [row[3] if len(row) > 3 and isinstance(row[3], str) else None for row in with_items]
    tokenizer = build_tokenizer(read_e5_file(find_e5_file()))
    seen, lengths_at = set(), {}
    for meta in metas:
        mixed = meta.get("cross_lingual", 0.0)  # mixing moves no row, but changes lengths, hence batches
        key = (meta["max_length"], mixed, meta["seed"] if mixed else None)
        if key not in lengths_at:  # runs of a lineage usually share it: tokenize once
            texts = rows if not mixed else build_examples(mix_languages(pool, mixed, meta["seed"]),
                                                          meta["swap_contradictions"])
            ids = tokenizer([r[0] for r in texts], [r[1] for r in texts], truncation=True,
                            max_length=meta["max_length"])["input_ids"]
            lengths_at[key] = [len(x) for x in ids]
        lengths = lengths_at[key]
        per_epoch = math.ceil(len(rows) / meta["batch_size"])
        if meta["steps_done"] >= per_epoch:
            return pd.DataFrame(columns=["premise", "hypothesis", "label"])
        batches = length_batches(lengths, meta["batch_size"], meta["seed"])
        seen |= {i for batch in batches[:meta["steps_done"]] for i in batch}
    seen_items = {items[i] for i in seen} - {None}
    seen_pairs = {(rows[i][0], rows[i][1]) for i in seen} | {(rows[i][1], rows[i][0]) for i in seen}
    unseen = [r for i, r in enumerate(rows)
              if i not in seen and (r[0], r[1]) not in seen_pairs and items[i] not in seen_items]
    return pd.DataFrame(unseen, columns=["premise", "hypothesis", "label"])

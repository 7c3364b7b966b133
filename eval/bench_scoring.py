"""Scoring throughput: a transformers pipeline against contradict's NLIScorer, same model, same pairs.

    python eval/bench_scoring.py                   # embedded default model, 2000 pairs, 1 thread
    python eval/bench_scoring.py --quick           # 200 pairs: a smoke test for CI
    python eval/bench_scoring.py --model DIR --pairs 4000 --threads 2

The pairs are XNLI test rows across its 15 languages (from ../shared/data via
contradict.evaluation.datasets, or --data-dir), a third of them with two or three premises
joined so lengths are mixed; without that data, sentence pairs from data/*.txt.
Ways of scoring, each timed after a short warm-up:

  (a) transformers.pipeline("text-classification") over {"text", "text_pair"}, default batching
  (b) the same pipeline with batch_size=32
  (c) NLIScorer.predict (batches sorted by token count, dynamic padding, inference_mode), fp32;
      (c') the same with torch.ao int8 dynamic quantisation of its Linear layers (per-tensor):
      measured, not offered (it costs about 7 accuracy points on the embedded model)
  (d) NLIScorer(backend="onnx"): the fp32 graph in ONNX Runtime, fused, its last layer computed for
      the first token only, two batches side by side on 2+ threads
  (e) NLIScorer(backend="onnx-int8"): the same with 7-bit per-channel int8 weights

Agreement is the share of pairs whose arg-max label matches the fp32 pipeline
(a); accuracy is against the gold labels when the pairs have them.  A backend
passes when it agrees on >= 99% of pairs or, being lossy, loses at most one
accuracy point.  The last two lines are the speedups over (a) and (b) of the
scorer with --backend (default onnx-int8; --backend torch for (c)).
"""
from __future__ import annotations

import argparse
import random
import re
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from contradict import set_threads
from contradict.labels import LABELS, map_model_labels as map_labels
from contradict.nli.loading import model_path
from contradict.nli.scorer import NLIScorer
from contradict.nli.onnx import BACKENDS

WARMUP = 16


def xnli_pairs(n: int, rng: random.Random, data_dir: str | None):
    from contradict.evaluation.datasets import xnli

    df = xnli("test", root=data_dir)
    rows = df.sample(n=min(n, len(df)), random_state=rng.randrange(2**31)).to_dict("records")
    premises = df["premise"].tolist()
    pairs, gold = [], []
    for k, row in enumerate(rows):
        premise = row["premise"]
        if k % 3 == 0:  # longer contexts, as inside documents; the gold label still holds
            premise = " ".join([premise] + rng.sample(premises, rng.randint(1, 2)))
        pairs.append((premise, row["hypothesis"]))
        gold.append(row["label"])
    return pairs, gold, f"XNLI test, {df['lang'].nunique()} languages"


def own_text_pairs(n: int, rng: random.Random):
    sentences = []
    for path in sorted((ROOT / "data").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        sentences += [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 20]
    pairs = [(" ".join(rng.sample(sentences, rng.randint(1, 3))), rng.choice(sentences)) for _ in range(n)]
    return pairs, None, f"sentence pairs from data/*.txt ({len(sentences)} sentences)"


def load_pairs(n: int, seed: int, data_dir: str | None):
    rng = random.Random(seed)
    try:
        return xnli_pairs(n, rng, data_dir)
    except (FileNotFoundError, OSError):
        return own_text_pairs(n, rng)


def pipeline_scorer(path: str, batch_size: int | None, max_length: int):
    from transformers import pipeline

    pipe = pipeline("text-classification", model=path, device="cpu", top_k=None)
    index = map_labels(pipe.model.config.id2label)
    names = [pipe.model.config.id2label[i] for i in index]

    def score(pairs):
        options = {"batch_size": batch_size} if batch_size else {}
        out = pipe([{"text": p, "text_pair": h} for p, h in pairs], truncation=True, max_length=max_length,
                   **options)
        return np.array([[next(d["score"] for d in row if d["label"] == name) for name in names] for row in out])

    return score


def nli_scorer(path: str, batch_size: int, quantize: bool = False, backend: str = "torch"):
    scorer = NLIScorer(path, backend=backend)
    if quantize:
        import warnings

        import torch
        from torch.ao.quantization import quantize_dynamic

        with warnings.catch_warnings():  # torch points to torchao for this API; it still works
            warnings.simplefilter("ignore")
            scorer.model = quantize_dynamic(scorer.model, {torch.nn.Linear}, dtype=torch.qint8)
    return lambda pairs: scorer.predict(pairs, batch_size=batch_size, show_progress_bar=False)


def timed(score, pairs) -> tuple[np.ndarray, float]:
    score(pairs[:WARMUP])
    started = time.perf_counter()
    probs = score(pairs)
    return np.asarray(probs), time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="preset, hub id or directory (default: embedded)")
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for every method")
    parser.add_argument("--batch-size", type=int, default=32, help="NLIScorer batch size")
    parser.add_argument("--data-dir", default=None, help="labelled data (default: ../shared/data)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="200 pairs")
    parser.add_argument("--backend", default="onnx-int8", choices=BACKENDS,
                        help="the scorer the final speedup lines are for")
    args = parser.parse_args(argv)

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # no loading bars in the table
    hf_logging.disable_progress_bar()
    set_threads(args.threads)
    path = model_path(args.model)
    pairs, gold, source = load_pairs(200 if args.quick else args.pairs, args.seed, args.data_dir)
    lengths = sorted(len(p) + len(h) for p, h in pairs)
    max_length = NLIScorer(path).max_length
    print(f"model {args.model} ({path}), {torch.get_num_threads()} thread(s), torch {torch.__version__}")
    print(f"{len(pairs)} pairs: {source}; characters per pair median {lengths[len(lengths) // 2]}, "
          f"max {lengths[-1]}; max_length {max_length}\n")

    methods = [
        ("(a) pipeline, default batching", pipeline_scorer(path, None, max_length)),
        ("(b) pipeline, batch_size=32", pipeline_scorer(path, 32, max_length)),
        ("(c) NLIScorer fp32", nli_scorer(path, args.batch_size)),
        ("(c') NLIScorer + torch int8", nli_scorer(path, args.batch_size, quantize=True)),
        ("(d) NLIScorer onnx", nli_scorer(path, args.batch_size, backend="onnx")),
        ("(e) NLIScorer onnx-int8", nli_scorer(path, args.batch_size, backend="onnx-int8")),
    ]
    chosen = {"torch": "(c) NLIScorer fp32", "onnx": "(d) NLIScorer onnx", "onnx-int8": "(e) NLIScorer onnx-int8"}
    results, quality = {}, {}
    print(f"{'method':34} {'pairs/s':>9} {'seconds':>8} {'agree(a)':>9} {'accuracy':>9}")
    for name, score in methods:
        probs, seconds = timed(score, pairs)
        results[name] = (probs, seconds)
        labels = probs.argmax(axis=1)
        agree = float((labels == results[methods[0][0]][0].argmax(axis=1)).mean())
        accuracy = float(np.mean([LABELS[k] == g for k, g in zip(labels, gold)])) if gold else None
        quality[name] = agree, accuracy
        shown = f"{accuracy:9.4f}" if gold else f"{'-':>9}"
        print(f"{name:34} {len(pairs) / seconds:9.1f} {seconds:8.2f} {agree:9.4f} {shown}", flush=True)

    seconds = {name: s for name, (_, s) in results.items()}
    name = chosen[args.backend]
    agree, accuracy = quality[name]
    baseline = quality[methods[0][0]][1]
    loss = None if accuracy is None else baseline - accuracy
    passes = agree >= 0.99 or (loss is not None and loss <= 0.01)
    print(f"\n{name}: agreement {agree:.4f}" + (f", accuracy change {-loss:+.4f}" if loss is not None else "")
          + f" -> {'within' if passes else 'OUTSIDE'} the bar (agreement >= 0.99 or accuracy loss <= 0.01)")
    ours = seconds[name]
    print(f"\nspeedup_vs_pipeline_default: {seconds[methods[0][0]] / ours:.2f}")
    print(f"speedup_vs_pipeline_batched: {seconds[methods[1][0]] / ours:.2f}")


if __name__ == "__main__":
    main()

"""How much sharing batches can save: the same pairs scored in calls of a request's size against rounds
of the server's size, same model, same run.

    python eval/bench_batching.py --threads 2                 # embedded model, 256 pairs
    python eval/bench_batching.py --sizes 1,4,45 --round 128 --pairs 512

The pairs are random sentence pairs of our own news documents (data/docs.jsonl). For each request size it
prints the seconds scored that way, the seconds in rounds of `--round` pairs, and their ratio: the most a
micro-batcher can gain over one request at a time on this machine (on a CPU the forward pass costs about
the same per token however the pairs are grouped, so the gain comes from per-call overhead and padding).
"""
from __future__ import annotations

import argparse
import json
import random
import re
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sentence_pairs(count: int, seed: int) -> list[tuple[str, str]]:
    lines = (ROOT / "data" / "docs.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines if line.strip()]
    sentences = [s for text in texts for s in re.split(r"(?<=[.!?])\s+", text) if len(s) > 20]
    rng = random.Random(seed)
    return [(rng.choice(sentences), rng.choice(sentences)) for _ in range(count)]


def timed(scorer, pairs, size: int) -> float:
    started = time.perf_counter()
    for i in range(0, len(pairs), size):
        scorer.predict(pairs[i:i + size], batch_size=32, show_progress_bar=False)
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--sizes", default="4,16,45", help="pairs per call, one request at a time")
    parser.add_argument("--round", type=int, default=128, help="pairs per call when requests share batches")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import contradict

    contradict.set_threads(args.threads)
    scorer = contradict.Detector(args.model, backend=args.backend, show_progress_bar=False).scorer
    pairs = sentence_pairs(args.pairs, args.seed)
    timed(scorer, pairs[:64], 32)  # warm-up: allocations, lazy loads
    print(f"model {args.model}, backend {args.backend}, threads {args.threads}, {len(pairs)} pairs")
    for size in (int(s) for s in args.sizes.split(",")):
        alone = timed(scorer, pairs, size)
        shared = timed(scorer, pairs, args.round)
        print(f"calls of {size:>4} pairs: {alone:6.2f} s   rounds of {args.round}: {shared:6.2f} s   "
              f"ratio {alone / shared:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Many short documents: `Detector.pipe` (pairs of several documents scored together) against `find` per document.

    python eval/bench_pipe.py --threads 2 --docs 200 --statements 6
    python eval/bench_pipe.py --model DIR --docs 40 --batch-docs 8,32

Both runs score the same pairs and must rank the same contradictions (checked); what differs is how
many model calls they make and how well the length-sorted batches fill. Printed: seconds and model calls
of each, and the speed-up of pipe over one-by-one, measured in this run.
"""
from __future__ import annotations

import argparse
import random
import time

from bench_scan import build_document  # our own templated news statements (eval/bench_scan.py)

from contradict import Detector, set_threads


class CountingScorer:
    """The detector's scorer, counting its calls."""

    def __init__(self, scorer):
        self.scorer, self.calls = scorer, 0
        self.backend = getattr(scorer, "backend", "torch")

    def predict(self, pairs, batch_size=32, show_progress_bar=None):
        self.calls += 1
        return self.scorer.predict(pairs, batch_size=batch_size, show_progress_bar=False)


def timed(run):
    started = time.perf_counter()
    result = run()
    return result, time.perf_counter() - started


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="preset, hub id or directory (default: embedded)")
    parser.add_argument("--docs", type=int, default=200, help="documents")
    parser.add_argument("--statements", type=int, default=6, help="statements per document")
    parser.add_argument("--batch-docs", default="16", help="documents per pipe batch (comma-separated to compare)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    rng = random.Random(args.seed)
    docs = [build_document(args.statements, rng)[0] for _ in range(args.docs)]
    detector = Detector(args.model, threshold=0.0, backend=args.backend, show_progress_bar=False)
    counting = CountingScorer(detector.scorer)
    detector.scorer = counting
    detector.find(docs[0])  # warm-up: first-call costs stay out of both timings

    counting.calls = 0
    alone, alone_s = timed(lambda: [detector.find(text) for text in docs])
    alone_calls = counting.calls
    pairs = sum(found.stats.pairs_scored for found in alone)
    print(f"model {args.model}, {args.docs} documents of {args.statements} statements, {pairs} pairs, "
          f"{args.threads} thread(s), backend {args.backend}")
    print("| method | seconds | model calls | docs/s |")
    print("|---|---:|---:|---:|")
    print(f"| find, one document at a time | {alone_s:.2f} | {alone_calls} | {args.docs / alone_s:.1f} |")
    for batch in (int(b) for b in args.batch_docs.split(",")):
        counting.calls = 0
        piped, piped_s = timed(lambda: list(detector.pipe(docs, batch_size=batch)))
        same = all([(c.a.start, c.b.start) for c in a] == [(c.a.start, c.b.start) for c in b]
                   for a, b in zip(alone, piped))
        if not same:
            raise SystemExit("bench_pipe: pipe ranked differently from find; the comparison is void")
        print(f"| pipe, {batch} documents a batch | {piped_s:.2f} | {counting.calls} | {args.docs / piped_s:.1f} |")
        print(f"speedup_pipe_{batch}_vs_find: {alone_s / piped_s:.2f}")


if __name__ == "__main__":
    main()

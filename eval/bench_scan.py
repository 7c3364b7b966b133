"""Whole-document scans: exhaustive pairing against the pruned pairing of contradict.pairs.

    python eval/bench_scan.py                        # embedded model, 25..400 statements, 1 thread
    python eval/bench_scan.py --threads 2 --sizes 200
    python eval/bench_scan.py --quick --model DIR     # CI: exhaustive scans only up to 100 statements

Documents are built from our own example articles (data/*.txt): their
statements are drawn at random and recombined, each copy with some numbers
changed and some named entities swapped for others from the same texts, so a
document holds many near-duplicates that disagree on a figure or a name, as
long reports and merged sources do.

For each size the same detector scans the document twice: exhaustively (every
pair) and pruned (the default: `neighbors` nearest statements by embedding plus
`anchors` sharing an entity or number, about (neighbors + anchors) * n pairs).
Recall is the share of the exhaustive scan's top-10 contradictions that the
pruned scan still scored and reported (both at threshold 0).  Exhaustive scans
cost n^2/2 pairs, so they stop at --exhaustive-up-to statements.
Targets: pairs scored <= (neighbors + anchors) * n, recall >= 0.95, and a
200-statement document in <= 20 s with the embedded model on 2 cores.
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # runs from a fresh clone, installed or not

from contradict import Detector  # noqa: E402
from contradict.onnx_backend import BACKENDS  # noqa: E402
from contradict.features import facts  # noqa: E402
from contradict.statements import segment  # noqa: E402

TOP = 10
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


def source_statements() -> tuple[list[str], list[str]]:
    """Statements of data/*.txt and the named entities they mention."""
    statements, entities = [], set()
    for path in sorted((ROOT / "data").glob("*.txt")):
        for s in segment(path.read_text(encoding="utf-8")).statements:
            statements.append(s.text.strip())
            entities |= {e for e in facts(s.text).entities if len(e) > 3}
    return statements, sorted(entities)


def vary(statement: str, entities: list[str], rng: random.Random) -> str:
    def number(match):
        if rng.random() < 0.6:
            return match.group(0)
        value = match.group(0)
        if re.fullmatch(r"(19|20)\d\d", value):  # a year stays a plausible year
            return str(int(value) + rng.choice([-3, -2, -1, 1, 2, 3]))
        return str(max(1, round(float(value.replace(",", ".")) * rng.choice([0.5, 2, 3, 10]))))

    text = _NUMBER.sub(number, statement)
    for entity in facts(statement).entities:
        if entity in text and rng.random() < 0.3:
            text = text.replace(entity, rng.choice(entities))
    return text


def build_document(n: int, rng: random.Random) -> str:
    """Text of at least `n` statements (as the detector segments it), close to n."""
    statements, entities = source_statements()
    units: list[str] = []
    count = 0
    while count < n:
        units += [vary(rng.choice(statements), entities, rng) for _ in range(n - count)]
        text = " ".join(u if u.endswith((".", "!", "?", "”", '"')) else u + "." for u in units)
        count = len(segment(text).statements)
    return text


def pair_key(c) -> tuple[int, int]:
    return tuple(sorted((c.a.start, c.b.start)))


def scan(detector: Detector, text: str, max_exhaustive: int, reverse_share: float):
    detector.max_exhaustive, detector.reverse_share = max_exhaustive, reverse_share
    started = time.perf_counter()
    found = detector.find(text)
    return found, time.perf_counter() - started, detector.last_stats


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="default", help="preset, hub id or directory (default: embedded)")
    parser.add_argument("--sizes", default="25,50,100,200,400", help="statements per document")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--exhaustive-up-to", type=int, default=None,
                        help="largest document scanned exhaustively (default 200; 100 with --quick)")
    parser.add_argument("--neighbors", type=int, default=None, help="pruning: nearest statements (default: Detector's)")
    parser.add_argument("--anchors", type=int, default=None, help="pruning: anchor-sharing statements (default: Detector's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="sizes 25,50,100")
    parser.add_argument("--reverse-share", type=float, default=1.0,
                        help="share of pairs also scored in reverse (Detector(reverse_share=...))")
    parser.add_argument("--backend", default="torch", choices=BACKENDS,
                        help="scoring backend (onnx-int8: the fast CPU option)")
    args = parser.parse_args(argv)

    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    sizes = [25, 50, 100] if args.quick else [int(s) for s in args.sizes.split(",")]
    exhaustive_up_to = args.exhaustive_up_to if args.exhaustive_up_to is not None else (100 if args.quick else 200)
    pruning = {k: v for k, v in (("neighbors", args.neighbors), ("anchors", args.anchors)) if v is not None}
    detector = Detector(args.model, threads=args.threads, threshold=0.0, batch_size=args.batch_size,
                        show_progress_bar=False, backend=args.backend,
                        reverse_share=args.reverse_share, **pruning)
    pruned_limit, k = detector.max_exhaustive, detector.neighbors + detector.anchors
    rng = random.Random(args.seed)
    scan(detector, build_document(60, rng), pruned_limit, args.reverse_share)  # warm-up, loads the encoder
    print(f"model {args.model} (backend {args.backend}, reverse share {args.reverse_share}), "
          f"{torch.get_num_threads()} thread(s); pruned: exhaustive up to {pruned_limit} statements, "
          f"else {detector.neighbors} neighbours + {detector.anchors} anchors (k = {k})\n")
    print(f"{'statements':>10} | {'pruned s':>8} {'pairs':>6} {'pairs/n':>7} | {'exhaust. s':>10} {'pairs':>6} | "
          f"{'recall@10':>9} {'top10 same':>10}")
    worst_recall, worst_ratio, seconds_200 = None, 0.0, None
    for n in sizes:
        text = build_document(n, rng)
        pruned, pruned_s, stats = scan(detector, text, pruned_limit, args.reverse_share)
        ratio = stats.pairs_scored / stats.statements
        worst_ratio = max(worst_ratio, ratio if stats.statements > pruned_limit else 0.0)
        if n == 200:
            seconds_200 = pruned_s
        line = f"{stats.statements:>10} | {pruned_s:8.1f} {stats.pairs_scored:>6} {ratio:7.2f} | "
        if stats.statements <= exhaustive_up_to:
            full, full_s, full_stats = scan(detector, text, 10**9, 1.0)  # reference: all pairs, both ways
            top = {pair_key(c) for c in full[:TOP]}
            kept = {pair_key(c) for c in pruned}
            recall = len(top & kept) / max(1, len(top))
            worst_recall = recall if worst_recall is None else min(worst_recall, recall)
            same = len(top & {pair_key(c) for c in pruned[:TOP]}) / max(1, len(top))
            line += f"{full_s:10.1f} {full_stats.pairs_scored:>6} | {recall:9.2f} {same:10.2f}"
        else:
            line += f"{'-':>10} {'-':>6} | {'-':>9} {'-':>10}"
        print(line, flush=True)

    print(f"\npairs_per_statement_max: {worst_ratio:.2f} (target <= {k})")
    if worst_recall is not None:
        print(f"recall_top10_min: {worst_recall:.2f} (target >= 0.95)")
    if seconds_200 is not None:
        print(f"seconds_200_statements: {seconds_200:.1f} (target <= 20 on 2 cores with the embedded model)")


if __name__ == "__main__":
    main()

"""Whole-document scans: exhaustive pairing against the pruned pairing of contradict.pipeline.pairs.

    python eval/bench_scan.py                        # embedded model, 25..400 statements, 1 thread
    python eval/bench_scan.py --threads 2 --sizes 200
    python eval/bench_scan.py --quick --model DIR     # sizes 25-100, exhaustive scans up to 100

Documents are built from our own news-style templates (Romanian first, some
English, French, Spanish and German) filled with people, companies, places,
figures and years drawn at random, so a long document talks about many things
and some of them more than once; about one statement in six is contradicted by
another placed elsewhere (a changed figure or year), as in long
reports and merged sources.  `planted` counts those pairs the pruned scan scored.

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
import bisect
import itertools
import random
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

from contradict import Detector, set_threads
from contradict.nli.onnx import BACKENDS

TOP = 10
# Our own news-style templates (Romanian first, then en, fr, es, de).  Each fills people, bodies,
# places, numbers and years at random, so a long document talks about many things, a few of them
# more than once; `contradiction` restates a filled statement with a conflicting figure.
PEOPLE = ["Andrei Vlase", "Mihai Dobre", "Ioana Marin", "Elena Stoica", "Radu Ionescu", "Sorin Pavel",
          "Laura Petrescu", "Dan Moldovan", "Clara Hughes", "Tom Fielding", "Anne Moreau", "Luis Ortega",
          "Petra Vogel", "Jonas Weber", "Sara Ruiz", "Paul Girard"]
BODIES = ["Solaris", "Hidroelectrica Nord", "Transport Urban", "Agrofarm", "Banca Carpatică", "Metrolink",
          "Norvia", "Consiliul Județean", "Vernay", "Puerto Sur", "Rheinbau", "Atlas Media"]
PLACES = ["Cluj", "Iași", "Timișoara", "Brașov", "Constanța", "Galați", "Oradea", "Sibiu", "Leeds", "Lyon",
          "Valencia", "Bremen"]
TEMPLATES = [
    "{person}, directorul {body}, a anunțat că firma va angaja {n} de oameni la {place} până în {year}.",
    "Potrivit {body}, investiția de la {place} va costa {n} de milioane de lei.",
    "Primăria din {place} a aprobat în {year} un buget de {n} de milioane de euro pentru transport.",
    "{person} a declarat că s-a întâlnit cu reprezentanții {body} de {k} ori în ultimul an.",
    "Noul spital din {place} va avea {n} de paturi și va fi deschis în {year}.",
    "{body} a raportat un profit de {n} de milioane de lei în {year}.",
    "Lucrările la podul din {place} au început în {year} și au durat {k} ani.",
    "{person} conduce {body} din {year}, iar compania are aproximativ {n} de angajați.",
    "The council in {place} voted {k} to 2 in favour of the new tram line in {year}.",
    "{person} said {body} would open {k} new stores in {place} before {year}.",
    "The airport at {place} handled {n} thousand passengers in {year}.",
    "Le maire de {place} a annoncé que {n} logements seront construits d'ici {year}.",
    "L'usine {body} de {place} emploie {n} salariés depuis {year}.",
    "El puerto de {place} recibió {n} barcos en {year}, según {body}.",
    "{person} afirmó que la obra costará {n} millones de euros y terminará en {year}.",
    "Die Stadt {place} plant für {year} einen Neubau für {n} Millionen Euro.",
    "Laut {body} arbeiten in {place} seit {year} genau {n} Menschen.",
]


def random_slots(rng: random.Random) -> dict:
    return {"person": rng.choice(PEOPLE), "body": rng.choice(BODIES), "place": rng.choice(PLACES),
            "n": rng.choice([40, 75, 120, 300, 450, 800, 1200, 2500]), "k": rng.randint(3, 9),
            "year": rng.randint(2015, 2026)}


def contradiction(template: str, slots: dict, rng: random.Random) -> str:
    """The same statement with a conflicting figure or year."""
    changed = dict(slots)
    key = rng.choice([k for k in ("n", "k", "year") if "{" + k + "}" in template])
    changed[key] = {"n": slots["n"] * rng.choice([2, 3, 10]), "k": slots["k"] + rng.choice([2, 4]),
                    "year": slots["year"] + rng.choice([-3, -2, 2, 3])}[key]
    return template.format(**changed)


def build_document(n: int, rng: random.Random) -> tuple[str, list[int], set[tuple[int, int]]]:
    """Text of `n` statements, where each starts, and the planted contradictions as pairs of their indices.
    About one statement in six is contradicted by another one placed elsewhere in the document."""
    units: list[str] = []
    planted: list[tuple[str, str]] = []
    while len(units) < n:
        template = rng.choice(TEMPLATES)
        slots = random_slots(rng)
        statement = template.format(**slots)
        if statement in units:
            continue
        units.append(statement)
        if rng.random() < 1 / 6 and len(units) < n:
            other = contradiction(template, slots, rng)
            if other not in units:
                units.insert(rng.randrange(len(units) + 1), other)
                planted.append((statement, other))
    units = units[:n]
    where = {u: k for k, u in enumerate(units)}
    starts = list(itertools.accumulate((len(u) + 1 for u in units[:-1]), initial=0))
    pairs = {tuple(sorted((where[a], where[b]))) for a, b in planted if a in where and b in where}
    return " ".join(units), starts, pairs


def pair_key(c, starts: list[int]) -> tuple[int, int]:
    """The two template sentences a contradiction's statements lie in (a claim may be a part of one)."""
    return tuple(sorted((bisect.bisect_right(starts, c.a.start) - 1, bisect.bisect_right(starts, c.b.start) - 1)))


def scan(detector: Detector, text: str, max_exhaustive: int, reverse_share: float):
    detector.max_exhaustive, detector.reverse_share = max_exhaustive, reverse_share
    started = time.perf_counter()
    found = detector.find(text)
    return found, time.perf_counter() - started, found.stats


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
    set_threads(args.threads)
    detector = Detector(args.model, threshold=0.0, batch_size=args.batch_size,
                        show_progress_bar=False, backend=args.backend,
                        reverse_share=args.reverse_share, **pruning)
    pruned_limit, k = detector.max_exhaustive, detector.neighbors + detector.anchors
    rng = random.Random(args.seed)
    scan(detector, build_document(60, rng)[0], pruned_limit, args.reverse_share)  # warm-up, loads the encoders
    print(f"model {args.model} (backend {args.backend}, reverse share {args.reverse_share}), "
          f"{torch.get_num_threads()} thread(s); pruned: exhaustive up to {pruned_limit} statements, "
          f"else {detector.neighbors} neighbours + {detector.anchors} anchors (k = {k})\n")
    print(f"{'statements':>10} | {'pruned s':>8} {'pairs':>6} {'pairs/n':>7} {'planted':>7} | "
          f"{'exhaust. s':>10} {'pairs':>6} | {'recall@10':>9} {'top10 same':>10}")
    worst_recall, worst_ratio, seconds_200, planted_found, planted_all = None, 0.0, None, 0, 0
    for n in sizes:
        text, starts, planted = build_document(n, rng)
        pruned, pruned_s, stats = scan(detector, text, pruned_limit, args.reverse_share)
        ratio = stats.pairs_scored / stats.statements
        worst_ratio = max(worst_ratio, ratio if stats.statements > pruned_limit else 0.0)
        kept = {pair_key(c, starts) for c in pruned}
        planted_found, planted_all = planted_found + len(planted & kept), planted_all + len(planted)
        if n == 200:
            seconds_200 = pruned_s
        line = (f"{stats.statements:>10} | {pruned_s:8.1f} {stats.pairs_scored:>6} {ratio:7.2f} "
                f"{len(planted & kept):>3}/{len(planted):<3} | ")
        if stats.statements <= exhaustive_up_to:
            full, full_s, full_stats = scan(detector, text, 10**9, 1.0)  # reference: all pairs, both ways
            top = {pair_key(c, starts) for c in full[:TOP]}
            recall = len(top & kept) / max(1, len(top))
            worst_recall = recall if worst_recall is None else min(worst_recall, recall)
            same = len(top & {pair_key(c, starts) for c in pruned[:TOP]}) / max(1, len(top))
            line += f"{full_s:10.1f} {full_stats.pairs_scored:>6} | {recall:9.2f} {same:10.2f}"
        else:
            line += f"{'-':>10} {'-':>6} | {'-':>9} {'-':>10}"
        print(line, flush=True)

    print(f"\npairs_per_statement_max: {worst_ratio:.2f} (target <= {k})")
    if worst_recall is not None:
        print(f"recall_top10_min: {worst_recall:.2f} (target >= 0.95)")
    print(f"planted_pairs_scored: {planted_found}/{planted_all}")
    if seconds_200 is not None:
        print(f"seconds_200_statements: {seconds_200:.1f} (target <= 20 on 2 cores with the embedded model)")


if __name__ == "__main__":
    main()

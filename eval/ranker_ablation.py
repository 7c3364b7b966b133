"""The learned ranker against the rules on the held-out documents, its ablations, and the evidence tags.

Prints, on the evaluation documents (bench): the per-language table of the rules and of the shipped
ranker (models/e5-small-nli/ranker.json); then the ranker refitted the way `contradict fit-ranker` fits
it (bench-fit + data/ro_news_docs.jsonl@fit, a quarter of the weight) with every feature group and
without each, with the language-mean P@1, R@5, MRR, document ROC-AUC and pair precision / recall at
each ranker's threshold; then, per evidence tag, how many held-out candidate pairs carry it and what
share of them are gold (and the same among the pairs the shipped ranker reports).

    python eval/ranker_ablation.py --cache runs/docbench-scores.sqlite [--json out.json]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

import contradict  # noqa: E402
from contradict.evaluation.docbench import DEFAULT_PER_LANGUAGE, benchmark  # noqa: E402
from contradict.evaluation.documents import (compute_doc_metrics, format_rankers_side_by_side,  # noqa: E402
                                             gold_or_left_out, load_docs, ranked_results, score_docs,
                                             statement_span)
from contradict.pipeline.ranking import LearnedRanker, RulesRanker, resolve_ranker  # noqa: E402
from contradict.pipeline.signals import EVIDENCE_TAGS, GROUPS, NAMES, pair_signals  # noqa: E402
from contradict.training.ranker import document_rows, drop_group, fit_rows  # noqa: E402


def _line(name: str, m: dict) -> str:
    mean = m["language_mean"]
    cells = [mean["precision@1"], mean["recall@5"], mean["mrr"], m["doc_roc_auc"], m["precision"], m["recall"]]
    return f"{name:<22}" + "".join(f"{v:>8.3f}" if v is not None else f"{'-':>8}" for v in cells)


def prepare(docs, scored) -> list[dict]:
    """Each document's pair signals, tags, spans and gold flags, computed once for every learned ranker
    (ambiguous pairs that are not gold dropped, as in `ranked_results`)."""
    prepared = []
    for doc, one in zip(docs, scored):
        signals, kinds = pair_signals(one.statements, one.pairs, one.probs_ab, one.probs_ba)
        offset_b = len(doc["text"]) + 1
        keep, spans, gold, order_keys = [], [], [], []
        for k, (i, j) in enumerate(one.pairs):
            a, b = one.statements[i], one.statements[j]
            pair = (statement_span(a, offset_b), statement_span(b, offset_b))
            hit = gold_or_left_out(doc, pair)
            if hit is None:
                continue
            keep.append(k)
            spans.append(pair)
            gold.append(hit)
            order_keys.append((a.doc, a.start, b.doc, b.start))
        prepared.append({"doc": doc, "signals": signals[keep] if keep else signals[:0],
                         "kinds": [kinds[k] for k in keep], "spans": spans, "gold": np.array(gold, dtype=bool),
                         "order": order_keys})
    return prepared


def results_with(prepared, ranker) -> list[dict]:
    """`ranked_results` for a learned ranker, from prepared signals."""
    results = []
    for p in prepared:
        scores = ranker.probability(p["signals"]) if len(p["spans"]) else np.zeros(0)
        order = sorted(range(len(scores)), key=lambda k: (-scores[k], p["order"][k]))
        doc = p["doc"]
        results.append({"id": doc["id"], "lang": doc.get("lang"), "variant": doc.get("variant"), "gold": doc["gold"],
                        "found": [p["spans"][k] for k in order], "scores": [float(scores[k]) for k in order]})
    return results


def tag_precision(prepared, ranker) -> dict:
    """Per evidence tag: candidate pairs carrying it, share gold; and the same among reported pairs."""
    counts = {t: [0, 0, 0, 0] for t in EVIDENCE_TAGS}  # pairs, gold, reported, reported gold
    for p in prepared:
        scores = ranker.probability(p["signals"]) if len(p["spans"]) else np.zeros(0)
        for k, kinds in enumerate(p["kinds"]):
            for tag in kinds:
                c = counts[tag]
                c[0] += 1
                c[1] += bool(p["gold"][k])
                if scores[k] >= ranker.threshold:
                    c[2] += 1
                    c[3] += bool(p["gold"][k])
    return {t: {"pairs": c[0], "precision": c[1] / c[0] if c[0] else None,
                "reported": c[2], "reported_precision": c[3] / c[2] if c[2] else None} for t, c in counts.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", default=None, help="SQLite score cache (as for contradict eval-docs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", default=None, help="write the figures here too")
    parser.add_argument("--eval-per-language", type=int, default=DEFAULT_PER_LANGUAGE["eval"])
    args = parser.parse_args(argv)
    contradict.set_threads(args.threads)
    detector = contradict.Detector(cache=args.cache, show_progress_bar=False, ranker="rules")
    fit_sources = [load_docs(benchmark("fit", DEFAULT_PER_LANGUAGE["fit"], root=args.data_dir)),
                   load_docs(str(ROOT / "data" / "ro_news_docs.jsonl@fit"))]
    parts = [document_rows(docs, score_docs(docs, detector, False)) for docs in fit_sources]
    x = np.concatenate([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    groups = np.concatenate([p[2] + 10**6 * k for k, p in enumerate(parts)])
    share = 0.25  # as contradict fit-ranker's default (contradict/cli/training.py)
    weight = np.concatenate([np.full(len(parts[0][1]), (1 - share) / len(parts[0][1])),
                             np.full(len(parts[1][1]), share / len(parts[1][1]))])
    eval_docs = load_docs(benchmark("eval", args.eval_per_language, root=args.data_dir))
    eval_scored = score_docs(eval_docs, detector, False)

    shipped = resolve_ranker("default", getattr(detector.scorer, "path", None))
    if not isinstance(shipped, LearnedRanker):
        raise SystemExit("the model has no ranker.json: run `contradict fit-ranker --out MODEL_DIR` first")
    prepared = prepare(eval_docs, eval_scored)
    side = {"rules": compute_doc_metrics(ranked_results(eval_docs, eval_scored, RulesRanker()),
                                         threshold=RulesRanker.threshold),
            "learned": compute_doc_metrics(results_with(prepared, shipped), threshold=shipped.threshold)}
    print(format_rankers_side_by_side(side), "\n")
    rows = {}
    print(f"{'ranker':<22}{'P@1':>8}{'R@5':>8}{'MRR':>8}{'AUC':>8}{'prec':>8}{'recall':>8}   (held-out documents, "
          "language means; precision / recall at each ranker's threshold)")
    print(_line("rules", side["rules"]))
    rows["rules"] = {**side["rules"]["language_mean"], "doc_roc_auc": side["rules"]["doc_roc_auc"]}
    for removed in [None, *GROUPS]:
        features = list(NAMES) if removed is None else drop_group(removed)
        ranker = fit_rows(x, y, groups, features, sample_weight=weight)
        m = compute_doc_metrics(results_with(prepared, ranker), threshold=ranker.threshold)
        name = "learned, all" if removed is None else f"  without {removed}"
        print(_line(name, m))
        rows[name.strip()] = {**m["language_mean"], "doc_roc_auc": m["doc_roc_auc"]}
    tags = tag_precision(prepared, shipped)
    print(f"\n{'evidence tag':<20}{'pairs':>8}{'gold share':>12}{'reported':>10}{'precision':>11}")
    for tag, t in tags.items():
        fmt = lambda v: f"{v:.3f}" if v is not None else "-"  # noqa: E731
        print(f"{tag:<20}{t['pairs']:>8}{fmt(t['precision']):>12}{t['reported']:>10}{fmt(t['reported_precision']):>11}")
    y_eval = np.concatenate([p["gold"] for p in prepared])
    print(f"(gold share among all held-out candidate pairs: {float(np.mean(y_eval)):.3f})")
    if args.json:
        Path(args.json).write_text(json.dumps({"side_by_side": side, "ablation": rows, "tags": tags}, indent=1,
                                              default=float) + "\n")


if __name__ == "__main__":
    main()

"""Two models on the same labelled rows: each one's accuracy and their paired difference with its standard error.

    python eval/compare_models.py runs/r3/export models/e5-small-nli --data xnli --every 10 --offset 5
    python eval/compare_models.py default runs/r3/export,runs/r5/export --data xnli --every 10 --offset 5

A model given as a comma-separated list is the ensemble of those models (their probabilities averaged):
what an ensemble reaches bounds what distilling from it can give a single model.

A paired difference (same rows, both models) is far tighter than comparing two accuracies: what counts
is how often the models disagree.  --offset picks a slice disjoint from the model card's (offset 0), to
confirm a gain that was first seen on the card's rows.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np

from contradict import evaluation as evaluate
from contradict import LABELS, set_threads
from contradict.errors import ContradictError
from contradict.nli.onnx import BACKENDS


def paired_difference(correct_a, correct_b) -> tuple[float, float, float]:
    """(mean of b − a, its standard error, share of rows where the two differ)."""
    a, b = np.asarray(correct_a, dtype=float), np.asarray(correct_b, dtype=float)
    diff = b - a
    se = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else float("nan")
    return float(diff.mean()), float(se), float(np.mean(a != b))


def ensemble_correct(probs_per_model, labels) -> np.ndarray:
    """Whether the argmax of the models' mean probabilities hits each row's label."""
    mean = np.mean(np.stack(probs_per_model), axis=0)
    return np.asarray(LABELS)[mean.argmax(axis=1)] == np.asarray(labels)


def ensemble_members(spec: str) -> list[str]:
    members = [name.strip() for name in spec.split(",")]
    if not all(members):
        raise ValueError(f"empty model name in {spec!r}")
    return members


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model_a", help="a model, or a comma-separated list of models to average")
    parser.add_argument("model_b", help="likewise")
    parser.add_argument("--data", default="xnli", help="a named set (xnli, ronli, ...) or a labelled file")
    parser.add_argument("--split", default=None, help="of a named set (default: its evaluation split)")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--every", type=int, default=10, help="every K-th row ...")
    parser.add_argument("--offset", type=int, default=0, help="... starting at this row")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--backend", default="onnx", choices=BACKENDS)
    args = parser.parse_args(argv)
    set_threads(args.threads)
    try:
        sides = [ensemble_members(spec) for spec in (args.model_a, args.model_b)]
        frame = evaluate.select_rows(evaluate.load_pairs(args.data, args.split, args.data_dir),
                                     sample_every=args.every, offset=args.offset)
        correct = []
        for spec, members in zip((args.model_a, args.model_b), sides):
            results = [evaluate.evaluate_pairs(frame, model,
                                               model_options={"backend": args.backend}, show_progress_bar=False)
                       for model in members]
            correct.append(ensemble_correct([result.probs for result in results], results[0].rows["label"]))
            print(f"{spec}: n={len(frame)} accuracy={correct[-1].mean():.3f}", flush=True)
    except (ContradictError, OSError, ValueError) as exc:
        print(f"compare_models: {exc}", file=sys.stderr)
        return 2
    diff, se, disagree = paired_difference(*correct)
    print(f"paired_difference: {diff:+.4f} (standard error {se:.4f}; the models disagree on {disagree:.1%} of rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

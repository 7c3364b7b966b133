"""The quality figures of a model in one command (the numbers in models/e5-small-nli/README.md).

    python eval/model_report.py --model default --threads 2 --out models/e5-small-nli/metrics.json

XNLI test has 75,150 rows; on 2 CPU cores the embedded model scores about 30 pairs/s, so by default
every 8th row of each language is used (9,405 pairs; --xnli-every 1 for all of it).  SNLI test and the
native-language sets (IndoNLI, OCNLI, CNLI, the SICK translations, ConjNLI, Climate-FEVER, Breaking NLI,
FEVER-Symmetric) are sampled likewise (--snli-every, --natives-every).
--backend onnx gives the same predictions about 1.3x faster; --backend onnx-int8 measures the int8 loss.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from contradict import evaluation as evaluate
from contradict import ContradictError, set_threads
from contradict.evaluation import datasets
from contradict.nli.onnx import BACKENDS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--xnli-every", type=int, default=8)
    parser.add_argument("--snli-every", type=int, default=5)
    parser.add_argument("--natives-every", type=int, default=5)
    parser.add_argument("--docs", default=str(Path(__file__).resolve().parent.parent / "data" / "docs.jsonl"))
    parser.add_argument("--out", default=None, help="write all figures here as JSON")
    parser.add_argument("--only", default=None, help="comma-separated subset of the set names, and docs")
    parser.add_argument("--backend", default="torch", choices=BACKENDS,
                        help="onnx gives the torch predictions faster on CPU; onnx-int8 measures the int8 loss")
    args = parser.parse_args(argv)
    set_threads(args.threads)

    scorer = evaluate.make_scorer(args.model, backend=args.backend)
    natives = args.natives_every
    plan = [("xnli", "test", args.xnli_every), ("ro-nli", "test", None), ("ronli", "test", None),
            ("anli", "dev", None), ("snli", "test", args.snli_every), ("control", "test", None),
            ("indonli", "test", natives), ("ocnli", "dev", natives), ("cnli", "test", natives),
            ("sick-nl", "test", natives), ("sick-br", "test", natives), ("sick-fr", "test", natives),
            ("conjnli", "dev", None), ("climate-fever", "test", None), ("breaking-nli", "test", natives),
            ("fever-symmetric", "test", None)]
    wanted = set(args.only.split(",")) if args.only else None
    report: dict = {"model": args.model, "backend": args.backend}
    for name, split, every in plan:
        if wanted and name not in wanted:
            continue
        try:
            started = time.perf_counter()
            result = evaluate.evaluate_pairs(name, scorer, split=split, data_dir=args.data_dir,
                                             sample_every=every, batch_size=args.batch_size)
        except (datasets.DataNotFound, ContradictError) as exc:
            print(f"{name}: skipped ({exc})", file=sys.stderr)
            continue
        m = result.metrics
        m["seconds"] = round(time.perf_counter() - started, 1)
        m["sample_every"] = every
        report[name] = m
        contradiction = m["per_class"].get("contradiction", {})
        print(f"{name:15s} {split:5s} n={m['n']:6d} acc={m['accuracy']:.3f} macro_f1={m['macro_f1']:.3f} "
              f"contradiction_f1={contradiction.get('f1') or 0:.3f} "
              f"P={contradiction.get('precision') or 0:.3f} R={contradiction.get('recall') or 0:.3f} "
              f"ece={m['ece']:.3f} ({m['seconds']} s)", flush=True)
        if m.get("per_language") and len(m["per_language"]) > 1:
            print("   " + "  ".join(f"{lang}:{v['accuracy']:.3f}" for lang, v in sorted(m["per_language"].items())))
    if not wanted or "docs" in wanted:
        from contradict import Detector

        # the model's figure: ranked by the fixed rules, so a refitted ranker.json does not move it
        detector = Detector(args.model, threshold=0.0, show_progress_bar=False,
                            backend=args.backend, ranker="rules")
        docs = evaluate.evaluate_docs(args.docs, detector)
        report["docs"] = docs
        print("docs    " + json.dumps({k: v for k, v in docs.items() if not isinstance(v, (list, dict))}))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

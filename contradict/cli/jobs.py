"""`contradict score` and `contradict scan-batch`: large JSONL/CSV files, streamed, crash-safe, resumable."""
from __future__ import annotations

import argparse
import sys

from ..jobs.runner import Job, run_job
from ..jobs.scanning import document_fields, scan_documents
from ..jobs.scoring import local_scoring, pair_fields
from .options import (add_model_options, add_pairing_options, add_threshold_options, detector_from_args,
                      model_options, positive_int)


def _job(args, default_chunk: int) -> Job:
    return Job(input=args.input, output=args.output, errors=args.errors, input_format=args.input_format,
               resume=args.resume, overwrite=args.overwrite, chunk_size=args.chunk_size or default_chunk,
               quiet=args.quiet)


def _report(what: str, summary: dict):
    where = f" (see {summary['errors']})" if summary["malformed"] else ""
    print(f"contradict {what}: {summary['written']} rows written to {summary['output']}, {summary['malformed']} "
          f"malformed{where}, {summary['skipped']} already done, {summary['seconds']} s", file=sys.stderr)


def cmd_score(args):
    options = dict(model_options(args), cache=args.cache)
    if args.engine == "ray":
        from ..jobs.ray_engine import ray_scoring

        process = ray_scoring(args.model, options, args.batch_size, threads=args.threads, workers=args.workers,
                              address=args.ray_address)
        job = _job(args, 50_000)  # replicas load their model once per chunk
    else:
        from ..nli.scorer import NLIScorer

        process = local_scoring(NLIScorer(args.model, **options), args.batch_size)
        job = _job(args, 1024)
    _report("score", run_job(job, ("premise", "hypothesis"), pair_fields, process, "score"))


def cmd_scan_batch(args):
    detector = detector_from_args(args, show_progress_bar=False, cache=args.cache)
    summary = run_job(_job(args, 8), ("text",), document_fields(detector, args.lang), scan_documents(detector),
                      "scan-batch")
    _report("scan-batch", summary)


def _add_job_options(p, default_chunk: str):
    p.add_argument("input", help="JSONL (one object a line) or CSV with a header; '-' for stdin")
    p.add_argument("-o", "--output", required=True, help="JSONL output, one row per input record")
    p.add_argument("--errors", default=None, help="malformed records go here (default: OUTPUT.errors.jsonl)")
    p.add_argument("--resume", action="store_true", help="continue a job: skip the lines already written")
    p.add_argument("--overwrite", action="store_true", help="start again over an existing output")
    p.add_argument("--input-format", choices=("auto", "jsonl", "csv"), default="auto",
                   help="default: csv for *.csv, else jsonl")
    p.add_argument("--chunk-size", type=positive_int, default=None,
                   help=f"records read, processed and fsync'ed together (default: {default_chunk})")
    p.add_argument("--cache", default=None, metavar="FILE", help="SQLite score cache: pairs seen before cost nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_commands(sub):
    p = sub.add_parser("score", help="NLI probabilities for premise/hypothesis rows of a JSONL or CSV file",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Scale out with --engine ray; see `python -m pydoc contradict.jobs.runner`.")
    _add_job_options(p, "1024; 50000 with --engine ray")
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="ray: score on a Ray cluster ($RAY_ADDRESS or --ray-address; else a local one)")
    p.add_argument("--ray-address", default=None, help="passed to ray.init(address=...)")
    p.add_argument("--workers", type=positive_int, default=None, help="model replicas with --engine ray")
    add_model_options(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("scan-batch", help="contradictions in each document of a JSONL or CSV file")
    _add_job_options(p, "8 documents")
    add_threshold_options(p, " per document")
    add_pairing_options(p)
    p.add_argument("--lang", default=None, help="language of documents without a lang field (default: detected)")
    add_model_options(p)
    p.set_defaults(func=cmd_scan_batch)

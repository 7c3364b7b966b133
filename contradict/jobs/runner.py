"""Batch jobs over large files: `contradict score` and `contradict scan-batch`.

    contradict score pairs.jsonl -o scores.jsonl        # rows {premise, hypothesis[, id]}
    contradict score pairs.csv -o scores.jsonl          # CSV with a premise,hypothesis[,id] header
    contradict scan-batch docs.jsonl -o found.jsonl     # rows {text[, id][, lang]}

Each output row carries the input line number (`"line": N`, the first line of
the record for CSV) and, when the input has one, its `id`.  `score` writes the
probabilities of `LABELS` and the arg-max `label`; `scan-batch` writes the
document's contradictions as `Contradiction.to_dict()`.

Streaming and crash safety.  The input is read in chunks of `--chunk-size`
records; after each chunk the new error rows, then the new output rows, are
written, flushed and fsync'ed.  Both files grow in input order, so `--resume`
drops a torn last line (from a kill mid-write), then skips every line number
found in either file, reading them lazily next to the input: memory stays
constant however large the job, and a job killed at any moment and resumed
writes every row exactly once.  Malformed records (bad JSON or CSV, missing or
non-text fields, invalid UTF-8) go to the errors file (`-o X.jsonl` ->
`X.errors.jsonl`, or `--errors FILE`) with their line numbers; the job goes on
and exits 0, with a one-line summary on stderr.

Scale-out with Ray (`pip install 'contradict[ray]'`).  `score --engine ray`
scores each chunk as a Ray Data `map_batches` job with one model replica per
actor (`--workers`, default: one per GPU with `--device cuda`, else one per
`--threads` CPUs of the cluster); reading, resume and writing stay on the
driver, so the guarantees above hold.  Chunks default to 50,000 rows there, so
the replicas load their model once per chunk, not per batch.

* On one machine nothing else is needed: Ray starts a local cluster.
* On a cluster, run the command on a node of it (or a machine that can reach it)
  with `RAY_ADDRESS=ray://head-node:10001` set, or pass `--ray-address`
  (anything `ray.init(address=...)` takes, e.g. `auto` on a cluster node).
  Every node needs contradict and its dependencies installed (a cluster image,
  or `ray.init(runtime_env={"pip": [...]})` from Python) and must reach the
  model: a hub id, or a directory on storage that all nodes mount.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from ..errors import ContradictError
from .records import Record, RowError, count_lines, read_records
from .resume import DoneLines, SyncedAppender, drop_torn_tail, errors_path_for


Validate = Callable[[dict], dict]  # raises RowError
Process = Callable[[list[tuple[int, dict]]], list[dict]]  # (line, fields) -> output rows in line order


def _chunks(records: Iterator[Record], size: int) -> Iterator[list[Record]]:
    chunk = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@dataclass(frozen=True)
class Job:
    """Where a batch job reads and writes, and how (the CLI fills it from its options)."""

    input: str  # a path, or "-" for stdin
    output: str
    errors: str | None = None  # default: OUTPUT.errors.jsonl
    input_format: str = "auto"  # auto (csv for *.csv, else jsonl), jsonl or csv
    resume: bool = False
    overwrite: bool = False
    chunk_size: int = 1024
    quiet: bool = False


def run_job(job: Job, required: tuple[str, ...], validate: Validate, process: Process, what: str,
            after_chunk: Callable[[int], None] | None = None) -> dict:
    """Stream `job.input` through `validate` and `process` into `job.output` (see the module doc).

    `after_chunk(n)` runs once the n-th chunk is on disk (a progress hook; tests stop a job there).
    Returns {written, malformed, skipped, seconds, output, errors}.
    """
    from tqdm.auto import tqdm

    output = Path(job.output)
    errors = Path(job.errors or errors_path_for(job.output))
    if output.resolve() == errors.resolve() or (job.input != "-" and Path(job.input).resolve() == output.resolve()):
        raise ContradictError("the input, the output and the errors file must be three different files")
    output.parent.mkdir(parents=True, exist_ok=True)
    if job.resume:
        for path in (output, errors):
            drop_torn_tail(path)
        done = DoneLines([output, errors])
    else:
        if output.exists() and output.stat().st_size and not job.overwrite:
            raise ContradictError(f"{output} exists: pass --resume to continue that job or --overwrite to redo it")
        output.write_bytes(b"")
        errors.unlink(missing_ok=True)
        done = ()
    out, err = SyncedAppender(output), SyncedAppender(errors)
    skipped = 0
    started = time.perf_counter()
    records = read_records(job.input, job.input_format, required)
    bar = tqdm(total=count_lines(job.input), unit="line", desc=what, disable=job.quiet or None)
    try:
        for number, chunk in enumerate(_chunks(records, job.chunk_size), 1):
            good, bad = [], []
            for record in chunk:
                if record.line in done:
                    skipped += 1
                    continue
                try:
                    if record.error:
                        raise RowError(record.error)
                    good.append((record.line, validate(record.fields)))
                except RowError as exc:
                    row = {"line": record.line, "error": str(exc)}
                    if record.fields and "id" in record.fields:
                        row["id"] = record.fields["id"]
                    bad.append(row)
            # errors first: a crash between the two writes then only redoes good rows
            err.write(bad)
            out.write(process(good) if good else [])
            bar.update(chunk[-1].end - bar.n)
            if after_chunk is not None:
                after_chunk(number)
    finally:
        bar.close()
        out.close()
        err.close()
    return {"written": out.rows, "malformed": err.rows, "skipped": skipped,
            "seconds": round(time.perf_counter() - started, 1), "output": str(output), "errors": str(errors)}

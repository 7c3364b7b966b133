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

import argparse
import codecs
import csv
import io
import json
import os
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import ContradictError, InputError
from .scoring import LABELS


class RowError(ValueError):
    """A malformed record: reported in the errors file, the job goes on."""


@dataclass
class Record:
    line: int  # first line of the record in the input (1-based)
    end: int  # last line, for the progress bar (CSV fields may span lines)
    fields: dict | None = None
    error: str | None = None


# -- reading --------------------------------------------------------------------------------------

def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RowError(f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})") from None


def _jsonl_records(handle) -> Iterator[Record]:
    for number, raw in enumerate(handle, 1):
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        if not raw.strip():
            continue
        try:
            value = json.loads(_utf8(raw))
            if not isinstance(value, dict):
                raise RowError(f"expected a JSON object, got {type(value).__name__}")
            yield Record(number, number, fields=value)
        except json.JSONDecodeError as exc:
            yield Record(number, number, error=f"bad JSON: {exc.msg} at column {exc.colno}")
        except RowError as exc:
            yield Record(number, number, error=str(exc))


def _csv_records(handle, required: tuple[str, ...]) -> Iterator[Record]:
    # surrogateescape keeps undecodable bytes visible to the per-row check instead of failing the file
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="surrogateescape", newline="")
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise InputError(f"cannot read the CSV header: {exc}") from None
    missing = [name for name in required if name not in header]
    if missing:
        raise InputError(f"the CSV header ({', '.join(header)}) lacks {', '.join(missing)}")
    start = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Record(start, reader.line_num, error=f"bad CSV row: {exc}")
            start = reader.line_num + 1
            continue
        end = reader.line_num
        if any(v.strip() for v in values):
            if len(values) != len(header):
                yield Record(start, end, error=f"bad CSV row: {len(values)} fields, the header has {len(header)}")
            else:
                yield Record(start, end, fields=dict(zip(header, values)))
        start = end + 1


def read_records(path: str, fmt: str, required: tuple[str, ...]) -> Iterator[Record]:
    """Records of a JSONL or CSV file ('-' for stdin), read lazily."""
    if fmt == "auto":
        fmt = "csv" if path.lower().endswith(".csv") else "jsonl"
    if path == "-":
        handle = sys.stdin.buffer
    else:
        try:
            handle = open(path, "rb")
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        yield from (_csv_records(handle, required) if fmt == "csv" else _jsonl_records(handle))
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()


def text_field(fields: dict, name: str, required: bool = True) -> str | None:
    value = fields.get(name)
    if value is None or (value == "" and not required):
        if required:
            raise RowError(f"missing field {name!r}")
        return None
    if not isinstance(value, str):
        raise RowError(f"field {name!r} is {type(value).__name__}, not text")
    if re.search("[\ud800-\udfff]", value):  # undecodable CSV bytes or a lone \ud8xx escape in JSON
        raise RowError(f"field {name!r} is not valid UTF-8 text")
    return value


def count_lines(path: str) -> int | None:
    if path == "-":
        return None
    with open(path, "rb") as handle:
        lines = sum(block.count(b"\n") for block in iter(lambda: handle.read(1 << 20), b""))
        handle.seek(0, os.SEEK_END)
        if handle.tell():
            handle.seek(-1, os.SEEK_END)
            lines += handle.read(1) != b"\n"
    return lines


# -- writing and resuming ---------------------------------------------------------------------------

def errors_path_for(output: str) -> str:
    """`found.jsonl` -> `found.errors.jsonl`; other names get `.errors.jsonl` appended."""
    path = Path(output)
    stem = path.with_suffix("") if path.suffix.lower() in (".jsonl", ".json") else path
    return f"{stem}.errors.jsonl"


def drop_torn_tail(path: Path):
    """Cut a last line without its newline: a write interrupted by a crash."""
    if not path.exists():
        return
    with path.open("r+b") as handle:
        size = end = handle.seek(0, os.SEEK_END)
        while end > 0:
            start = max(0, end - (1 << 16))
            handle.seek(start)
            cut = handle.read(end - start).rfind(b"\n")
            if cut >= 0:
                end = start + cut + 1
                break
            end = start
        if end != size:
            handle.truncate(end)
            handle.flush()
            os.fsync(handle.fileno())


_LINE_PREFIX = re.compile(rb'\{"line": (\d+)[,}]')


def written_lines(path: Path, limit: int) -> Iterator[int]:
    """The `line` of each row in the first `limit` bytes of an output we wrote, checked increasing."""
    previous = consumed = 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, 1):
            if consumed >= limit:
                return
            consumed += len(raw)
            match = _LINE_PREFIX.match(raw)
            try:
                line = int(match.group(1)) if match else int(json.loads(raw)["line"])
            except (ValueError, KeyError, TypeError):
                raise ContradictError(f"{path}:{number} is not a row written by contradict; cannot resume") from None
            if line <= previous:
                raise ContradictError(f"{path} is not in input order at its line {number}; cannot resume")
            previous = line
            yield line


class DoneLines:
    """Membership of increasing line numbers in the sorted outputs of a previous run (constant memory)."""

    def __init__(self, paths: Iterable[Path]):
        # only what existed at the start: rows this run appends are never asked about
        self._streams = [written_lines(p, p.stat().st_size) for p in paths if p.exists() and p.stat().st_size]
        self._heads = [next(s, None) for s in self._streams]

    def __contains__(self, line: int) -> bool:
        hit = False
        for k, stream in enumerate(self._streams):
            while self._heads[k] is not None and self._heads[k] < line:
                self._heads[k] = next(stream, None)
            hit = hit or self._heads[k] == line
        return hit


def _json_line(row: dict) -> bytes:
    try:
        return json.dumps(row, ensure_ascii=False).encode() + b"\n"
    except UnicodeEncodeError:  # a lone surrogate in an id: \u escapes keep the line valid JSON
        return json.dumps(row).encode() + b"\n"


class SyncedAppender:
    """Appends JSON rows; each `write` is flushed and fsync'ed before it returns."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None
        self.rows = 0

    def write(self, rows: list[dict]):
        if not rows:
            return
        if self._handle is None:  # created on first use: a clean job leaves no empty errors file
            self._handle = self.path.open("ab")
        self._handle.write(b"".join(map(_json_line, rows)))
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self.rows += len(rows)

    def close(self):
        if self._handle is not None:
            self._handle.close()


# -- the job ------------------------------------------------------------------------------------

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


def run_job(args, required: tuple[str, ...], validate: Validate, process: Process, what: str) -> dict:
    """Stream `args.input` through `validate` and `process` into `args.output` (see the module doc)."""
    from tqdm.auto import tqdm

    output = Path(args.output)
    errors = Path(args.errors or errors_path_for(args.output))
    if output.resolve() == errors.resolve() or (args.input != "-" and Path(args.input).resolve() == output.resolve()):
        raise ContradictError("the input, the output and the errors file must be three different files")
    output.parent.mkdir(parents=True, exist_ok=True)
    if args.resume:
        for path in (output, errors):
            drop_torn_tail(path)
        done = DoneLines([output, errors])
    else:
        if output.exists() and output.stat().st_size and not args.overwrite:
            raise ContradictError(f"{output} exists: pass --resume to continue that job or --overwrite to redo it")
        output.write_bytes(b"")
        errors.unlink(missing_ok=True)
        done = ()
    out, err = SyncedAppender(output), SyncedAppender(errors)
    skipped = 0
    started = time.perf_counter()
    records = read_records(args.input, args.input_format, required)
    bar = tqdm(total=count_lines(args.input), unit="line", desc=what, disable=args.quiet or None)
    try:
        for chunk in _chunks(records, args.chunk_size):
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
    finally:
        bar.close()
        out.close()
        err.close()
    summary = {"written": out.rows, "malformed": err.rows, "skipped": skipped,
               "seconds": round(time.perf_counter() - started, 1)}
    where = f" (see {errors})" if err.rows else ""
    print(f"contradict {what}: {out.rows} rows written to {output}, {err.rows} malformed{where}, "
          f"{skipped} already done, {summary['seconds']} s", file=sys.stderr)
    return summary


# -- score ------------------------------------------------------------------------------------------

def _pair_fields(fields: dict) -> dict:
    row = {name: text_field(fields, name) for name in ("premise", "hypothesis")}
    for name, value in row.items():
        if not value.strip():
            raise RowError(f"field {name!r} is empty")
    if "id" in fields:
        row["id"] = fields["id"]
    return row


def _score_rows(items: list[tuple[int, dict]], probs) -> list[dict]:
    rows = []
    for (line, fields), p in zip(items, probs):
        row = {"line": line}
        if "id" in fields:
            row["id"] = fields["id"]
        row.update({label: round(float(v), 6) for label, v in zip(LABELS, p)})
        row["label"] = LABELS[int(p.argmax())]
        rows.append(row)
    return rows


def _scorer_options(args) -> dict:
    from .cli import _parse_label_map

    return dict(device=args.device, threads=args.threads, label_map=_parse_label_map(args.label_map),
                trust_remote_code=args.trust_remote_code, cache=args.cache, backend=args.backend)


def _local_scoring(args) -> Process:
    from .scoring import NLIScorer

    scorer = NLIScorer(args.model, **_scorer_options(args))

    def process(items):
        pairs = [(f["premise"], f["hypothesis"]) for _, f in items]
        return _score_rows(items, scorer.predict(pairs, batch_size=args.batch_size, show_progress_bar=False))

    return process


class RayScorer:
    """One model replica per Ray actor: `map_batches` builds it once and calls it per batch."""

    def __init__(self, model: str, options: dict, batch_size: int):
        from .scoring import NLIScorer

        self.scorer = NLIScorer(model, **options)
        self.batch_size = batch_size

    def __call__(self, batch: dict) -> dict:
        pairs = list(zip(batch["premise"], batch["hypothesis"]))
        probs = self.scorer.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return {"line": batch["line"], "probs": probs}


def _ray_scoring(args) -> Process:
    try:
        import ray
    except ImportError:
        raise ContradictError("--engine ray needs Ray: pip install 'contradict[ray]'") from None
    import numpy as np

    if not ray.is_initialized():
        ray.init(address=args.ray_address, logging_level="ERROR", log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    options = _scorer_options(args)
    gpus = 1 if (args.device or "").startswith("cuda") else 0
    cpus = args.threads or 1
    resources = ray.cluster_resources()
    if gpus and resources.get("GPU", 0) < 1:
        raise ContradictError("--device cuda, but the Ray cluster has no GPU")
    workers = args.workers or max(1, int(resources.get("GPU", 0) if gpus else resources.get("CPU", 1) // cpus))

    def process(items):
        lines = {line: fields for line, fields in items}
        ds = ray.data.from_items([{"line": line, "premise": f["premise"], "hypothesis": f["hypothesis"]}
                                  for line, f in items])
        scored = ds.map_batches(RayScorer, fn_constructor_kwargs=dict(model=args.model, options=options,
                                                                      batch_size=args.batch_size),
                                batch_size=max(256, args.batch_size * 8), batch_format="numpy",
                                concurrency=workers, num_gpus=gpus, num_cpus=cpus)
        got_lines, got_probs = [], []
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
            got_lines.append(batch["line"])
            got_probs.append(batch["probs"])
        order_lines = np.concatenate(got_lines)
        probs = np.concatenate(got_probs)
        order = np.argsort(order_lines, kind="stable")  # actors finish out of order; the file must not
        return _score_rows([(int(order_lines[i]), lines[int(order_lines[i])]) for i in order], probs[order])

    return process


def cmd_score(args):
    if args.chunk_size is None:
        args.chunk_size = 50_000 if args.engine == "ray" else 1024
    process = _ray_scoring(args) if args.engine == "ray" else _local_scoring(args)
    run_job(args, ("premise", "hypothesis"), _pair_fields, process, "score")


# -- scan-batch ---------------------------------------------------------------------------------

def cmd_scan_batch(args):
    from .cli import detector_from_args

    detector = detector_from_args(args)
    detector.show_progress_bar = False
    detector.scorer.use_cache(args.cache)

    def validate(fields: dict) -> dict:
        row = {"text": text_field(fields, "text"), "lang": text_field(fields, "lang", required=False) or args.lang}
        if len(row["text"]) > detector.max_chars:
            raise RowError(f"the text has {len(row['text']):,} characters; the limit is {detector.max_chars:,}")
        if "id" in fields:
            row["id"] = fields["id"]
        return row

    def process(items):
        rows = []
        for line, fields in items:
            row = {"line": line}
            if "id" in fields:
                row["id"] = fields["id"]
            if fields["text"].strip():
                found = detector.find(fields["text"], lang=fields["lang"])
                stats = detector.last_stats.statements, detector.last_stats.pairs_scored
            else:
                found, stats = [], (0, 0)
            row.update(lang=fields["lang"], statements=stats[0], pairs_scored=stats[1],
                       contradictions=[c.to_dict() for c in found])
            rows.append(row)
        return rows

    run_job(args, ("text",), validate, process, "scan-batch")


# -- command line ---------------------------------------------------------------------------------

def _add_job_options(p, default_chunk: int | None):
    from .cli import _positive_int

    p.add_argument("input", help="JSONL (one object a line) or CSV with a header; '-' for stdin")
    p.add_argument("-o", "--output", required=True, help="JSONL output, one row per input record")
    p.add_argument("--errors", default=None, help="malformed records go here (default: OUTPUT.errors.jsonl)")
    p.add_argument("--resume", action="store_true", help="continue a job: skip the lines already written")
    p.add_argument("--overwrite", action="store_true", help="start again over an existing output")
    p.add_argument("--input-format", choices=("auto", "jsonl", "csv"), default="auto",
                   help="default: csv for *.csv, else jsonl")
    p.add_argument("--chunk-size", type=_positive_int, default=default_chunk,
                   help="records read, processed and fsync'ed together")
    p.add_argument("--cache", default=None, metavar="FILE", help="SQLite score cache: pairs seen before cost nothing")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def add_commands(sub):
    from .cli import _positive_int, _score, add_model_options, add_pairing_options

    p = sub.add_parser("score", help="NLI probabilities for premise/hypothesis rows of a JSONL or CSV file",
                       formatter_class=argparse.RawDescriptionHelpFormatter,
                       epilog="Scale out with --engine ray; see `python -m pydoc contradict.batch`.")
    _add_job_options(p, default_chunk=None)
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="ray: score on a Ray cluster ($RAY_ADDRESS or --ray-address; else a local one)")
    p.add_argument("--ray-address", default=None, help="passed to ray.init(address=...)")
    p.add_argument("--workers", type=_positive_int, default=None, help="model replicas with --engine ray")
    add_model_options(p)
    p.set_defaults(func=cmd_score)

    p = sub.add_parser("scan-batch", help="contradictions in each document of a JSONL or CSV file")
    _add_job_options(p, default_chunk=8)
    p.add_argument("--threshold", type=_score, default=0.2, help="minimum score to report (0-1)")
    p.add_argument("--top-k", type=_positive_int, default=None, help="report at most this many per document")
    add_pairing_options(p)
    p.add_argument("--lang", default=None, help="language of documents without a lang field (default: detected)")
    add_model_options(p)
    p.set_defaults(func=cmd_scan_batch)

"""Crash-safe outputs: rows appended in input order and fsync'ed, torn tails cut, done lines found again."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable, Iterator

from ..errors import ContradictError


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

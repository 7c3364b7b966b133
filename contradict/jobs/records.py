"""Records of a JSONL or CSV input, read lazily with their line numbers; bad ones carry an error."""
from __future__ import annotations

import csv
import io
import os
import re
import sys
from dataclasses import dataclass
from typing import Iterator

from ..errors import InputError
from ..files import jsonl_objects


class RowError(ValueError):
    """A malformed record: reported in the errors file, the job goes on."""


@dataclass
class Record:
    line: int  # first line of the record in the input (1-based)
    end: int  # last line, for the progress bar (CSV fields may span lines)
    fields: dict | None = None
    error: str | None = None


# -- reading --------------------------------------------------------------------------------------

def _jsonl_records(handle) -> Iterator[Record]:
    for number, fields, error in jsonl_objects(handle):
        yield Record(number, number, fields=fields, error=error)


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

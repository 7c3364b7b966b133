"""File plumbing: user input read safely (encodings, binary, size), JSONL, fingerprints, atomic writes."""
from __future__ import annotations

import codecs
import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator

from .errors import InputError

MAX_FILE_BYTES = 50 * 1024 * 1024
CACHE_ENV = "CONTRADICT_CACHE"


# files of a model directory applied after the logits (a temperature, a ranker): changing them keeps the
# model's score cache and exported graphs valid
AFTER_LOGITS_FILES = frozenset({"calibration.json", "ranker.json"})


def cache_root() -> Path:
    """Where converted models and exported graphs are kept: $CONTRADICT_CACHE, else ~/.cache/contradict."""
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "contradict")
    return Path(root)


def decode(data: bytes, name: str, encoding: str | None = None, how_to_name: str = "pass --encoding") -> str:
    """Text of `data`: in `encoding`, else UTF-8 (a byte-order mark honoured); an InputError says why not.
    `how_to_name` tells the user how to name another encoding where they are (an option, a form field)."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"unknown encoding {encoding!r} (e.g. utf-8, cp1250, latin-1)") from None
        try:
            return data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise InputError(f"{name}: not valid {encoding} (byte 0x{data[exc.start]:02x} at offset "
                             f"{exc.start})") from None
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc, errors="strict")
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: starts with a {enc} byte-order mark but is not valid {enc} "
                                 f"({exc.reason} at offset {exc.start}); {how_to_name}") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: looks like a binary file (NUL bytes), not text; "
                         f"for UTF-16 without a byte-order mark {how_to_name} utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         f"save it as UTF-8 or {how_to_name} (e.g. cp1250, latin-1)") from None


def read_text(path: str, encoding: str | None = None, max_bytes: int = MAX_FILE_BYTES) -> str:
    """Text of `path` ('-' for stdin), or an InputError that says what is wrong in one line."""
    if path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
        name = "stdin"
    else:
        p = Path(path)
        if not p.exists():
            raise InputError(f"{path}: no such file")
        if p.is_dir():
            raise InputError(f"{path}: is a directory, not a text file")
        if p.stat().st_size > max_bytes:
            raise InputError(f"{path}: {p.stat().st_size:,} bytes is over the {max_bytes:,}-byte limit; "
                             "split it or use `contradict scan-batch`")
        try:
            with p.open("rb") as handle:  # bounded: /dev/zero or a growing file report a size of 0
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None
        name = path
    if len(data) > max_bytes:
        raise InputError(f"{name}: over the {max_bytes:,}-byte limit")
    return decode(data, name, encoding)


def jsonl_objects(lines: Iterable[bytes | str]) -> Iterator[tuple[int, dict | None, str | None]]:
    """(line number, object, None) for each non-blank JSON-object line, or (line number, None, why not)."""
    for number, raw in enumerate(lines, 1):
        if isinstance(raw, bytes):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                raw = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield number, None, f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1})"
                continue
        elif number == 1:
            raw = raw.removeprefix("\ufeff")
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            yield number, None, f"bad JSON: {exc.msg} at column {exc.colno}"
            continue
        if isinstance(value, dict):
            yield number, value, None
        else:
            yield number, None, f"expected a JSON object, got {type(value).__name__}"


def read_jsonl(source: str | Path, name: str | None = None) -> list[dict]:
    """Every object of a JSONL file (or of JSONL text when `name` is given); the first bad line is an error."""
    if name is None:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        with path.open("rb") as fh:
            return _strict(jsonl_objects(fh), str(path))
    return _strict(jsonl_objects(str(source).splitlines()), name)


def _strict(objects, name: str) -> list[dict]:
    rows = []
    for number, value, error in objects:
        if error:
            raise InputError(f"{name}, line {number}: {error}")
        rows.append(value)
    return rows


def fingerprint(files: Iterable[Path], extra: Iterable[str] = (), content: bool = False, length: int = 16) -> str:
    """A short hex digest that changes with the files (their bytes with `content`, else path, size and
    mtime: cheap for large files that are replaced, never edited in place) and with `extra`."""
    digest = hashlib.sha256()
    for item in extra:
        digest.update(f"{item}\n".encode())
    for f in files:
        f = Path(f)
        if content:
            digest.update(f.name.encode() + b"=")
            with f.open("rb") as handle:  # streamed: weights files run to gigabytes
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        else:
            stat = f.stat()
            digest.update(f"{f.resolve()}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:length]


def publish_dir(target: Path, build: Callable[[Path], None]) -> Path:
    """Build a directory in a scratch folder beside `target`, then rename it into place.

    Readers never see a half-written folder, and when two processes race the loser's copy is dropped.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    try:
        build(tmp)
        os.replace(tmp, target)
    except OSError:
        if not target.exists():  # unless another process won the race
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def publish_file(target: Path, write: Callable[[Path], None]) -> Path:
    """Write a file under a temporary name beside `target`, then rename it into place."""
    tmp = target.with_name(f".tmp-{os.getpid()}-{target.name}")
    try:
        write(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target

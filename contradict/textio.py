"""Reading user input safely: files, stdin, encodings, binary detection."""
from __future__ import annotations

import codecs
import sys
from pathlib import Path

from .errors import InputError

MAX_FILE_BYTES = 50 * 1024 * 1024


def decode(data: bytes, name: str, encoding: str | None = None) -> str:
    if encoding:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise InputError(f"{name}: cannot decode as {encoding}: {exc.reason if hasattr(exc, 'reason') else exc}")
    for bom, enc in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc, errors="strict")
            except UnicodeDecodeError as exc:
                raise InputError(f"{name}: starts with a {enc} byte-order mark but is not valid {enc} "
                                 f"({exc.reason} at offset {exc.start}); pass --encoding") from None
    if b"\x00" in data[:8192]:
        raise InputError(f"{name}: looks like a binary file (NUL bytes), not text; "
                         "for UTF-16 without a byte-order mark pass --encoding utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                         "re-encode it as UTF-8 or pass --encoding (e.g. cp1250, latin-1)") from None


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

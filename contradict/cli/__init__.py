"""`contradict` command line: a thin layer over the library (nothing in the library imports it).

Every failure the user can cause ends in one line on stderr and exit status 2.
"""
from __future__ import annotations

import argparse
import os
import sys

from ..errors import ContradictError
from . import evaluation, jobs, scan, serve, training

COMMAND_GROUPS = (scan, jobs, evaluation, training, serve)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="contradict", description="Find contradictions in text.")
    sub = parser.add_subparsers(dest="command", required=True)
    for group in COMMAND_GROUPS:
        group.add_commands(sub)
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

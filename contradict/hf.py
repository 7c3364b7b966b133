"""Quiet transformers while we load or save: its per-file progress bars are noise in a CLI."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def quiet_loading():
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if was_enabled:
            hf_logging.enable_progress_bar()

"""Small transformers helpers shared by the scorer and the sentence encoder."""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def quiet_loading():
    """Quiet transformers while we load or save: its per-file progress bars are noise in a CLI."""
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


def pad_batch(tokenizer, encoded, rows, tensors: str):
    """Rows `rows` of an unpadded tokenizer output, padded to the longest of them: tokenizing once and
    padding each length-sorted batch is cheaper than tokenizing every batch again."""
    return tokenizer.pad({key: [values[i] for i in rows] for key, values in encoded.items()},
                         return_tensors=tensors)

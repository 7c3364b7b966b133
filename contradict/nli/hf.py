"""Small torch and transformers helpers shared by the scorer, the sentence encoder and the ONNX export."""
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


def set_threads(threads: int | None):
    """Torch's CPU thread count for this process: called once by an entry point (the CLI's --threads,
    a script), never by constructors, so building a scorer never changes what other code runs with.
    Two busy processes with two threads each on two cores run many times slower than one."""
    if threads is None:
        return
    if threads < 1:
        raise ValueError(f"threads must be at least 1 (got {threads})")
    import torch

    torch.set_num_threads(threads)


def mean_pooled(hidden, attention_mask):
    """L2-normalised mean of the token vectors that are not padding (torch tensors)."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)

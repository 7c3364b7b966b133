"""NLI scoring with any Hugging Face sequence-classification checkpoint.

`NLIScorer.predict(pairs)` returns an (n, 3) array of probabilities in the
fixed order of `LABELS` (entailment, neutral, contradiction), whatever order the
checkpoint uses: it is read from `config.id2label`.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from ..defaults import BATCH_SIZE
from ..errors import ModelLoadError
from ..labels import LABELS, map_model_labels
from .hf import pad_batch
from .loading import check_local_dir, load_checkpoint, model_path, pick_device
from .presets import resolve

CHARS_PER_TOKEN_CAP = 12


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of logits / temperature, computed stably."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    probs = np.exp(scaled)
    return probs / probs.sum(axis=1, keepdims=True)


class NLIScorer:
    """A cross-encoder: scores (premise, hypothesis) pairs with an NLI checkpoint."""

    def __init__(self, model: str = "default", device: str | None = None, label_map: dict | None = None,
                 max_length: int | None = None, trust_remote_code: bool = False,
                 cache=None, backend: str = "torch"):
        """`cache`: a SQLite file (or contradict.nli.cache.ScoreCache) remembering scores across runs.
        `backend`: "torch", or "onnx" / "onnx-int8" (ONNX Runtime on the CPU, see contradict.nli.onnx)."""
        import torch
        from safetensors import SafetensorError

        from .onnx import check_backend

        check_backend(backend, device)
        preset = resolve(model)
        self.name = model
        self.path = model_path(model)
        local = Path(self.path)
        if local.exists():
            if not trust_remote_code:
                check_local_dir(local)
        elif os.sep in self.path and not re.fullmatch(r"[\w.-]+/[\w.-]+", self.path):
            raise ModelLoadError(f"model directory {self.path} does not exist")
        try:
            self.tokenizer, self.model = load_checkpoint(self.path, trust_remote_code, local_only=local.exists())
        except (OSError, ValueError, SafetensorError) as exc:
            if local.exists():
                raise ModelLoadError(f"cannot load the model in {self.path}: {str(exc).splitlines()[0]}") from exc
            raise ModelLoadError(
                f"cannot load {self.path!r} from the Hugging Face hub ({exc}); "
                "the offline embedded model is model='default'") from exc
        self.label_index = map_model_labels(self.model.config.id2label, label_map)
        self.backend = backend
        self.device = "cpu" if backend != "torch" else pick_device(device)
        self.model.to(self.device).eval()
        self.max_length = min(max_length or preset.max_length,
                              getattr(self.tokenizer, "model_max_length", 512) or 512, 512)
        self.temperature = self._read_temperature(local)
        self.runner = None
        if backend != "torch":
            from .onnx import OnnxRunner, onnx_file

            self.runner = OnnxRunner(onnx_file(self.model, self.tokenizer, self.path, backend),
                                     threads=torch.get_num_threads())
        self.use_cache(cache)

    def use_cache(self, cache):
        """Score through a persistent cache (a path or a ScoreCache); None turns it off."""
        from .cache import open_cache

        self.cache = open_cache(cache, self)

    @staticmethod
    def _read_temperature(local: Path) -> float:
        calib = local / "calibration.json"
        if calib.is_file():
            return float(json.loads(calib.read_text()).get("temperature", 1.0))
        return 1.0

    def logits(self, pairs: Sequence[tuple[str, str]], batch_size: int = BATCH_SIZE,
               show_progress_bar: bool | None = None) -> np.ndarray:
        """Raw logits in LABELS order, before temperature."""
        import torch
        from tqdm.auto import tqdm

        # max_length tokens rarely span more than 12 characters each: cutting each side there keeps what
        # truncation keeps, and spares the tokenizer's slow pair truncation on huge inputs
        cap = self.max_length * CHARS_PER_TOKEN_CAP
        pairs = [(str(p)[:cap], str(h)[:cap]) for p, h in pairs]
        out = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        if not pairs:
            return out
        todo = np.arange(len(pairs))
        if self.cache is not None:  # the model scores only what the cache lacks
            out, found = self.cache.lookup(pairs)
            todo = np.flatnonzero(~found)
        # batches sorted by token count pad little (characters mislead across scripts: a Chinese
        # character is about a token, a Latin one a fraction); results go back to input order
        encoded = self.tokenizer([pairs[i][0] for i in todo], [pairs[i][1] for i in todo], truncation=True,
                                 max_length=self.max_length) if len(todo) else {"input_ids": []}
        order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        if show_progress_bar is None:
            show_progress_bar = len(batches) > 20
        padded = (pad_batch(self.tokenizer, encoded, batch, "np" if self.runner else "pt") for batch in batches)
        if self.runner:
            results = self.runner.map(padded)
        else:
            results = (self.model(**enc.to(self.device)).logits.float().cpu().numpy() for enc in padded)
        progress = tqdm(total=len(batches), disable=not show_progress_bar, desc="scoring", unit="batch")
        with torch.inference_mode(), progress:
            for batch, logits in zip(batches, results):
                out[todo[batch]] = logits[:, self.label_index]
                progress.update()
        if self.cache is not None and len(todo):
            self.cache.store([pairs[i] for i in todo], out[todo])
        return out

    def predict(self, pairs: Iterable[tuple[str, str]], batch_size: int = BATCH_SIZE,
                show_progress_bar: bool | None = None) -> np.ndarray:
        """(n, 3) probabilities: entailment, neutral, contradiction."""
        return softmax(self.logits(list(pairs), batch_size, show_progress_bar), self.temperature).astype(np.float32)

"""Sentence embeddings from the plain e5 encoder, used to choose which statement pairs to score."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..defaults import BATCH_SIZE
from .embedded import ensure_base_encoder
from .hf import mean_pooled, pad_batch, quiet_loading


class SentenceEncoder:
    """Mean-pooled, L2-normalised e5 sentence embeddings ("query: " prefix, as e5 is trained).
    `backend` as NLIScorer's: "onnx" / "onnx-int8" run the pooled graph in ONNX Runtime."""

    def __init__(self, path: str | Path | None = None, device: str = "cpu", prefix: str = "query: ",
                 backend: str = "torch"):
        import torch
        from transformers import AutoModel, AutoTokenizer

        from .onnx import OnnxRunner, check_backend, onnx_file

        check_backend(backend, device)
        path = path or ensure_base_encoder()
        with quiet_loading():
            self.tokenizer = AutoTokenizer.from_pretrained(str(path))
            self.model = AutoModel.from_pretrained(str(path), use_safetensors=True).to(device).eval()
        self.device, self.prefix = device, prefix
        # RoBERTa-style position ids start after the padding index: two fewer usable positions
        self.max_length = min(256, self.model.config.max_position_embeddings - 2)
        self.runner = None
        if backend != "torch":
            graph = onnx_file(self.model, self.tokenizer, str(path), backend, output="mean_pooled")
            self.runner = OnnxRunner(graph, threads=torch.get_num_threads())

    def encode(self, texts, batch_size: int = BATCH_SIZE) -> np.ndarray:
        import torch

        encoded = self.tokenizer([self.prefix + t for t in texts], truncation=True, max_length=self.max_length)
        out = np.zeros((len(texts), self.model.config.hidden_size), dtype=np.float32)
        # batches of similar token counts pad little
        order = np.argsort([len(ids) for ids in encoded["input_ids"]], kind="stable")
        batches = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        padded = (pad_batch(self.tokenizer, encoded, batch, "np" if self.runner else "pt") for batch in batches)
        if self.runner:
            results = self.runner.map(padded)
        else:
            results = (mean_pooled(self.model(**enc).last_hidden_state, enc["attention_mask"]).cpu().numpy()
                       for enc in (enc.to(self.device) for enc in padded))
        with torch.inference_mode():
            for batch, vectors in zip(batches, results):
                out[batch] = vectors
        return out

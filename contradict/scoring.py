"""NLI scoring with any Hugging Face sequence-classification checkpoint.

`NLIScorer.predict(pairs)` returns an (n, 3) array of probabilities in the
fixed order of `LABELS` (entailment, neutral, contradiction), whatever order the
checkpoint uses: it is read from `config.id2label`.
"""
from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path
from typing import Iterable, Sequence
from urllib.parse import urlparse

import numpy as np

from .errors import ContradictError, ModelLoadError
from .hf import pad_batch, quiet_loading
from .presets import resolve

LABELS = ("entailment", "neutral", "contradiction")
CHARS_PER_TOKEN_CAP = 12
_LABEL_PATTERNS = (("entailment", r"^(entail|entailment|implication|support)"),
                   ("neutral", r"^(neutral|neutre|unrelated|not_enough_info)"),
                   ("contradiction", r"^(contradict|contradiction|refute)"))


def map_labels(id2label: dict, overrides: dict | None = None) -> list[int]:
    """For each of LABELS, the model's output index.  Raises with advice when unmappable."""
    overrides = {str(k).lower(): v for k, v in (overrides or {}).items()}
    index: dict[str, int] = {}
    for idx, raw in id2label.items():
        name = str(raw).strip().lower()
        target = overrides.get(name) or overrides.get(str(idx))
        if target is None:
            target = next((lab for lab, pat in _LABEL_PATTERNS if re.match(pat, name)), None)
        if target is not None:
            if target not in LABELS:
                raise ContradictError(f"label_map value {target!r} is not one of {LABELS}")
            index[target] = int(idx)
    missing = [lab for lab in LABELS if lab not in index]
    if missing:
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(id2label.items(), key=lambda kv: int(kv[0])))
        raise ContradictError(
            f"cannot map the model's labels ({shown}) to {'/'.join(LABELS)}; missing {', '.join(missing)}. "
            "Pass label_map={'LABEL_0': 'entailment', 'LABEL_1': 'neutral', 'LABEL_2': 'contradiction'} "
            "(CLI: --label-map LABEL_0=entailment,LABEL_1=neutral,LABEL_2=contradiction)")
    return [index[lab] for lab in LABELS]


def pick_device(device: str | None = None) -> str:
    import torch

    if device and device != "auto":
        return device
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def model_path(model: str) -> str:
    """A loadable path or hub id for a preset name, hub id or directory."""
    preset = resolve(model)
    if preset.model == "embedded":
        from .embedded import ensure_default_model

        return str(ensure_default_model())
    exported = Path(preset.model)
    if (exported / "training.json").is_file() and not (exported / "config.json").is_file():
        from .embedded import ensure_default_model  # weights from `contradict train --export` / `average`

        return str(ensure_default_model(exported))
    return preset.model


_TOKENIZER_FILES = ("tokenizer.json", "sentencepiece.bpe.model", "spm.model", "tokenizer.model", "vocab.txt",
                    "vocab.json")


def _check_local_dir(path: Path):
    if not (path / "config.json").is_file():
        raise ModelLoadError(f"{path} is not a model directory: config.json is missing")
    weights = list(path.glob("*.safetensors"))
    if not weights:
        bins = [p.name for p in path.glob("*.bin")]
        extra = f" (found {', '.join(bins)}: convert them to safetensors)" if bins else ""
        raise ModelLoadError(f"{path} has no .safetensors weights{extra}")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"{path}/config.json is not readable JSON ({exc})") from None
    if not any((path / name).is_file() for name in _TOKENIZER_FILES):
        # transformers would otherwise build a near-empty tokenizer and score garbage silently
        raise ModelLoadError(f"{path} has no tokenizer files (one of {', '.join(_TOKENIZER_FILES)})")
    if config.get("auto_map"):
        raise ModelLoadError(f"{path} asks for remote code (auto_map); refused unless trust_remote_code=True")


def hub_reachable(timeout: float = 3.0) -> bool:
    """Fail fast offline: the hub client would otherwise retry for about a minute per file."""
    if os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes"):
        return False
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def _load(path: str, trust_remote_code: bool, local_only: bool):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    def load(local_files_only: bool):
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=trust_remote_code,
                                                  local_files_only=local_files_only)
        model = AutoModelForSequenceClassification.from_pretrained(
            path, use_safetensors=True, trust_remote_code=trust_remote_code, local_files_only=local_files_only)
        return tokenizer, model

    with quiet_loading():
        if local_only:
            return load(True)
        try:  # a hub model downloaded before loads from the local cache without the network
            return load(True)
        except OSError:
            if not hub_reachable():
                raise OSError("no network connection to the hub") from None
    return load(False)  # downloads show their progress


class NLIScorer:
    """A cross-encoder: scores (premise, hypothesis) pairs with an NLI checkpoint."""

    def __init__(self, model: str = "default", device: str | None = None, label_map: dict | None = None,
                 max_length: int | None = None, trust_remote_code: bool = False, threads: int | None = None,
                 cache=None, backend: str = "torch"):
        """`cache`: a SQLite file (or contradict.cache.ScoreCache) remembering scores across runs.
        `backend`: "torch", or "onnx" / "onnx-int8" (ONNX Runtime on the CPU, see onnx_backend)."""
        import torch
        from safetensors import SafetensorError

        from .onnx_backend import check_backend

        check_backend(backend, device)
        if threads:
            torch.set_num_threads(threads)
        preset = resolve(model)
        self.name = model
        self.path = model_path(model)
        local = Path(self.path)
        if local.exists():
            if not trust_remote_code:
                _check_local_dir(local)
        elif os.sep in self.path and not re.fullmatch(r"[\w.-]+/[\w.-]+", self.path):
            raise ModelLoadError(f"model directory {self.path} does not exist")
        try:
            self.tokenizer, self.model = _load(self.path, trust_remote_code, local_only=local.exists())
        except (OSError, ValueError, SafetensorError) as exc:
            if local.exists():
                raise ModelLoadError(f"cannot load the model in {self.path}: {str(exc).splitlines()[0]}") from exc
            raise ModelLoadError(
                f"cannot load {self.path!r} from the Hugging Face hub ({exc}); "
                "the offline embedded model is model='default'") from exc
        self.label_index = map_labels(self.model.config.id2label, label_map)
        self.backend = backend
        self.device = "cpu" if backend != "torch" else pick_device(device)
        self.model.to(self.device).eval()
        self.max_length = min(max_length or preset.max_length,
                              getattr(self.tokenizer, "model_max_length", 512) or 512, 512)
        self.temperature = self._read_temperature(local)
        self.runner = None
        if backend != "torch":
            from .onnx_backend import OnnxRunner, onnx_file

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

    def logits(self, pairs: Sequence[tuple[str, str]], batch_size: int = 32,
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

    def predict(self, pairs: Iterable[tuple[str, str]], batch_size: int = 32,
                show_progress_bar: bool | None = None) -> np.ndarray:
        """(n, 3) probabilities: entailment, neutral, contradiction."""
        logits = self.logits(list(pairs), batch_size, show_progress_bar) / self.temperature
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        return probs / probs.sum(axis=1, keepdims=True)

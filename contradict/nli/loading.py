"""Finding and loading a sequence-classification checkpoint: presets, local folders, the hub."""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

from ..errors import ModelLoadError
from .hf import quiet_loading
from .presets import resolve


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


def check_local_dir(path: Path):
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


def load_checkpoint(path: str, trust_remote_code: bool, local_only: bool):
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

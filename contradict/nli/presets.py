"""Named model presets.  Any other name is taken as a Hugging Face hub id or a local directory."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    model: str  # hub id, or "embedded" for the offline default
    max_length: int = 256


PRESETS = {
    "default": Preset("default", "embedded", 256),  # multilingual-e5-small + our NLI fine-tuning, offline
    "xlmr-large-xnli": Preset("xlmr-large-xnli", "joeddav/xlm-roberta-large-xnli", 512),
    "mdeberta-xnli": Preset("mdeberta-xnli", "MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7", 512),
}


def resolve(name: str) -> Preset:
    """The preset called `name`, or an ad-hoc preset for a hub id / local path."""
    return PRESETS.get(name) or Preset(name, name)

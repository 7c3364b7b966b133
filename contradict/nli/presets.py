"""Named model presets.  Any other name is taken as a Hugging Face hub id or a local directory."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    model: str  # hub id, or "embedded" for the offline default
    description: str  # shown by the server's GET /v1/models
    max_length: int = 256


PRESETS = {
    "default": Preset("default", "embedded",
                      "multilingual-e5-small fine-tuned for 3-way NLI, shipped with the package (offline)", 256),
    "xlmr-large-xnli": Preset("xlmr-large-xnli", "joeddav/xlm-roberta-large-xnli",
                              "XLM-RoBERTa large fine-tuned on MNLI + XNLI (hub, ~2.2 GB)", 512),
    "mdeberta-xnli": Preset("mdeberta-xnli", "MoritzLaurer/mDeBERTa-v3-base-xnli-multilingual-nli-2mil7",
                            "mDeBERTa-v3 base on 2.7M multilingual NLI pairs (hub, ~1.1 GB)", 512),
}


def resolve(name: str) -> Preset:
    """The preset called `name`, or an ad-hoc preset for a hub id / local path."""
    return PRESETS.get(name) or Preset(name, name, "user-supplied model")

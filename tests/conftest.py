"""Shared fixtures: a tiny random XLM-R NLI model saved with save_pretrained.

It goes through the same loading code as real checkpoints (AutoTokenizer /
AutoModelForSequenceClassification from a directory), so plumbing tests exercise
the real path in a fraction of a second per call.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
SHARED = Path(os.environ.get("CONTRADICT_SHARED", ROOT.parent / "shared"))

_CORPUS = [
    "Ministrul a declarat că nu există nicio relație între cei doi.",
    "Potrivit presei, cei doi se întâlnesc regulat din 2022.",
    "The council approved the plan on Monday, according to the Gazette.",
    "Le directeur a déclaré que l'usine ne fermera pas.",
    "Laut der Zeitung wurde die Brücke 2021 geschlossen.",
    "Según el diario, el alcalde se reunió con los pescadores.",
]


def build_tiny_model(path: Path, id2label=None, **config_overrides) -> Path:
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaForSequenceClassification

    torch.manual_seed(0)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Metaspace()
    tok.train_from_iterator(_CORPUS * 4, trainers.UnigramTrainer(vocab_size=200, special_tokens=specials,
                                                                 unk_token="<unk>", show_progress=False))
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", sep_token="</s>",
                                   cls_token="<s>", unk_token="<unk>", pad_token="<pad>", mask_token="<mask>",
                                   model_max_length=64)
    id2label = id2label or {0: "ENTAILMENT", 1: "neutral", 2: "Contradiction"}
    config = XLMRobertaConfig(vocab_size=tok.get_vocab_size(), hidden_size=16, num_hidden_layers=1,
                              num_attention_heads=2, intermediate_size=32, max_position_embeddings=70,
                              pad_token_id=tok.token_to_id("<pad>"), num_labels=len(id2label),
                              id2label=id2label, label2id={v: k for k, v in id2label.items()},
                              **config_overrides)
    model = XLMRobertaForSequenceClassification(config)
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path, safe_serialization=True)
    fast.save_pretrained(path)
    return path


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory) -> str:
    return str(build_tiny_model(tmp_path_factory.mktemp("tiny") / "model"))


@pytest.fixture(scope="session")
def tiny_detector(tiny_model):
    from contradict import Detector

    return Detector(tiny_model, threshold=0.0)


@pytest.fixture(scope="session")
def ro_article() -> str:
    return (DATA / "ro_stiri.txt").read_text(encoding="utf-8")


def shared_data_dir() -> Path | None:
    path = Path(os.environ.get("CONTRADICT_DATA", SHARED / "data"))
    return path if path.is_dir() else None


needs_shared_data = pytest.mark.skipif(shared_data_dir() is None, reason="../shared/data is absent")


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """The suite is an entry point: one torch thread, as the library never sets it for us."""
    import contradict

    contradict.set_threads(1)

"""Named loaders for the labelled NLI sets kept outside the repository.

Every loader returns a pandas DataFrame with at least ``premise``, ``hypothesis``,
``label`` (entailment / neutral / contradiction) and ``lang``; some add columns
(``tags`` for ANLI, ``label4`` for RoNLI, ``category`` for Breaking NLI).
The data directory comes from the ``data_dir`` argument, else ``$CONTRADICT_DATA``,
else ``../shared/data`` next to the checkout.  Nothing third-party is committed.
"""
from __future__ import annotations

import ast
import csv
import json
import os
from pathlib import Path

import pandas as pd

DATA_ENV = "CONTRADICT_DATA"
LABELS = ("entailment", "neutral", "contradiction")
XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
RONLI_TO_3WAY = {0: "contradiction", 1: "entailment", 2: "entailment", 3: "neutral"}
RONLI_4WAY = {0: "contrastive", 1: "entailment", 2: "consequence", 3: "unrelated"}
_SHORT = {"e": "entailment", "n": "neutral", "c": "contradiction"}


class DataNotFound(FileNotFoundError):
    pass


def data_dir(path: str | os.PathLike | None = None) -> Path:
    candidates = [path, os.environ.get(DATA_ENV),
                  Path(__file__).resolve().parent.parent.parent / "shared" / "data"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise DataNotFound(f"no labelled data directory: pass --data-dir or set {DATA_ENV}")


def _frame(rows, lang) -> pd.DataFrame:
    df = pd.DataFrame(rows)
    if "lang" not in df:
        df["lang"] = lang
    return df


def _need(path: Path) -> Path:
    if not path.exists():
        raise DataNotFound(f"missing data file {path}")
    return path


def xnli(split: str = "test", langs=XNLI_LANGS, root=None) -> pd.DataFrame:
    if split not in ("dev", "test"):
        raise ValueError("xnli splits: dev (training pool), test (evaluation)")
    frames = []
    for lang in langs:
        path = _need(data_dir(root) / "xnli" / f"{split}-{lang}.tsv")
        df = pd.read_csv(path, sep="\t", header=None, names=["premise", "hypothesis", "label"],
                         quoting=csv.QUOTE_NONE, dtype=str, keep_default_na=False)
        df["lang"] = lang
        df["row"] = range(len(df))
        df["item"] = f"xnli-{split}:" + df["row"].astype(str)  # row i is one item in every language
        frames.append(df)
    return pd.concat(frames, ignore_index=True)


def ronli(split: str = "test", root=None) -> pd.DataFrame:
    names = {"test": "test.json", "validation": "validation.json", "dev": "validation.json"}
    records = json.loads(_need(data_dir(root) / "ronli" / names[split]).read_text())
    return _frame([{"premise": r["sentence1"], "hypothesis": r["sentence2"],
                    "label": RONLI_TO_3WAY[int(r["label"])], "label4": RONLI_4WAY[int(r["label"])]}
                   for r in records], "ro")


def snli(split: str = "test", root=None) -> pd.DataFrame:
    base = data_dir(root) / "snli"
    cols = [_need(base / f"{name}.{split}").read_text(encoding="utf-8").splitlines()
            for name in ("s1", "s2", "labels")]
    return _frame([{"premise": p, "hypothesis": h, "label": l} for p, h, l in zip(*cols)], "en")


def sick(split: str = "test", root=None) -> pd.DataFrame:
    wanted = {"train": ("TRAIN", "TRIAL"), "test": ("TEST",)}[split]
    df = pd.read_csv(_need(data_dir(root) / "sick" / "SICK.txt"), sep="\t", dtype=str)
    df = df[df["SemEval_set"].isin(wanted)]
    return _frame({"premise": df["sentence_A"].values, "hypothesis": df["sentence_B"].values,
                   "label": df["entailment_label"].str.lower().values}, "en")


def rte3(split: str = "test", root=None) -> pd.DataFrame:
    base = data_dir(root)
    multi = pd.read_csv(_need(base / "rte3_3way_multi" / f"rte3_{split}_3way_en_de_it.tsv"), sep="\t",
                        dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False)
    frames = [pd.DataFrame({"premise": multi["premise"], "hypothesis": multi["hypothesis"],
                            "label": multi["label_3way"].str.lower(), "lang": multi["lang"],
                            "item": f"rte3-{split}:" + multi["id"]})]  # one id, one item in each language
    fr_name = {"dev": "RTE3-FR-dev-set-3class.tsv", "test": "RTE3-FR-test-gold-3class.tsv"}[split]
    fr_path = base / "rte3_fr" / fr_name
    if fr_path.exists():
        fr = pd.read_csv(fr_path, sep="\t", dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False)
        frames.append(pd.DataFrame({"premise": fr["premise"], "hypothesis": fr["hypothesis"],
                                    "label": fr["label_text"].str.lower(), "lang": "fr",
                                    "item": f"rte3-{split}:" + fr["id"]}))
    return pd.concat(frames, ignore_index=True)


def control(split: str = "test", root=None) -> pd.DataFrame:
    path = _need(data_dir(root) / "control" / f"{split}.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return _frame([{"premise": r["premise"], "hypothesis": r["hypothesis"], "label": _SHORT[r["label"]]}
                   for r in rows], "en")


def anli(split: str = "dev", rounds=("r1", "r2", "r3"), root=None) -> pd.DataFrame:
    if split != "dev":
        raise ValueError("only the ANLI dev rounds are available (evaluation only)")
    frames = []
    for rnd in rounds:
        df = pd.read_csv(_need(data_dir(root) / "anli" / f"ANLI_analysis_{rnd}_dev.csv"), dtype=str,
                         keep_default_na=False)
        frames.append(pd.DataFrame({
            "premise": df["context"], "hypothesis": df["statement"],
            "label": df["gold_label"].map(_SHORT), "lang": "en", "round": rnd,
            "tags": [ast.literal_eval(t) if t.startswith("[") else [] for t in df["tags"]]}))
    return pd.concat(frames, ignore_index=True)


def fever_symmetric(split: str = "test", root=None) -> pd.DataFrame:
    """Claim vs evidence; REFUTES is contradiction, SUPPORTS (and the rest) is not."""
    path = _need(data_dir(root) / "fever_symmetric" / f"symmetric_v0.2_fever_symmetric_{split}.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return _frame([{"premise": r["evidence"], "hypothesis": r["claim"],
                    "label": "contradiction" if r["gold_label"] == "REFUTES" else "entailment"}
                   for r in rows], "en")


def cad(split: str = "train", root=None) -> pd.DataFrame:
    if split == "train":
        name = "all_combined_train.tsv"
    else:
        name = f"revised_combined_{split}.tsv"
    df = pd.read_csv(_need(data_dir(root) / "cad" / name), sep="\t", dtype=str, quoting=csv.QUOTE_NONE,
                     keep_default_na=False)
    return _frame({"premise": df["sentence1"].values, "hypothesis": df["sentence2"].values,
                   "label": df["gold_label"].str.lower().values}, "en")


def breaking_nli(split: str = "test", root=None) -> pd.DataFrame:
    path = _need(data_dir(root) / "breaking_nli" / "dataset.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return _frame([{"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": r["gold_label"],
                    "category": r["category"]} for r in rows], "en")


# name -> (loader, default evaluation split)
LOADERS = {
    "xnli": (xnli, "test"), "ronli": (ronli, "test"), "snli": (snli, "test"), "sick": (sick, "test"),
    "anli": (anli, "dev"), "rte3": (rte3, "test"), "control": (control, "test"),
    "fever-symmetric": (fever_symmetric, "test"), "cad": (cad, "test"), "breaking-nli": (breaking_nli, "test"),
}


def load(name: str, split: str | None = None, root=None, **kwargs) -> pd.DataFrame:
    key = name.lower().replace("_", "-")
    if key not in LOADERS:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(sorted(LOADERS))}")
    loader, default_split = LOADERS[key]
    return loader(split or default_split, root=root, **kwargs)


def training_pool(root=None) -> pd.DataFrame:
    """The training splits named in shared/data/README.md (never an evaluation split)."""
    frames = [xnli("dev", root=root), snli("dev", root=root), sick("train", root=root),
              ronli("validation", root=root), rte3("dev", root=root), control("dev", root=root),
              cad("train", root=root)]
    pool = pd.concat([f.reindex(columns=["premise", "hypothesis", "label", "lang", "item"]) for f in frames],
                     ignore_index=True)  # `item`: translations of one item share it (XNLI, RTE-3), else empty
    pool = pool[pool["label"].isin(LABELS)]
    return pool.drop_duplicates(["premise", "hypothesis"]).reset_index(drop=True)

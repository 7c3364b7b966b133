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
import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from ..errors import ContradictError
from ..files import read_jsonl
from ..labels import LABELS, parse_assignments

DATA_ENV = "CONTRADICT_DATA"
XNLI_LANGS = ("ar", "bg", "de", "el", "en", "es", "fr", "hi", "ru", "sw", "th", "tr", "ur", "vi", "zh")
RONLI_TO_3WAY = {0: "contradiction", 1: "entailment", 2: "entailment", 3: "neutral"}
RONLI_4WAY = {0: "contrastive", 1: "entailment", 2: "consequence", 3: "unrelated"}
_SHORT = {"e": "entailment", "n": "neutral", "c": "contradiction"}


class DataNotFound(ContradictError, FileNotFoundError):
    """A labelled data set, or one of its files, is not where it should be."""


def data_dir(path: str | os.PathLike | None = None) -> Path:
    candidates = [path, os.environ.get(DATA_ENV),
                  Path(__file__).resolve().parents[3] / "shared" / "data"]
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
    rows = _jsonl(path)
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
    rows = _jsonl(path)
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
    rows = _jsonl(path)
    return _frame([{"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": r["gold_label"],
                    "category": r["category"]} for r in rows], "en")


def _jsonl(path: Path) -> list[dict]:
    return read_jsonl(_need(path))


def _tsv(path: Path, **kwargs) -> pd.DataFrame:
    return pd.read_csv(_need(path), sep="\t", dtype=str, quoting=csv.QUOTE_NONE, keep_default_na=False,
                       encoding="utf-8-sig", **kwargs)


def lingnli(split: str = "train", root=None) -> pd.DataFrame:
    """LingNLI: train_* and val_* files of five rounds and three protocols (training pool only)."""
    prefix = {"train": "train_", "validation": "val_", "val": "val_", "all": ""}[split]
    files = sorted((data_dir(root) / "lingnli").glob(f"{prefix}*.jsonl"))
    if not files:
        raise DataNotFound(f"no LingNLI files under {data_dir(root) / 'lingnli'}")
    rows = [r for f in files for r in _jsonl(f)]
    return _frame([{"premise": r["premise"], "hypothesis": r["hypothesis"], "label": r["label"]}
                   for r in rows], "en")


def mnli_dev_matched(split: str = "train", root=None) -> pd.DataFrame:
    """MultiNLI dev-matched: all 9,815 rows belong to our training pool (the only split here)."""
    rows = _jsonl(data_dir(root) / "mnli_dev_matched" / "val.jsonl")
    return _frame([{"premise": r["premise"], "hypothesis": r["hypothesis"], "label": r["label"]}
                   for r in rows], "en")


TAXINLI_CATEGORIES = ("lexical_linguistic", "syntactic_linguistic", "factivity_linguistic", "negation_logic",
                      "boolean_logic", "quantifier_logic", "conditional_logic", "comparative_logic",
                      "relational_reasoning", "spatial_reasoning", "temporal_reasoning", "causal_reasoning",
                      "coreference_reasoning", "world_knowledge", "taxonomic_knowledge")


def taxinli(split: str = "train", root=None) -> pd.DataFrame:
    """TaxiNLI's MNLI pairs with reasoning categories (``tags``: the ones marked 1)."""
    df = _tsv(data_dir(root) / "taxinli" / "taxinli10k.tsv")
    categories = [[c for c in TAXINLI_CATEGORIES if row[c] == "1"] for _, row in df.iterrows()]
    return pd.DataFrame({"premise": df["prem"], "hypothesis": df["hyp"], "label": df["label"].str.lower(),
                         "lang": "en", "genre": df["genre"], "tags": categories})


def conjnli(split: str = "dev", root=None) -> pd.DataFrame:
    name = {"train": "adversarial_train_15k.tsv", "dev": "conj_dev.tsv"}[split]
    df = _tsv(data_dir(root) / "conjnli" / name)
    return _frame({"premise": df["Premise"].values, "hypothesis": df["Hypothesis"].values,
                   "label": df["Label"].str.lower().values}, "en")


CLIMATE_FEVER_LABELS = {"SUPPORTS": "entailment", "REFUTES": "contradiction", "NOT_ENOUGH_INFO": "neutral"}


def climate_fever(split: str = "test", root=None) -> pd.DataFrame:
    """Evidence sentence (premise) vs claim (hypothesis); split by claim: claim_id % 5 == 0 evaluates."""
    if split not in ("train", "test"):
        raise ValueError("climate-fever splits: train (claim_id % 5 != 0), test (claim_id % 5 == 0)")
    rows = []
    for claim in _jsonl(data_dir(root) / "climate_fever" / "climate-fever.jsonl"):
        if (int(claim["claim_id"]) % 5 == 0) != (split == "test"):
            continue
        for ev in claim["evidences"]:
            rows.append({"premise": ev["evidence"], "hypothesis": claim["claim"],
                         "label": CLIMATE_FEVER_LABELS[ev["evidence_label"]],
                         "item": f"climate-fever:{claim['claim_id']}"})
    return _frame(rows, "en")


def indonli(split: str = "test", root=None) -> pd.DataFrame:
    """IndoNLI: train / val / translated (MNLI into Indonesian) train; test, test_lay, test_expert, diagnostic."""
    base = data_dir(root) / "indonli"
    if split == "translated":
        rows = [r for name in ("train.jsonl", "dev.jsonl") for r in _jsonl(base / "translate_train_small" / name)]
        return _frame([{"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": r["gold_label"]}
                       for r in rows], "id")
    names = {"train": "train.jsonl", "val": "val.jsonl", "validation": "val.jsonl", "test": "test.jsonl",
             "test_lay": "test_lay.jsonl", "test_expert": "test_expert.jsonl", "diagnostic": "diagnostic.jsonl"}
    if split not in names:
        raise ValueError(f"indonli splits: translated, {', '.join(names)}")
    return _frame([{"premise": r["premise"], "hypothesis": r["hypothesis"], "label": _SHORT.get(r["label"], r["label"]),
                    "annotator": r.get("annotator_type")} for r in _jsonl(base / names[split])], "id")


def ocnli(split: str = "dev", root=None) -> pd.DataFrame:
    name = {"train": "train.10k.json", "dev": "dev.json"}[split]
    rows = [r for r in _jsonl(data_dir(root) / "ocnli" / name) if r["label"] in LABELS]  # "-": no agreement
    return _frame([{"premise": r["sentence1"], "hypothesis": r["sentence2"], "label": r["label"],
                    "genre": r.get("genre")} for r in rows], "zh")


def cnli(split: str = "test", root=None) -> pd.DataFrame:
    name = {"dev": "cnli_dev_1.0.txt", "train": "cnli_dev_1.0.txt", "test": "cnli_test_labeled.txt"}[split]
    lines = _need(data_dir(root) / "cnli" / name).read_text(encoding="utf-8-sig").splitlines()
    # the README's 9,824 / 9,819 labelled rows have 4 fields; the ~180 others are merged or broken lines
    fields = [line.split("\t") for line in lines]
    return _frame([{"premise": f[1], "hypothesis": f[2], "label": f[3].strip().lower()}
                   for f in fields if len(f) == 4 and f[3].strip().lower() in LABELS], "zh")


def _sick_translation(folder: str, file: str, lang: str, columns: tuple[str, str, str], split: str, root):
    wanted = {"train": ("TRAIN", "TRIAL"), "test": ("TEST",)}[split]
    df = _tsv(data_dir(root) / folder / file)
    df = df[df["SemEval_set"].isin(wanted)]
    premise, hypothesis, label = columns
    return pd.DataFrame({"premise": df[premise].values, "hypothesis": df[hypothesis].values,
                         "label": df[label].str.lower().values, "lang": lang,
                         "item": ("sick:" + df["pair_ID"]).values})  # row i is SICK pair i in every language


def sick_nl(split: str = "test", root=None) -> pd.DataFrame:
    return _sick_translation("sick_nl", "SICK_NL.txt", "nl", ("sentence_A", "sentence_B", "entailment_label"),
                             split, root)


def sick_br(split: str = "test", root=None) -> pd.DataFrame:
    return _sick_translation("sick_br", "SICK_BR.txt", "pt", ("sentence_A", "sentence_B", "entailment_label"),
                             split, root)


def sick_fr(split: str = "test", root=None) -> pd.DataFrame:
    return _sick_translation("sick_fr", "sick_fr_aligned.tsv", "fr", ("sentence_A_fr", "sentence_B_fr", "label"),
                             split, root)


# name -> (loader, default evaluation split)
LOADERS = {
    "xnli": (xnli, "test"), "ronli": (ronli, "test"), "snli": (snli, "test"), "sick": (sick, "test"),
    "anli": (anli, "dev"), "rte3": (rte3, "test"), "control": (control, "test"),
    "fever-symmetric": (fever_symmetric, "test"), "cad": (cad, "test"), "breaking-nli": (breaking_nli, "test"),
    "lingnli": (lingnli, "train"), "mnli-dev-matched": (mnli_dev_matched, "train"), "taxinli": (taxinli, "train"),
    "conjnli": (conjnli, "dev"), "climate-fever": (climate_fever, "test"), "indonli": (indonli, "test"),
    "ocnli": (ocnli, "dev"), "cnli": (cnli, "test"), "sick-nl": (sick_nl, "test"), "sick-br": (sick_br, "test"),
    "sick-fr": (sick_fr, "test"),
}


def load(name: str, split: str | None = None, root=None, **kwargs) -> pd.DataFrame:
    key = name.lower().replace("_", "-")
    if key not in LOADERS:
        raise KeyError(f"unknown data set {name!r}; known: {', '.join(sorted(LOADERS))}")
    loader, default_split = LOADERS[key]
    return loader(split or default_split, root=root, **kwargs)


def training_pool(root=None) -> pd.DataFrame:
    """The first-generation pool (runs 1-6), kept so their lineage can be re-derived (`unseen_rows`)."""
    frames = [xnli("dev", root=root), snli("dev", root=root), sick("train", root=root),
              ronli("validation", root=root), rte3("dev", root=root), control("dev", root=root),
              cad("train", root=root)]
    pool = pd.concat([f.reindex(columns=["premise", "hypothesis", "label", "lang", "item"]) for f in frames],
                     ignore_index=True)  # `item`: translations of one item share it (XNLI, RTE-3), else empty
    pool = pool[pool["label"].isin(LABELS)]
    return pool.drop_duplicates(["premise", "hypothesis"]).reset_index(drop=True)


# --------------------------------------------------------------------------- our Romanian NLI

RO_NLI_ENV = "CONTRADICT_RO_NLI"
RO_NLI_SPLITS = ("train", "validation", "test")


def ro_nli_dir(path=None) -> Path:
    """data/ro_nli of the checkout (or `path` / $CONTRADICT_RO_NLI): our own Romanian NLI, in git."""
    for candidate in (path, os.environ.get(RO_NLI_ENV), Path(__file__).resolve().parents[2] / "data" / "ro_nli"):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise DataNotFound(f"no Romanian NLI directory (data/ro_nli of a checkout): pass a path or set {RO_NLI_ENV}")


def ro_nli(split: str = "test", root=None, path=None) -> pd.DataFrame:
    """Our Romanian news-style NLI: one premise, three hypotheses (XNLI protocol); split by premise.

    validation: premises written after every shipped model had trained on the whole train split, so that
    checkpoints can be chosen on Romanian no model has seen (the pool's validation split holds them)."""
    if split not in RO_NLI_SPLITS:
        raise ValueError(f"ro-nli splits: {', '.join(RO_NLI_SPLITS)}")
    rows = []
    for r in _jsonl(ro_nli_dir(path) / f"{split}.jsonl"):
        for label in LABELS:
            rows.append({"premise": r["premise"], "hypothesis": r[label], "label": label, "lang": "ro",
                         "item": f"ro-nli:{r['id']}", "phenomenon": r["phenomenon"]})
    return pd.DataFrame(rows)


LOADERS["ro-nli"] = (ro_nli, "test")


# --------------------------------------------------------------------------- second-generation pool


def _ro_nli_pool() -> pd.DataFrame:
    """Our train split, plus our validation file as the pool's Romanian validation: the train items all hash
    above the validation cut (the same hash made the test split), so the cut alone would hold none.  A copy
    of data/ro_nli from before the file existed (run 7's, in models/train_e5_small_nli.sh) has no validation."""
    frames = [ro_nli("train")]
    if (ro_nli_dir() / "validation.jsonl").is_file():
        frames.append(ro_nli("validation").assign(split="validation"))
    return pd.concat(frames, ignore_index=True)


# Every training split of ../shared/data/README.md plus our Romanian NLI (train, and validation held out),
# one name per source.
# The weight is how often a source's rows are drawn per pass (below 1: a seeded share of them).
POOL_SOURCES = {
    "ro-nli": lambda root: _ro_nli_pool(),
    "xnli-dev": lambda root: xnli("dev", root=root),
    "lingnli": lambda root: lingnli("all", root=root),
    "mnli-dev-matched": lambda root: mnli_dev_matched(root=root),
    "taxinli": lambda root: taxinli(root=root),
    "conjnli": lambda root: conjnli("train", root=root),
    "climate-fever": lambda root: climate_fever("train", root=root),
    "indonli": lambda root: pd.concat([indonli("train", root=root), indonli("val", root=root)]),
    "indonli-translated": lambda root: indonli("translated", root=root),
    "ocnli": lambda root: ocnli("train", root=root),
    "cnli": lambda root: cnli("dev", root=root),
    "sick-translations": lambda root: pd.concat([sick_nl("train", root=root), sick_br("train", root=root),
                                                  sick_fr("train", root=root)]),
    "snli-dev": lambda root: snli("dev", root=root),
    "sick": lambda root: sick("train", root=root),
    "rte3-dev": lambda root: rte3("dev", root=root),
    "control-dev": lambda root: control("dev", root=root),
    "cad": lambda root: cad("train", root=root),
    "ronli": lambda root: ronli("validation", root=root),
}
DEFAULT_WEIGHTS = {
    # ours, the only Romanian NLI: drawn several times a pass
    "ro-nli": 4.0,
    # the first-generation model saw these many times over: a share each pass
    "xnli-dev": 0.2, "snli-dev": 0.15, "sick": 0.15, "rte3-dev": 0.2, "control-dev": 0.2, "cad": 0.15,
    # new to the model
    "lingnli": 0.35, "mnli-dev-matched": 0.7, "taxinli": 0.4, "conjnli": 0.2, "climate-fever": 0.4,
    "indonli": 0.4, "indonli-translated": 0.2, "ocnli": 0.4, "cnli": 0.3, "sick-translations": 0.2,
    # discourse relations, not NLI: taught "same topic = entailment" in Romanian (data README); off by default
    "ronli": 0.0,
}
VALIDATION_SHARE = 0.03


def parse_weights(spec: str | dict | None) -> dict[str, float]:
    """'ro-nli=4,ronli=0.3' (or a dict) over DEFAULT_WEIGHTS; unknown names are an error."""
    weights = dict(DEFAULT_WEIGHTS)
    for name, value in parse_assignments(spec, "--weights", "SOURCE=weight").items():
        if name not in POOL_SOURCES:
            raise ValueError(f"unknown pool source {name!r}; known: {', '.join(POOL_SOURCES)}")
        try:
            weights[name] = float(value)
        except ValueError:
            raise ValueError(f"pool weight {name}={value!r} is not a number") from None
        if weights[name] < 0:
            raise ValueError(f"a pool weight cannot be negative ({name}={value})")
    return weights


def stable_bucket(key: str) -> float:
    """A stable number in [0, 1) per key: the same item lands in the same split on every machine."""
    return int(hashlib.md5(key.encode("utf-8")).hexdigest()[:8], 16) / 0x100000000


def pool_v2(root=None, sources=None) -> pd.DataFrame:
    """Every training source with `source`, `item` and `split` (train / validation) columns.

    Validation holds VALIDATION_SHARE of each source's items (all translations and all hypotheses
    of one premise together), chosen by a hash of the item key, so it never changes between runs; a
    source whose rows come with a `split` (our Romanian NLI) keeps it.
    """
    frames = []
    for name in sources or POOL_SOURCES:
        frame = POOL_SOURCES[name](root).reindex(columns=["premise", "hypothesis", "label", "lang", "item", "split"])
        frame = frame[frame["label"].isin(LABELS)].copy()
        items = frame["item"].where(frame["item"].notna() & (frame["item"] != ""), name + ":" + frame["premise"])
        frame["item"] = items
        frame["source"] = name
        by_hash = ["validation" if stable_bucket(key) < VALIDATION_SHARE else "train" for key in items]
        frame["split"] = frame["split"].where(frame["split"].notna(), pd.Series(by_hash, index=frame.index))
        frames.append(frame)
    pool = pd.concat(frames, ignore_index=True)
    # TaxiNLI shares 3,798 pairs with MNLI dev-matched: the first source listed keeps each pair once
    return pool.drop_duplicates(["premise", "hypothesis"]).reset_index(drop=True)


def weighted_rows(pool: pd.DataFrame, weights: dict[str, float], seed: int) -> pd.DataFrame:
    """The train split drawn by source weight: whole copies for the integer part, a seeded share for the rest."""
    import numpy as np

    rng = np.random.default_rng(seed)
    parts = []
    for name, frame in pool[pool["split"] == "train"].groupby("source", sort=True):
        weight = weights.get(name, 0.0)
        whole, share = int(weight), weight - int(weight)
        parts.extend([frame] * whole)
        if share > 0:
            parts.append(frame[rng.random(len(frame)) < share])
    return pd.concat(parts, ignore_index=True) if parts else pool.iloc[:0]


def validation_set(root=None, pool=None) -> pd.DataFrame:
    """The held-out validation rows of the second-generation pool: for choosing, never for training."""
    pool = pool_v2(root) if pool is None else pool
    return pool[pool["split"] == "validation"].reset_index(drop=True)


LOADERS["validation"] = (lambda split="validation", root=None: validation_set(root), "validation")

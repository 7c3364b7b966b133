"""Evaluation harness: labelled pairs, labelled documents, temperature calibration.

    contradict eval xnli --data-dir ../shared/data --sample-every 50 --format json
    contradict eval pairs.tsv --label-values 0=entailment,1=neutral,2=contradiction --plots out/
    contradict eval-docs data/docs.jsonl --format json
    contradict calibrate --model default --data anli --out models/e5-small-nli

The metrics are pure functions of gold labels and probabilities (`compute_metrics`,
`compute_doc_metrics`), so they can be checked by hand; the probabilities come from
the same `NLIScorer` the detection pipeline uses.
"""
from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from .errors import ContradictError
from .scoring import LABELS, NLIScorer

ECE_BINS = 15
DOC_KS = (1, 3, 5, 10)
CONTRADICTION = LABELS.index("contradiction")

# --------------------------------------------------------------------------- labels

_LABEL_SPELLINGS = {
    "entailment": "entailment entailed entails entail e ent implication support supports supported",
    "neutral": "neutral n neu neutre unrelated not_enough_info nei",
    "contradiction": "contradiction contradicts contradict contradictory contradicted c con contra "
                     "refutes refute refuted",
}
_SPELLING = {word: label for label, words in _LABEL_SPELLINGS.items() for word in words.split()}
LABEL_VALUES_HINT = "--label-values 0=entailment,1=neutral,2=contradiction"


def _label_key(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # 2.0 from a numeric column is the label 2
    return re.sub(r"[\s-]+", "_", str(value).strip().lower())


def _canonical(value, where: str) -> str:
    label = _SPELLING.get(_label_key(value))
    if label is None:
        raise ContradictError(f"{where}: {value!r} is not one of {', '.join(LABELS)}")
    return label


def parse_label_values(spec: str | dict | None) -> dict[str, str]:
    """'0=entailment,1=neutral,2=contradiction' (or a dict) -> {raw label key: canonical label}."""
    if not spec:
        return {}
    if isinstance(spec, str):
        items = []
        for item in spec.split(","):
            if "=" not in item:
                raise ContradictError(f"--label-values item {item!r} is not VALUE=label")
            items.append(item.split("=", 1))
    else:
        items = list(spec.items())
    return {_label_key(raw): _canonical(label, "--label-values") for raw, label in items}


def normalise_labels(values: Iterable, label_values: str | dict | None = None) -> list[str]:
    """Gold labels in any spelling or casing -> entailment / neutral / contradiction.

    Integers need a declared mapping (`label_values`): conventions differ between data sets.
    Unknown values are an error that lists them; no row is dropped silently.
    """
    declared = parse_label_values(label_values)
    labels, unknown = [], Counter()
    for value in values:
        key = _label_key(value)
        label = declared.get(key) or _SPELLING.get(key)
        if label is None:
            unknown[str(value)] += 1
        labels.append(label)
    if unknown:
        shown = ", ".join(f"{v!r} ({n} row{'s' if n > 1 else ''})" for v, n in unknown.most_common(10))
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        hint = (f"; integer labels need a mapping: {LABEL_VALUES_HINT}"
                if all(re.fullmatch(r"-?\d+", v) for v in unknown) else
                f"; map them with --label-values VALUE=label (labels: {', '.join(LABELS)})")
        raise ContradictError(f"unknown labels: {shown}{more}{hint}")
    return labels


def _label_indices(y_true: Iterable) -> np.ndarray:
    """Label names (any spelling) or indices into LABELS -> indices."""
    by_index = {str(i): label for i, label in enumerate(LABELS)}
    return np.array([LABELS.index(label) for label in normalise_labels(y_true, by_index)], dtype=int)


# --------------------------------------------------------------------------- loading pairs

ROLES = ("premise", "hypothesis", "label", "lang")
_COLUMN_NAMES = {
    "premise": ("premise", "sentence1", "sentence_a", "text_a", "context", "evidence", "s1"),
    "hypothesis": ("hypothesis", "sentence2", "sentence_b", "text_b", "statement", "claim", "s2"),
    "label": ("label", "gold_label", "labels", "entailment_label", "label_text"),
    "lang": ("lang", "language", "locale"),
}
_KNOWN_COLUMNS = {name for names in _COLUMN_NAMES.values() for name in names}


def _named_frame(name: str, split: str | None, data_dir) -> pd.DataFrame:
    from . import datasets

    if data_dir is not None and not Path(data_dir).is_dir():
        raise ContradictError(f"--data-dir {data_dir}: no such directory")
    try:
        return datasets.load(name, split, root=data_dir)
    except datasets.DataNotFound as exc:
        raise ContradictError(str(exc)) from None
    except KeyError:
        raise ContradictError(f"{name}: there is no split {split!r}") from None
    except ValueError as exc:
        raise ContradictError(f"{name}: {exc}") from None


def _read_table(text: str, sep: str, name: str, wanted: set[str]) -> pd.DataFrame:
    # TSV files of NLI data carry bare quotes inside sentences: read them without quoting rules
    quoting = csv.QUOTE_NONE if sep == "\t" else csv.QUOTE_MINIMAL
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, header=None, dtype=str, keep_default_na=False,
                            quoting=quoting)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise ContradictError(f"{name}: cannot read as a table ({str(exc).strip()})") from None
    first = [str(c).strip().lower() for c in frame.iloc[0]]
    if any(c in _KNOWN_COLUMNS or c in wanted for c in first):  # a header row
        frame.columns = [str(c).strip() for c in frame.iloc[0]]
        frame = frame.iloc[1:]
    return frame


def _read_json_rows(text: str, name: str, lines: bool) -> pd.DataFrame:
    try:
        if lines:
            rows = []
            for number, line in enumerate(text.splitlines(), 1):
                if line.strip():
                    try:
                        rows.append(json.loads(line))
                    except json.JSONDecodeError as exc:
                        raise ContradictError(f"{name}, line {number}: invalid JSON ({exc.msg})") from None
        else:
            rows = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ContradictError(f"{name}: invalid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ContradictError(f"{name}: expected a list of objects with premise, hypothesis and label")
    return pd.DataFrame(rows)


def _read_file(path: Path, wanted: set[str]) -> pd.DataFrame:
    from .textio import read_text

    text = read_text(str(path))
    suffix = path.suffix.lower()
    if not text.strip():
        raise ContradictError(f"{path}: the file is empty")
    if suffix in (".jsonl", ".ndjson"):
        return _read_json_rows(text, str(path), lines=True)
    if suffix == ".json":
        return _read_json_rows(text, str(path), lines=False)
    if suffix in (".tsv", ".txt", ".csv"):
        return _read_table(text, "," if suffix == ".csv" else "\t", str(path), wanted)
    raise ContradictError(f"{path}: unsupported file type {suffix or '(none)'}; use .tsv, .csv, .jsonl or .json")


def _raw_frame(source, split, data_dir, wanted: set[str]) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        frame = source.copy()
    elif isinstance(source, dict) and source and all(hasattr(v, "to_pandas") for v in source.values()):
        # a datasets.DatasetDict: the named split, else the evaluation split it has
        chosen = split or next((s for s in ("test", "validation", "dev") if s in source), None)
        if chosen not in source:
            raise ContradictError(f"choose a split: {', '.join(source)}")
        return source[chosen].to_pandas()
    elif hasattr(source, "to_pandas"):  # a datasets.Dataset
        frame = source.to_pandas()
    else:
        path = Path(source)
        if path.is_file():
            frame = _read_file(path, wanted)
        else:
            from .datasets import LOADERS

            name = str(source).lower().replace("_", "-")
            if name in LOADERS:
                return _named_frame(name, split, data_dir)
            kind = "is a directory" if path.is_dir() else "no such file"
            raise ContradictError(f"{source}: {kind}, and not a named data set ({', '.join(LOADERS)})")
    if split:
        raise ContradictError("--split applies to named data sets and DatasetDicts, not to a single table")
    return frame


def _find_column(frame: pd.DataFrame, wanted) -> object | None:
    if isinstance(wanted, int) or (isinstance(wanted, str) and wanted.isdigit()):
        position = int(wanted)
        return frame.columns[position] if position < len(frame.columns) else None
    by_name = {str(c).lower(): c for c in frame.columns}
    return by_name.get(str(wanted).lower())


def _standard_columns(frame: pd.DataFrame, columns: dict) -> pd.DataFrame:
    headerless = all(isinstance(c, (int, np.integer)) for c in frame.columns)
    chosen = {}
    for position, role in enumerate(ROLES):
        wanted = columns.get(role)
        if wanted is not None:
            column = _find_column(frame, wanted)
            if column is None:
                raise ContradictError(f"no {role} column {wanted!r}; columns: {', '.join(map(str, frame.columns))}")
        elif headerless:  # premise, hypothesis, label[, lang] by position
            column = position if position < len(frame.columns) else None
        else:
            column = next((c for name in _COLUMN_NAMES[role] for c in frame.columns if str(c).lower() == name), None)
        if column is None and role != "lang":
            raise ContradictError(f"no {role} column: name it with --{role}-column "
                                  f"(columns: {', '.join(map(str, frame.columns))})")
        if column is not None:
            chosen[role] = column
    out = pd.DataFrame({role: frame[column].values for role, column in chosen.items()})
    for column in frame.columns:  # keep extra columns (tags, label4, category, ...) under their names
        if column not in chosen.values() and isinstance(column, str) and column not in out:
            out[column] = frame[column].values
    for role in ("premise", "hypothesis"):
        out[role] = out[role].fillna("").astype(str)
    if "lang" in out:
        out["lang"] = out["lang"].astype(str)
    return out


def load_pairs(source, split: str | None = None, data_dir=None, columns: dict | None = None,
               label_values: str | dict | None = None) -> pd.DataFrame:
    """Labelled pairs as a DataFrame: premise, hypothesis, label (canonical) [, lang] and any extra columns.

    `source`: a TSV/CSV/JSONL/JSON path, a name from `contradict.datasets.LOADERS`, a DataFrame,
    or a `datasets.Dataset` / `DatasetDict`.  `columns` maps premise/hypothesis/label/lang to a
    column name or 0-based position.
    """
    columns = {k: v for k, v in (columns or {}).items() if v is not None}
    # names the user expects in a header row (positions say the file has none)
    wanted = {str(v).lower() for v in columns.values() if not str(v).isdigit()}
    frame = _standard_columns(_raw_frame(source, split, data_dir, wanted), columns)
    frame["label"] = normalise_labels(frame["label"], label_values)
    return frame.reset_index(drop=True)


def select_rows(frame: pd.DataFrame, langs: str | Sequence[str] | None = None, sample_every: int | None = None,
                limit: int | None = None, offset: int = 0) -> pd.DataFrame:
    """Rows in `langs`, then every `sample_every`-th row from `offset` (deterministic), then the first `limit`."""
    if langs:
        wanted = [x.strip() for x in langs.split(",")] if isinstance(langs, str) else list(langs)
        if "lang" not in frame:
            raise ContradictError("--langs needs a language column (--lang-column)")
        missing = sorted(set(wanted) - set(frame["lang"]))
        if missing:
            raise ContradictError(f"no rows in {', '.join(missing)}; languages here: "
                                  f"{', '.join(sorted(set(frame['lang'])))}")
        frame = frame[frame["lang"].isin(wanted)]
    for name, value in (("--sample-every", sample_every), ("--limit", limit)):
        if value is not None and value < 1:
            raise ContradictError(f"{name} must be at least 1")
    if sample_every:
        if not 0 <= offset < sample_every:
            raise ContradictError(f"--offset must be between 0 and {sample_every - 1} (every {sample_every}th row)")
        frame = frame.iloc[offset::sample_every]
    if limit:
        frame = frame.iloc[:limit]
    if frame.empty:
        raise ContradictError("no rows to evaluate")
    return frame.reset_index(drop=True)


# --------------------------------------------------------------------------- metrics

def _number(value) -> float | None:
    """JSON-safe: NaN (undefined, e.g. precision of a class never predicted) becomes None."""
    if value is None:
        return None
    value = float(value)
    return None if math.isnan(value) else round(value, 6)


def reliability_bins(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> list[dict]:
    """Equal-width confidence bins (lo, hi]: count, mean confidence and accuracy of each non-empty bin."""
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    which = np.clip(np.ceil(confidence * bins).astype(int) - 1, 0, bins - 1)
    result = []
    for b in range(bins):
        mask = which == b
        if mask.any():
            result.append({"lo": b / bins, "hi": (b + 1) / bins, "n": int(mask.sum()),
                           "confidence": float(confidence[mask].mean()), "accuracy": float(correct[mask].mean())})
    return result


def expected_calibration_error(confidence, correct, bins: int = ECE_BINS) -> float:
    n = len(confidence)
    return float(sum(b["n"] / n * abs(b["accuracy"] - b["confidence"])
                     for b in reliability_bins(confidence, correct, bins))) if n else float("nan")


def _accuracy_macro_f1(y: np.ndarray, pred: np.ndarray) -> tuple[float, float]:
    """Accuracy, and macro-F1 over the classes present in the gold labels (an absent class has no recall)."""
    from sklearn.metrics import f1_score

    gold_classes = sorted(set(y.tolist()))
    return float((y == pred).mean()), float(f1_score(y, pred, labels=gold_classes, average="macro", zero_division=0))


def _per_group(y: np.ndarray, pred: np.ndarray, groups) -> dict:
    groups = np.asarray(groups, dtype=object)
    result = {}
    for group in sorted(set(groups.tolist()), key=str):
        mask = groups == group
        accuracy, macro_f1 = _accuracy_macro_f1(y[mask], pred[mask])
        result[str(group)] = {"n": int(mask.sum()), "accuracy": _number(accuracy), "macro_f1": _number(macro_f1)}
    return result


def compute_metrics(y_true: Iterable, probs, langs: Iterable | None = None) -> dict:
    """Metrics of (n, 3) probabilities in LABELS order against gold labels (names or LABELS indices).

    accuracy; macro_f1 (over the gold classes); per_class precision/recall/f1/support (None where
    undefined); confusion_matrix (rows gold, columns predicted); contradiction-vs-rest ROC-AUC,
    PR-AUC (average precision) and argmax precision/recall/F1; ece (15 bins on the max probability);
    per_language n/accuracy/macro_f1 when `langs` is given.
    """
    from sklearn.metrics import average_precision_score, confusion_matrix, precision_recall_fscore_support, \
        roc_auc_score

    y = _label_indices(y_true)
    probs = np.asarray(probs, dtype=float)
    if not len(y):
        raise ContradictError("no rows to evaluate")
    if probs.shape != (len(y), len(LABELS)):
        raise ValueError(f"probs must have shape ({len(y)}, {len(LABELS)}), got {probs.shape}")
    pred = probs.argmax(axis=1)
    everything = list(range(len(LABELS)))
    precision, recall, f1, support = precision_recall_fscore_support(y, pred, labels=everything,
                                                                     zero_division=np.nan)
    accuracy, macro_f1 = _accuracy_macro_f1(y, pred)
    per_class = {label: {"precision": _number(precision[i]), "recall": _number(recall[i]), "f1": _number(f1[i]),
                         "support": int(support[i])} for i, label in enumerate(LABELS)}
    is_contradiction = y == CONTRADICTION
    both_classes = 0 < is_contradiction.sum() < len(y)
    return {
        "n": int(len(y)),
        "accuracy": _number(accuracy),
        "macro_f1": _number(macro_f1),
        "per_class": per_class,
        "confusion_matrix": {"labels": list(LABELS),
                             "matrix": confusion_matrix(y, pred, labels=everything).tolist()},
        "contradiction_roc_auc": _number(roc_auc_score(is_contradiction, probs[:, CONTRADICTION]))
        if both_classes else None,
        "contradiction_pr_auc": _number(average_precision_score(is_contradiction, probs[:, CONTRADICTION]))
        if both_classes else None,
        # contradiction vs not (the FEVER-style reading): the contradiction row of per_class, plus accuracy
        "contradiction_binary": {**per_class["contradiction"],
                                 "accuracy": _number(((pred == CONTRADICTION) == is_contradiction).mean())},
        "ece": _number(expected_calibration_error(probs.max(axis=1), pred == y)),
        "mean_confidence": _number(probs.max(axis=1).mean()),
        "per_language": _per_group(y, pred, list(langs)) if langs is not None else {},
    }


def _as_tags(value) -> list[str]:
    if isinstance(value, str):
        return [t.strip() for t in value.split(",") if t.strip()]
    if isinstance(value, (list, tuple, np.ndarray)):
        return [str(t) for t in value]
    return []


def breakdowns(frame: pd.DataFrame, probs) -> dict:
    """Data-set specific figures, from the extra columns the loaders add.

    tags (ANLI): accuracy per reasoning tag; round (ANLI): per round; label4 (RoNLI): share of each
    predicted 3-way label per 4-way gold label; category (Breaking NLI): contradiction recall per category.
    """
    y = _label_indices(frame["label"])
    pred = np.asarray(probs).argmax(axis=1)
    correct = y == pred
    result = {}
    if "tags" in frame:
        seen = defaultdict(list)
        for tags, ok in zip(frame["tags"], correct):
            for tag in set(_as_tags(tags)):  # a tag listed twice on a row counts once
                seen[tag].append(ok)
        result["per_tag"] = {tag: {"n": len(oks), "accuracy": _number(np.mean(oks))}
                             for tag, oks in sorted(seen.items(), key=lambda kv: (-len(kv[1]), kv[0]))}
    if "round" in frame:
        result["per_round"] = _per_group(y, pred, frame["round"])
    for column in ("source", "phenomenon"):  # the validation pool's sources, our Romanian NLI's phenomena
        if column in frame:
            result[f"per_{column}"] = _per_group(y, pred, frame[column])
    if "label4" in frame:
        label4 = frame["label4"].astype(str).values
        result["label4"] = {
            gold: {"n": int((label4 == gold).sum()),
                   "predicted": {label: _number((pred[label4 == gold] == i).mean()) for i, label in enumerate(LABELS)}}
            for gold in sorted(set(label4))}
    if "category" in frame:
        category = frame["category"].astype(str).values
        result["per_category"] = {}
        for name in sorted(set(category)):
            gold = (category == name) & (y == CONTRADICTION)
            result["per_category"][name] = {
                "n": int(gold.sum()),
                "contradiction_recall": _number((pred[gold] == CONTRADICTION).mean()) if gold.any() else None}
    return result


# --------------------------------------------------------------------------- plots

def _axes(ax=None, size=(5, 4)):
    """The given axes, or fresh ones on an Agg canvas (no pyplot state, safe headless)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def plot_confusion(y_true, probs, ax=None, title="Confusion matrix (row-normalised)"):
    fig, ax = _axes(ax)
    matrix = np.array(compute_metrics(y_true, probs)["confusion_matrix"]["matrix"], dtype=float)
    shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(LABELS)):
        for j in range(len(LABELS)):
            ax.text(j, i, f"{shares[i, j]:.2f}\n({int(matrix[i, j])})", ha="center", va="center",
                    color="white" if shares[i, j] > 0.6 else "black", fontsize=8)
    ax.set_xticks(range(len(LABELS)), LABELS)
    ax.set_yticks(range(len(LABELS)), LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def plot_pr_curve(y_true, probs, ax=None, label=None):
    """Precision-recall curve of contradiction vs rest."""
    from sklearn.metrics import average_precision_score, precision_recall_curve

    fig, ax = _axes(ax)
    gold = _label_indices(y_true) == CONTRADICTION
    scores = np.asarray(probs)[:, CONTRADICTION]
    if gold.any():
        precision, recall, _ = precision_recall_curve(gold, scores)
        ap = average_precision_score(gold, scores)
        ax.plot(recall, precision, label=f"{label + ' ' if label else ''}AP {ap:.3f}")
        if not any(line.get_label() == "base rate" for line in ax.lines):  # once when curves are overlaid
            ax.axhline(gold.mean(), color="grey", linestyle=":", linewidth=1, label="base rate")
        ax.legend(loc="upper right", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("recall (contradiction)")
    ax.set_ylabel("precision")
    ax.set_title("Contradiction vs rest")
    fig.tight_layout()
    return fig


def plot_reliability(y_true, probs, ax=None, label=None, bins: int = ECE_BINS):
    fig, ax = _axes(ax)
    probs = np.asarray(probs)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == _label_indices(y_true)
    table = reliability_bins(confidence, correct, bins)
    ece = expected_calibration_error(confidence, correct, bins)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.plot([b["confidence"] for b in table], [b["accuracy"] for b in table], marker="o",
            label=f"{label + ' ' if label else ''}ECE {ece:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (max probability)")
    ax.set_ylabel("accuracy")
    ax.set_title("Reliability")
    fig.tight_layout()
    return fig


def write_plots(y_true, probs, out_dir) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, plot in (("confusion_matrix.png", plot_confusion), ("pr_curve.png", plot_pr_curve),
                       ("reliability.png", plot_reliability)):
        plot(y_true, probs).savefig(out / name)
        written.append(out / name)
    return written


# --------------------------------------------------------------------------- labelled pairs

def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@dataclass
class Evaluation:
    """Metrics, and the evaluated rows with their probabilities (p_entailment, p_neutral, p_contradiction)."""

    metrics: dict
    rows: pd.DataFrame

    @property
    def probs(self) -> np.ndarray:
        return self.rows[[f"p_{label}" for label in LABELS]].to_numpy()

    def write_predictions(self, path) -> Path:
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".jsonl", ".json", ".csv", ".tsv"):
            raise ContradictError(f"{path}: predictions are written as .jsonl, .csv or .tsv")
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix in (".jsonl", ".json"):
            with path.open("w", encoding="utf-8") as fh:
                for record in self.rows.to_dict("records"):
                    fh.write(json.dumps(record, ensure_ascii=False, default=_jsonable) + "\n")
        else:
            self.rows.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
        return path

    def plot(self, out_dir) -> list[Path]:
        return write_plots(self.rows["label"], self.probs, out_dir)

    def to_text(self) -> str:
        return format_metrics(self.metrics)


def make_scorer(model_or_scorer="default", threads: int | None = None, device: str | None = None, **options):
    """An NLIScorer from a preset/path (`options`: label_map, trust_remote_code, ...), or a Detector's scorer."""
    if isinstance(model_or_scorer, (str, Path)):
        return NLIScorer(str(model_or_scorer), threads=threads, device=device, **options)
    if threads:
        import torch

        torch.set_num_threads(threads)
    scorer = getattr(model_or_scorer, "scorer", model_or_scorer)  # a Detector carries the pipeline's scorer
    if not hasattr(scorer, "predict"):
        raise TypeError(f"expected a model name, an NLIScorer or a Detector, got {type(model_or_scorer).__name__}")
    return scorer


def _describe(source, split) -> str:
    if isinstance(source, (str, Path)):
        return f"{source}{f' ({split})' if split else ''}"
    return type(source).__name__


def evaluate_pairs(source, scorer_or_model="default", *, split: str | None = None, data_dir=None,
                   langs=None, limit: int | None = None, sample_every: int | None = None,
                   columns: dict | None = None, label_values=None, batch_size: int = 32,
                   threads: int | None = None, device: str | None = None, model_options: dict | None = None,
                   show_progress_bar: bool | None = None) -> Evaluation:
    """Score labelled (premise, hypothesis) pairs and compute `compute_metrics` + `breakdowns`.

    The data is read and checked before a model named by `scorer_or_model` is loaded.
    """
    frame = select_rows(load_pairs(source, split, data_dir, columns, label_values), langs, sample_every, limit)
    if split is None and isinstance(source, str):
        from .datasets import LOADERS

        split = LOADERS.get(source.lower().replace("_", "-"), (None, None))[1]
    scorer = make_scorer(scorer_or_model, threads=threads, device=device, **(model_options or {}))
    probs = scorer.predict(list(zip(frame["premise"], frame["hypothesis"])), batch_size=batch_size,
                           show_progress_bar=show_progress_bar)
    metrics = {"source": _describe(source, split), "model": getattr(scorer, "name", None),
               "temperature": getattr(scorer, "temperature", None)}
    metrics.update(compute_metrics(frame["label"], probs, frame["lang"] if "lang" in frame else None))
    metrics.update(breakdowns(frame, probs))
    rows = frame.copy()
    for i, label in enumerate(LABELS):
        rows[f"p_{label}"] = probs[:, i]
    rows["predicted"] = np.array(LABELS)[probs.argmax(axis=1)]
    rows["correct"] = rows["predicted"] == rows["label"]
    return Evaluation(metrics, rows)


def _fmt(value, digits=3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_metrics(m: dict) -> str:
    """A plain-text report of `evaluate_pairs` metrics."""
    binary = m["contradiction_binary"]
    lines = [f"{m.get('model') or 'model'} on {m.get('source') or 'pairs'}: {m['n']:,} pairs",
             f"accuracy {_fmt(m['accuracy'])}   macro-F1 {_fmt(m['macro_f1'])}   ECE {_fmt(m['ece'])}",
             f"contradiction vs rest: ROC-AUC {_fmt(m['contradiction_roc_auc'])}   "
             f"PR-AUC {_fmt(m['contradiction_pr_auc'])}   P {_fmt(binary['precision'])}   "
             f"R {_fmt(binary['recall'])}   F1 {_fmt(binary['f1'])}", "",
             f"{'class':<15}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for label, c in m["per_class"].items():
        lines.append(f"{label:<15}{_fmt(c['precision']):>10}{_fmt(c['recall']):>8}{_fmt(c['f1']):>8}{c['support']:>9}")
    lines += ["", "confusion (rows gold, columns predicted): " + "  ".join(m["confusion_matrix"]["labels"])]
    for label, row in zip(m["confusion_matrix"]["labels"], m["confusion_matrix"]["matrix"]):
        lines.append(f"  {label:<15}" + "".join(f"{v:>8}" for v in row))
    for key, title in (("per_language", "language"), ("per_round", "round")):
        if m.get(key):
            lines += ["", f"{title:<15}{'n':>7}{'accuracy':>10}{'macro-F1':>10}"]
            lines += [f"{g:<15}{v['n']:>7}{_fmt(v['accuracy']):>10}{_fmt(v['macro_f1']):>10}"
                      for g, v in m[key].items()]
    if m.get("per_tag"):
        lines += ["", f"{'tag':<24}{'n':>7}{'accuracy':>10}"]
        lines += [f"{t:<24}{v['n']:>7}{_fmt(v['accuracy']):>10}" for t, v in m["per_tag"].items()]
    if m.get("label4"):
        lines += ["", f"{'4-way gold':<15}{'n':>7}" + "".join(f"{'→ ' + lab[:7]:>12}" for lab in LABELS)]
        lines += [f"{g:<15}{v['n']:>7}" + "".join(f"{_fmt(v['predicted'][lab]):>12}" for lab in LABELS)
                  for g, v in m["label4"].items()]
    if m.get("per_category"):
        lines += ["", f"{'category':<20}{'n':>7}{'contradiction recall':>22}"]
        lines += [f"{c:<20}{v['n']:>7}{_fmt(v['contradiction_recall']):>22}" for c, v in m["per_category"].items()]
    return "\n".join(lines)


# --------------------------------------------------------------------------- labelled documents

Span = tuple[int, int]


def _resolve_side(text: str, side, doc_id) -> Span:
    if isinstance(side, str):
        start = text.find(side)
        if not side or start < 0:
            raise ContradictError(f"document {doc_id}: {side!r} does not occur in its text")
        return start, start + len(side)
    if (isinstance(side, (list, tuple)) and len(side) == 2 and all(isinstance(x, int) for x in side)
            and 0 <= side[0] < side[1] <= len(text)):
        return side[0], side[1]
    raise ContradictError(f"document {doc_id}: {side!r} is neither a substring nor [start, end] offsets")


def load_docs(source) -> list[dict]:
    """Labelled documents: JSONL {id, text, lang?, contradictions: [[side_a, side_b], ...]}, or a list of dicts.

    Each side is a substring of the text (its first occurrence) or [start, end] offsets; they come back
    resolved as spans in `gold`.
    """
    if isinstance(source, (str, Path)):
        from .textio import read_text

        records = _read_json_rows(read_text(str(source)), str(source), lines=True).to_dict("records")
    else:
        records = list(source)
    docs = []
    for number, record in enumerate(records, 1):
        doc_id = record.get("id", number)
        text, pairs = record.get("text"), record.get("contradictions")
        if not isinstance(text, str) or not text.strip():
            raise ContradictError(f"document {doc_id}: no text")
        if not isinstance(pairs, list) or any(not isinstance(p, (list, tuple)) or len(p) != 2 for p in pairs):
            raise ContradictError(f"document {doc_id}: contradictions must be a list of [side_a, side_b] pairs")
        lang = record.get("lang")
        docs.append({"id": doc_id, "text": text, "lang": lang if isinstance(lang, str) else None,
                     "gold": [(_resolve_side(text, a, doc_id), _resolve_side(text, b, doc_id)) for a, b in pairs]})
    if not docs:
        raise ContradictError("no documents to evaluate")
    return docs


def spans_overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def pair_matches(found: tuple[Span, Span], gold: tuple[Span, Span]) -> bool:
    """Each gold side overlaps a different side of the found pair."""
    (fa, fb), (ga, gb) = found, gold
    return (spans_overlap(ga, fa) and spans_overlap(gb, fb)) or (spans_overlap(ga, fb) and spans_overlap(gb, fa))


def _doc_figures(gold: list, found: list, ks: Sequence[int]) -> dict:
    relevant = [any(pair_matches(f, g) for g in gold) for f in found]
    first_hit = next((rank for rank, hit in enumerate(relevant, 1) if hit), None)
    figures = {"first_hit_rank": first_hit, "reciprocal_rank": 1 / first_hit if first_hit else 0.0}
    for k in ks:
        figures[f"precision@{k}"] = sum(relevant[:k]) / k
        figures[f"recall@{k}"] = sum(any(pair_matches(f, g) for f in found[:k]) for g in gold) / len(gold)
    return figures


def _mean_figures(per_doc: list[dict], ks: Sequence[int]) -> dict:
    if not per_doc:
        return {"mrr": None, "precision_at": {}, "recall_at": {}}
    return {"mrr": _number(np.mean([d["reciprocal_rank"] for d in per_doc])),
            "precision_at": {str(k): _number(np.mean([d[f"precision@{k}"] for d in per_doc])) for k in ks},
            "recall_at": {str(k): _number(np.mean([d[f"recall@{k}"] for d in per_doc])) for k in ks}}


def compute_doc_metrics(results: Sequence[dict], ks: Sequence[int] = DOC_KS) -> dict:
    """Ranking metrics over documents.

    Each result has `gold` (list of (span, span)), `found` (ranked list of (span, span)) and `scores`
    (the found pairs' scores, same order); optional `id` and `lang`.  precision@k (denominator k),
    recall@k and MRR are averaged over the documents that have a gold contradiction; doc_roc_auc ranks
    all documents by their top score for "has a contradiction".
    """
    from sklearn.metrics import roc_auc_score

    documents, figures_by_lang = [], defaultdict(list)
    for r in results:
        top = float(r["scores"][0]) if len(r["scores"]) else 0.0
        entry = {"id": r.get("id"), "lang": r.get("lang"), "gold": len(r["gold"]), "found": len(r["found"]),
                 "top_score": _number(top)}
        if r["gold"]:
            figures = _doc_figures(r["gold"], r["found"], ks)
            entry["first_hit_rank"] = figures["first_hit_rank"]
            figures_by_lang[r.get("lang")].append(figures)
        documents.append(entry)
    has = np.array([d["gold"] > 0 for d in documents])
    tops = np.array([d["top_score"] or 0.0 for d in documents])
    every = [f for figures in figures_by_lang.values() for f in figures]
    metrics = {"n_docs": len(documents), "n_with_contradictions": int(has.sum()), **_mean_figures(every, ks),
               "doc_roc_auc": _number(roc_auc_score(has, tops)) if 0 < has.sum() < len(has) else None}
    langs = sorted({d["lang"] for d in documents if d["lang"]})
    metrics["per_language"] = {
        lang: {"n_docs": sum(d["lang"] == lang for d in documents), **_mean_figures(figures_by_lang[lang], ks)}
        for lang in langs}
    metrics["documents"] = documents
    return metrics


def _statement_span(statement) -> Span:
    # a gold side may mark the claim or anything in its sentence (source, verb of saying)
    return min(statement.start, statement.sentence_start), max(statement.end, statement.sentence_end)


def evaluate_docs(source, detector_or_model="default", ks: Sequence[int] = DOC_KS, threads: int | None = None,
                  device: str | None = None, batch_size: int = 32, model_options: dict | None = None,
                  show_progress_bar: bool | None = None) -> dict:
    """Run `Detector.find` on labelled documents (every scored pair ranked) and compute `compute_doc_metrics`."""
    from tqdm.auto import tqdm

    from .detector import Detector

    docs = load_docs(source)
    if isinstance(detector_or_model, (str, Path)):
        detector = Detector(str(detector_or_model), threshold=0.0, threads=threads, device=device,
                            batch_size=batch_size, show_progress_bar=False, **(model_options or {}))
    else:
        detector = detector_or_model
    saved = detector.threshold, detector.top_k
    detector.threshold, detector.top_k = 0.0, None  # rank every scored pair
    results = []
    try:
        for doc in tqdm(docs, desc="documents", unit="doc",
                        disable=not (len(docs) > 20 if show_progress_bar is None else show_progress_bar)):
            found = detector.find(doc["text"], lang=doc["lang"])
            results.append({"id": doc["id"], "lang": doc["lang"], "gold": doc["gold"],
                            "found": [(_statement_span(c.a), _statement_span(c.b)) for c in found],
                            "scores": [c.score for c in found]})
    finally:
        detector.threshold, detector.top_k = saved
    metrics = compute_doc_metrics(results, ks)
    metrics["model"] = getattr(detector, "model_name", None)
    return metrics


def format_doc_metrics(m: dict) -> str:
    ks = list(m["precision_at"])
    lines = [f"{m.get('model') or 'model'}: {m['n_docs']} documents, {m['n_with_contradictions']} with a contradiction",
             f"MRR {_fmt(m['mrr'])}   document ROC-AUC {_fmt(m['doc_roc_auc'])}",
             "k            " + "".join(f"{k:>8}" for k in ks),
             "precision@k  " + "".join(f"{_fmt(m['precision_at'][k]):>8}" for k in ks),
             "recall@k     " + "".join(f"{_fmt(m['recall_at'][k]):>8}" for k in ks)]
    if m["per_language"]:
        lines += ["", f"{'language':<10}{'docs':>6}{'MRR':>8}" + "".join(f"{'R@' + k:>8}" for k in ks)]
        lines += [f"{lang:<10}{v['n_docs']:>6}{_fmt(v['mrr']):>8}"
                  + "".join(f"{_fmt(v['recall_at'].get(k)):>8}" for k in ks) for lang, v in m["per_language"].items()]
    return "\n".join(lines)


# --------------------------------------------------------------------------- calibration

def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    from scipy.special import softmax as scipy_softmax

    return scipy_softmax(np.asarray(logits, dtype=float) / temperature, axis=1)


def negative_log_likelihood(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    from scipy.special import log_softmax

    logp = log_softmax(np.asarray(logits, dtype=float) / temperature, axis=1)
    return float(-logp[np.arange(len(y)), y].mean())


TEMPERATURE_BOUNDS = (0.05, 20.0)


def fit_temperature(logits: np.ndarray, y_true: Iterable, bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The T minimising the NLL of softmax(logits / T); searched on log T, where the NLL is smooth."""
    from scipy.optimize import minimize_scalar

    y = _label_indices(y_true)
    result = minimize_scalar(lambda log_t: negative_log_likelihood(logits, y, math.exp(log_t)),
                             bounds=(math.log(bounds[0]), math.log(bounds[1])), method="bounded",
                             options={"xatol": 1e-4})
    return float(math.exp(result.x))


def calibrate(scorer_or_model, source, *, split: str | None = None, data_dir=None, out=None,
              holdout: float = 0.3, seed: int = 0, langs=None, limit: int | None = None,
              sample_every: int | None = None, columns: dict | None = None, label_values=None,
              batch_size: int = 32, threads: int | None = None, device: str | None = None,
              model_options: dict | None = None, show_progress_bar: bool | None = None, write: bool = True) -> dict:
    """Fit temperature scaling on labelled pairs and write calibration.json (read by NLIScorer).

    A seeded `holdout` share of the rows is kept out of the fit; ECE and NLL before/after are
    measured there.  The file goes to `out`, else to the scorer's local model directory.
    """
    if not 0 < holdout < 1:
        raise ContradictError("--holdout must be between 0 and 1")
    frame = select_rows(load_pairs(source, split, data_dir, columns, label_values), langs, sample_every, limit)
    n_held = int(round(len(frame) * holdout))
    if n_held < 10 or len(frame) - n_held < 10:
        raise ContradictError(f"{len(frame)} rows are too few: calibration needs at least 10 to fit "
                              "and 10 held out")
    scorer = make_scorer(scorer_or_model, threads=threads, device=device, **(model_options or {}))
    target = Path(out) if out else Path(scorer.path)
    if not out and not target.is_dir():
        raise ContradictError(f"{scorer.path} is not a local model directory: pass --out DIR")
    logits = scorer.logits(list(zip(frame["premise"], frame["hypothesis"])), batch_size=batch_size,
                           show_progress_bar=show_progress_bar).astype(float)
    y = _label_indices(frame["label"])
    order = np.random.default_rng(seed).permutation(len(frame))
    held, fit = order[:n_held], order[n_held:]
    temperature = fit_temperature(logits[fit], y[fit])

    def ece(t):
        probs = softmax(logits[held], t)
        return expected_calibration_error(probs.max(axis=1), probs.argmax(axis=1) == y[held])

    record = {"temperature": round(temperature, 6),
              "fitted_on": {"source": _describe(source, split), "rows": int(len(fit)), "seed": seed},
              "heldout_rows": int(n_held),
              "ece_before": _number(ece(1.0)), "ece_after": _number(ece(temperature)),
              "nll_before": _number(negative_log_likelihood(logits[held], y[held])),
              "nll_after": _number(negative_log_likelihood(logits[held], y[held], temperature)),
              "model": getattr(scorer, "name", None)}
    if any(abs(math.log(temperature / bound)) < 0.01 for bound in TEMPERATURE_BOUNDS):
        # the optimum lies outside the search range: the model is near-constant or the labels near-random
        record["warning"] = "the fitted temperature is at the edge of the search range; check model and data"
    if write:
        target.mkdir(parents=True, exist_ok=True)
        (target / "calibration.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        record["path"] = str(target / "calibration.json")
    return record


# --------------------------------------------------------------------------- command line

def _add_pair_options(p):
    p.add_argument("--data-dir", default=None, help="labelled data for named sets (default: $CONTRADICT_DATA "
                                                    "or ../shared/data)")
    p.add_argument("--split", default=None, help="split of a named data set (default: its evaluation split)")
    p.add_argument("--langs", default=None, help="only these languages, e.g. en,fr")
    p.add_argument("--limit", type=int, default=None, help="at most N rows (after --sample-every)")
    p.add_argument("--sample-every", type=int, default=None, metavar="K", help="every K-th row")
    for role in ROLES:
        p.add_argument(f"--{role}-column", default=None, help=f"{role} column name or 0-based position")
    p.add_argument("--label-values", default=None, help=f"map raw labels, e.g. {LABEL_VALUES_HINT.split()[1]}")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _model_options(args) -> dict:
    """Model, device and progress options shared by eval, eval-docs and calibrate."""
    from .cli import _parse_label_map

    return dict(threads=args.threads, device=args.device, batch_size=args.batch_size,
                model_options={"label_map": _parse_label_map(args.label_map),
                               "trust_remote_code": args.trust_remote_code, "backend": args.backend},
                show_progress_bar=False if args.quiet else None)


def _pair_options(args) -> dict:
    return dict(split=args.split, data_dir=args.data_dir, langs=args.langs, limit=args.limit,
                sample_every=args.sample_every, label_values=args.label_values,
                columns={role: getattr(args, f"{role}_column") for role in ROLES}, **_model_options(args))


def _print_json(data: dict):
    print(json.dumps(data, ensure_ascii=False, default=_jsonable))


def _cmd_eval(args):
    result = evaluate_pairs(args.source, args.model, **_pair_options(args))
    if args.predictions:
        result.write_predictions(args.predictions)
    if args.plots:
        result.plot(args.plots)
    if args.format == "json":
        _print_json(result.metrics)
    else:
        print(result.to_text())


def _cmd_eval_docs(args):
    try:
        ks = tuple(int(k) for k in args.k.split(","))
    except ValueError:
        raise ContradictError(f"--k {args.k!r} is not a list of integers like 1,3,5,10") from None
    metrics = evaluate_docs(args.docs, args.model, ks=ks, **_model_options(args))
    if args.format == "json":
        _print_json(metrics)
    else:
        print(format_doc_metrics(metrics))


def _cmd_calibrate(args):
    record = calibrate(args.model, args.data, out=args.out, holdout=args.holdout, seed=args.seed,
                       **_pair_options(args))
    if args.format == "json":
        _print_json(record)
    else:
        print(f"temperature {record['temperature']:.3f} fitted on {record['fitted_on']['rows']:,} rows; "
              f"on {record['heldout_rows']:,} held-out rows ECE {_fmt(record['ece_before'])} -> "
              f"{_fmt(record['ece_after'])}, NLL {_fmt(record['nll_before'])} -> {_fmt(record['nll_after'])}")
        if record.get("warning"):
            print(f"warning: {record['warning']}", file=sys.stderr)
        print(f"wrote {record['path']}")


def add_commands(sub):
    from .cli import add_model_options

    p = sub.add_parser("eval", help="accuracy, F1, calibration and breakdowns on labelled pairs")
    p.add_argument("source", help="TSV/CSV/JSONL/JSON file (premise, hypothesis, label[, lang]) or a named "
                                  "data set: xnli, ronli, snli, sick, anli, rte3, control, fever-symmetric, cad, "
                                  "breaking-nli")
    _add_pair_options(p)
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--plots", default=None, metavar="DIR",
                   help="write confusion_matrix.png, pr_curve.png, reliability.png here")
    p.add_argument("--predictions", default=None, metavar="FILE", help="write each row with its probabilities "
                                                                       "(.jsonl, .csv or .tsv)")
    add_model_options(p)
    p.set_defaults(func=_cmd_eval)

    p = sub.add_parser("eval-docs", help="precision@k, recall@k, MRR on labelled documents (JSONL)")
    p.add_argument("docs", help="JSONL: {id, text, lang?, contradictions: [[a, b], ...]}")
    p.add_argument("--k", default=",".join(map(str, DOC_KS)), help="cut-offs (default 1,3,5,10)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_model_options(p)
    p.set_defaults(func=_cmd_eval_docs)

    p = sub.add_parser("calibrate", help="fit temperature scaling; write calibration.json into the model dir",
                       description="Fit a softmax temperature on labelled pairs and write calibration.json, "
                                   "which NLIScorer applies at inference. It goes into the model directory "
                                   "(for --model default: the converted model in the cache), or into --out DIR, "
                                   "e.g. --out models/e5-small-nli to ship it with the embedded weights.")
    p.add_argument("--data", required=True, help="labelled pairs, as for `contradict eval` (held out from training)")
    _add_pair_options(p)
    p.add_argument("--out", default=None, metavar="DIR", help="write calibration.json here instead")
    p.add_argument("--holdout", type=float, default=0.3, help="share of rows kept out of the fit to report ECE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--format", choices=("text", "json"), default="text")
    add_model_options(p)
    p.set_defaults(func=_cmd_calibrate)

"""Evaluating a model on labelled pairs: probabilities, metrics, breakdowns, predictions."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..defaults import BATCH_SIZE
from ..errors import ContradictError
from ..labels import LABELS
from ..nli.scorer import NLIScorer
from .data import load_pairs, select_rows
from .metrics import breakdowns, compute_metrics
from .plots import write_plots


def to_json_value(value):
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
                    fh.write(json.dumps(record, ensure_ascii=False, default=to_json_value) + "\n")
        else:
            self.rows.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
        return path

    def plot(self, out_dir) -> list[Path]:
        return write_plots(self.rows["label"], self.probs, out_dir)

    def to_text(self) -> str:
        return format_metrics(self.metrics)


def make_scorer(model_or_scorer="default", device: str | None = None, **options):
    """An NLIScorer from a preset/path (`options`: label_map, trust_remote_code, ...), or a Detector's scorer."""
    if isinstance(model_or_scorer, (str, Path)):
        return NLIScorer(str(model_or_scorer), device=device, **options)
    scorer = getattr(model_or_scorer, "scorer", model_or_scorer)  # a Detector carries the pipeline's scorer
    if not hasattr(scorer, "predict"):
        raise TypeError(f"expected a model name, an NLIScorer or a Detector, got {type(model_or_scorer).__name__}")
    return scorer


def describe_source(source, split) -> str:
    if isinstance(source, (str, Path)):
        return f"{source}{f' ({split})' if split else ''}"
    return type(source).__name__


def evaluate_pairs(source, scorer_or_model="default", *, split: str | None = None, data_dir=None,
                   langs=None, limit: int | None = None, sample_every: int | None = None,
                   columns: dict | None = None, label_values=None, batch_size: int = BATCH_SIZE,
                   device: str | None = None, model_options: dict | None = None,
                   show_progress_bar: bool | None = None) -> Evaluation:
    """Score labelled (premise, hypothesis) pairs and compute `compute_metrics` + `breakdowns`.

    The data is read and checked before a model named by `scorer_or_model` is loaded.
    """
    frame = select_rows(load_pairs(source, split, data_dir, columns, label_values), langs, sample_every, limit)
    if split is None and isinstance(source, str):
        from .datasets import LOADERS

        split = LOADERS.get(source.lower().replace("_", "-"), (None, None))[1]
    scorer = make_scorer(scorer_or_model, device=device, **(model_options or {}))
    probs = scorer.predict(list(zip(frame["premise"], frame["hypothesis"])), batch_size=batch_size,
                           show_progress_bar=show_progress_bar)
    metrics = {"source": describe_source(source, split), "model": getattr(scorer, "name", None),
               "temperature": getattr(scorer, "temperature", None)}
    metrics.update(compute_metrics(frame["label"], probs, frame["lang"] if "lang" in frame else None))
    metrics.update(breakdowns(frame, probs))
    rows = frame.copy()
    for i, label in enumerate(LABELS):
        rows[f"p_{label}"] = probs[:, i]
    rows["predicted"] = np.array(LABELS)[probs.argmax(axis=1)]
    rows["correct"] = rows["predicted"] == rows["label"]
    return Evaluation(metrics, rows)


def format_number(value, digits=3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def format_metrics(m: dict) -> str:
    """A plain-text report of `evaluate_pairs` metrics."""
    binary = m["contradiction_binary"]
    lines = [f"{m.get('model') or 'model'} on {m.get('source') or 'pairs'}: {m['n']:,} pairs",
             f"accuracy {format_number(m['accuracy'])}   macro-F1 {format_number(m['macro_f1'])}   ECE {format_number(m['ece'])}",
             f"contradiction vs rest: ROC-AUC {format_number(m['contradiction_roc_auc'])}   "
             f"PR-AUC {format_number(m['contradiction_pr_auc'])}   P {format_number(binary['precision'])}   "
             f"R {format_number(binary['recall'])}   F1 {format_number(binary['f1'])}", "",
             f"{'class':<15}{'precision':>10}{'recall':>8}{'f1':>8}{'support':>9}"]
    for label, c in m["per_class"].items():
        lines.append(f"{label:<15}{format_number(c['precision']):>10}{format_number(c['recall']):>8}{format_number(c['f1']):>8}{c['support']:>9}")
    lines += ["", "confusion (rows gold, columns predicted): " + "  ".join(m["confusion_matrix"]["labels"])]
    for label, row in zip(m["confusion_matrix"]["labels"], m["confusion_matrix"]["matrix"]):
        lines.append(f"  {label:<15}" + "".join(f"{v:>8}" for v in row))
    for key, title in (("per_language", "language"), ("per_round", "round"), ("per_source", "source"),
                       ("per_phenomenon", "phenomenon")):
        if m.get(key):
            width = max(15, *(len(g) + 2 for g in m[key]))
            lines += ["", f"{title:<{width}}{'n':>7}{'accuracy':>10}{'macro-F1':>10}"]
            lines += [f"{g:<{width}}{v['n']:>7}{format_number(v['accuracy']):>10}{format_number(v['macro_f1']):>10}"
                      for g, v in m[key].items()]
    if m.get("per_tag"):
        lines += ["", f"{'tag':<24}{'n':>7}{'accuracy':>10}"]
        lines += [f"{t:<24}{v['n']:>7}{format_number(v['accuracy']):>10}" for t, v in m["per_tag"].items()]
    if m.get("label4"):
        lines += ["", f"{'4-way gold':<15}{'n':>7}" + "".join(f"{'→ ' + lab[:7]:>12}" for lab in LABELS)]
        lines += [f"{g:<15}{v['n']:>7}" + "".join(f"{format_number(v['predicted'][lab]):>12}" for lab in LABELS)
                  for g, v in m["label4"].items()]
    if m.get("per_category"):
        lines += ["", f"{'category':<20}{'n':>7}{'contradiction recall':>22}"]
        lines += [f"{c:<20}{v['n']:>7}{format_number(v['contradiction_recall']):>22}" for c, v in m["per_category"].items()]
    return "\n".join(lines)

"""Evaluating the whole pipeline on labelled documents: is the true pair ranked first?"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Sequence

import numpy as np

from ..defaults import BATCH_SIZE
from ..errors import ContradictError
from .data import read_json_rows
from .metrics import json_number
from .pairs import format_number

DOC_KS = (1, 3, 5, 10)


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
        from ..files import read_text

        records = read_json_rows(read_text(str(source)), str(source), lines=True).to_dict("records")
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
    return {"mrr": json_number(np.mean([d["reciprocal_rank"] for d in per_doc])),
            "precision_at": {str(k): json_number(np.mean([d[f"precision@{k}"] for d in per_doc])) for k in ks},
            "recall_at": {str(k): json_number(np.mean([d[f"recall@{k}"] for d in per_doc])) for k in ks}}


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
                 "top_score": json_number(top)}
        if r["gold"]:
            figures = _doc_figures(r["gold"], r["found"], ks)
            entry["first_hit_rank"] = figures["first_hit_rank"]
            figures_by_lang[r.get("lang")].append(figures)
        documents.append(entry)
    has = np.array([d["gold"] > 0 for d in documents])
    tops = np.array([d["top_score"] or 0.0 for d in documents])
    every = [f for figures in figures_by_lang.values() for f in figures]
    metrics = {"n_docs": len(documents), "n_with_contradictions": int(has.sum()), **_mean_figures(every, ks),
               "doc_roc_auc": json_number(roc_auc_score(has, tops)) if 0 < has.sum() < len(has) else None}
    langs = sorted({d["lang"] for d in documents if d["lang"]})
    metrics["per_language"] = {
        lang: {"n_docs": sum(d["lang"] == lang for d in documents), **_mean_figures(figures_by_lang[lang], ks)}
        for lang in langs}
    metrics["documents"] = documents
    return metrics


def _statement_span(statement) -> Span:
    # a gold side may mark the claim or anything in its sentence (source, verb of saying)
    return min(statement.start, statement.sentence_start), max(statement.end, statement.sentence_end)


def evaluate_docs(source, detector_or_model="default", ks: Sequence[int] = DOC_KS, device: str | None = None,
                  batch_size: int = BATCH_SIZE, model_options: dict | None = None,
                  show_progress_bar: bool | None = None) -> dict:
    """Run the detector on labelled documents (every scored pair ranked) and compute `compute_doc_metrics`.
    A detector passed in is used as it is: its threshold and top_k are overridden per call, never changed."""
    from tqdm.auto import tqdm

    from ..pipeline.detector import Detector

    docs = load_docs(source)
    if isinstance(detector_or_model, (str, Path)):
        detector = Detector(str(detector_or_model), device=device, batch_size=batch_size, show_progress_bar=False,
                            **(model_options or {}))
    else:
        detector = detector_or_model
    progress = tqdm(total=len(docs), desc="documents", unit="doc",
                    disable=not (len(docs) > 20 if show_progress_bar is None else show_progress_bar))
    results = []
    with progress:
        for doc, found in zip(docs, detector.pipe(((d["text"], d["lang"]) for d in docs), threshold=0.0, top_k=0)):
            results.append({"id": doc["id"], "lang": doc["lang"], "gold": doc["gold"],
                            "found": [(_statement_span(c.a), _statement_span(c.b)) for c in found],
                            "scores": [c.score for c in found]})
            progress.update()
    metrics = compute_doc_metrics(results, ks)
    metrics["model"] = getattr(detector, "model_name", None)
    return metrics


def format_doc_metrics(m: dict) -> str:
    ks = list(m["precision_at"])
    lines = [f"{m.get('model') or 'model'}: {m['n_docs']} documents, {m['n_with_contradictions']} with a contradiction",
             f"MRR {format_number(m['mrr'])}   document ROC-AUC {format_number(m['doc_roc_auc'])}",
             "k            " + "".join(f"{k:>8}" for k in ks),
             "precision@k  " + "".join(f"{format_number(m['precision_at'][k]):>8}" for k in ks),
             "recall@k     " + "".join(f"{format_number(m['recall_at'][k]):>8}" for k in ks)]
    if m["per_language"]:
        lines += ["", f"{'language':<10}{'docs':>6}{'MRR':>8}" + "".join(f"{'R@' + k:>8}" for k in ks)]
        lines += [f"{lang:<10}{v['n_docs']:>6}{format_number(v['mrr']):>8}"
                  + "".join(f"{format_number(v['recall_at'].get(k)):>8}" for k in ks) for lang, v in m["per_language"].items()]
    return "\n".join(lines)

"""Evaluating the whole pipeline on labelled documents: is the true pair ranked first?"""
from __future__ import annotations

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


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value)  # NaN: a field other rows have


def _pairs_field(record: dict, name: str, doc_id, required: bool) -> list:
    pairs = record.get(name)
    if _missing(pairs) and not required:
        pairs = []
    if not isinstance(pairs, list) or any(not isinstance(p, (list, tuple)) or len(p) != 2 for p in pairs):
        raise ContradictError(f"document {doc_id}: {name} must be a list of [side_a, side_b] pairs")
    return pairs


HALVES = ("fit", "heldout")


def in_half(doc_id, half: str) -> bool:
    """A stable half of a document set, by a hash of the document id: `fit` for fitting a ranker,
    `heldout` for checking it.  "data/ro_news_docs.jsonl@heldout" names one half of a file."""
    from .datasets import stable_bucket

    return (stable_bucket(f"ranker-half:{doc_id}") < 0.5) == (half == "fit")


def _split_half(source):
    if isinstance(source, (str, Path)):
        path, _, half = str(source).rpartition("@")
        if path and half in HALVES:
            return path, half
    return source, None


def load_docs(source) -> list[dict]:
    """Labelled documents: JSONL {id, text, text_b?, lang?, contradictions: [[side_a, side_b], ...],
    ambiguous?: [[side_a, side_b], ...], variant?, set?}, or a list of dicts.

    Each side is a substring (its first occurrence) or [start, end] offsets.  With `text_b` the document is a
    comparison of two texts and offsets count in `text + "\n" + text_b`.  `ambiguous` pairs (contradictory
    or not, by construction) are left out of the ranking metrics.  Sides come back resolved as spans.
    "FILE@fit" / "FILE@heldout": one stable half of the file (`in_half`).
    """
    source, half = _split_half(source)
    if isinstance(source, (str, Path)):
        from ..files import read_text

        records = read_json_rows(read_text(str(source)), str(source), lines=True).to_dict("records")
    else:
        records = list(source)
    docs = []
    for number, record in enumerate(records, 1):
        doc_id = record.get("id", number)
        text, text_b = record.get("text"), record.get("text_b")
        if not isinstance(text, str) or not text.strip():
            raise ContradictError(f"document {doc_id}: no text")
        text_b = None if _missing(text_b) else text_b
        if text_b is not None and (not isinstance(text_b, str) or not text_b.strip()):
            raise ContradictError(f"document {doc_id}: text_b must be a non-empty text")
        whole = text if text_b is None else text + "\n" + text_b
        lang = record.get("lang")
        resolved = {name: [(_resolve_side(whole, a, doc_id), _resolve_side(whole, b, doc_id))
                           for a, b in _pairs_field(record, name, doc_id, required)]
                    for name, required in (("contradictions", True), ("ambiguous", False))}
        docs.append({"id": doc_id, "text": text, "text_b": text_b, "lang": lang if isinstance(lang, str) else None,
                     "variant": record.get("variant") if isinstance(record.get("variant"), str) else None,
                     "gold": resolved["contradictions"], "ambiguous": resolved["ambiguous"]})
    if half:
        docs = [d for d in docs if in_half(d["id"], half)]
    if not docs:
        raise ContradictError("no documents to evaluate")
    return docs


def spans_overlap(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def pair_matches(found: tuple[Span, Span], gold: tuple[Span, Span]) -> bool:
    """Each gold side overlaps a different side of the found pair."""
    (fa, fb), (ga, gb) = found, gold
    return (spans_overlap(ga, fa) and spans_overlap(gb, fb)) or (spans_overlap(ga, fb) and spans_overlap(gb, fa))


def gold_or_left_out(doc: dict, pair: tuple[Span, Span]) -> bool | None:
    """True for a gold pair, None for one ambiguous by construction (left out of every figure), else False."""
    if any(pair_matches(pair, g) for g in doc["gold"]):
        return True
    return None if any(pair_matches(pair, a) for a in doc.get("ambiguous", ())) else False


def _doc_figures(gold: list, relevant: list[bool], found: list, ks: Sequence[int]) -> dict:
    first_hit = next((rank for rank, hit in enumerate(relevant, 1) if hit), None)
    figures = {"first_hit_rank": first_hit, "reciprocal_rank": 1 / first_hit if first_hit else 0.0}
    for k in ks:
        figures[f"precision@{k}"] = sum(relevant[:k]) / k
        figures[f"recall@{k}"] = sum(any(pair_matches(f, g) for f in found[:k]) for g in gold) / len(gold)
    return figures


def _summary(entries: list[dict], ks: Sequence[int], threshold: float | None) -> dict:
    """Ranking figures over documents with a gold pair; document ROC-AUC and threshold figures over all."""
    from sklearn.metrics import roc_auc_score

    from .metrics import expected_calibration_error

    ranked = [e["figures"] for e in entries if e["gold"]]
    out = {"n_docs": len(entries), "n_with_contradictions": len(ranked)}
    if ranked:
        out["mrr"] = json_number(np.mean([d["reciprocal_rank"] for d in ranked]))
        out["precision_at"] = {str(k): json_number(np.mean([d[f"precision@{k}"] for d in ranked])) for k in ks}
        out["recall_at"] = {str(k): json_number(np.mean([d[f"recall@{k}"] for d in ranked])) for k in ks}
    else:
        out.update(mrr=None, precision_at={}, recall_at={})
    has = np.array([bool(e["gold"]) for e in entries])
    tops = np.array([e["top_score"] for e in entries])
    out["doc_roc_auc"] = json_number(roc_auc_score(has, tops)) if 0 < has.sum() < len(has) else None
    if threshold is not None:
        scores = np.concatenate([e["scores"] for e in entries]) if entries else np.zeros(0)
        hits = np.concatenate([e["relevant"] for e in entries]) if entries else np.zeros(0, dtype=bool)
        kept = scores >= threshold
        gold_total = sum(len(e["gold"]) for e in entries)
        gold_found = sum(sum(any(pair_matches(f, g) for f, sc in zip(e["found"], e["scores"]) if sc >= threshold)
                             for g in e["gold"]) for e in entries)
        consistent = [e["top_score"] < threshold for e in entries if not e["gold"]]
        out.update(threshold=threshold,
                   precision=json_number(hits[kept].mean()) if kept.any() else None,
                   recall=json_number(gold_found / gold_total) if gold_total else None,
                   consistent_below_threshold=json_number(np.mean(consistent)) if consistent else None,
                   pair_ece=json_number(expected_calibration_error(scores, hits)) if len(scores) else None)
    return out


def compute_doc_metrics(results: Sequence[dict], ks: Sequence[int] = DOC_KS, threshold: float | None = None) -> dict:
    """Ranking metrics over documents.

    Each result has `gold` (list of (span, span)), `found` (ranked list of (span, span), every scored pair
    or the reported ones) and `scores` (same order); optional `id`, `lang`, `variant`.  precision@k
    (denominator k), recall@k and MRR are averaged over the documents with a gold contradiction;
    doc_roc_auc ranks all documents by their top score for "has a contradiction".  With `threshold`:
    pair-level precision and recall of what would be reported, the share of consistent documents whose
    top score is under it, and the pair-level ECE of the score read as "is a gold pair".
    """
    entries = []
    for r in results:
        relevant = [any(pair_matches(f, g) for g in r["gold"]) for f in r["found"]]
        entry = {"id": r.get("id"), "lang": r.get("lang"), "variant": r.get("variant"), "gold": r["gold"],
                 "found": r["found"], "scores": np.asarray(r["scores"], dtype=float),
                 "relevant": np.asarray(relevant, dtype=bool),
                 "top_score": float(r["scores"][0]) if len(r["scores"]) else 0.0}
        if r["gold"]:
            entry["figures"] = _doc_figures(r["gold"], relevant, r["found"], ks)
        entries.append(entry)
    metrics = _summary(entries, ks, threshold)
    for field, key in (("lang", "per_language"), ("variant", "per_variant")):
        values = sorted({e[field] for e in entries if e[field]})
        metrics[key] = {v: _summary([e for e in entries if e[field] == v], ks, threshold) for v in values}
    if metrics["per_language"]:
        # every language counts once: an average over documents would let a big language hide a broken one
        langs = metrics["per_language"].values()
        metrics["language_mean"] = {"mrr": _mean([v["mrr"] for v in langs]),
                                    "precision@1": _mean([v["precision_at"].get("1") for v in langs]),
                                    "recall@5": _mean([v["recall_at"].get("5") for v in langs])}
    metrics["documents"] = [{"id": e["id"], "lang": e["lang"], "variant": e["variant"], "gold": len(e["gold"]),
                             "found": len(e["found"]), "top_score": json_number(e["top_score"]),
                             **({"first_hit_rank": e["figures"]["first_hit_rank"]} if e["gold"] else {})}
                            for e in entries]
    return metrics


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return json_number(np.mean(values)) if values else None


def statement_span(statement, offset_b: int) -> Span:
    # a gold side may mark the claim or anything in its sentence (source, verb of saying)
    start, end = min(statement.start, statement.sentence_start), max(statement.end, statement.sentence_end)
    return (start + offset_b, end + offset_b) if statement.doc == 1 else (start, end)


def score_docs(docs: Sequence[dict], detector, show_progress_bar: bool | None = None) -> list:
    """Each document segmented, paired and scored once (`Detector.scored`), ready for any ranker."""
    from tqdm.auto import tqdm

    items = ((d["text"], d.get("text_b"), d.get("lang")) for d in docs)
    progress = tqdm(total=len(docs), desc="documents", unit="doc",
                    disable=not (len(docs) > 20 if show_progress_bar is None else show_progress_bar))
    scored = []
    with progress:
        for one in detector.scored(items):
            scored.append(one)
            progress.update()
    return scored


def ranked_results(docs: Sequence[dict], scored: Sequence, ranker) -> list[dict]:
    """Every scored pair of each document ranked by `ranker`, pairs ambiguous by construction left out."""
    from ..pipeline.ranking import rank

    results = []
    for doc, one in zip(docs, scored):
        offset_b = len(doc["text"]) + 1
        found = rank(one.statements, one.pairs, one.probs_ab, one.probs_ba, threshold=0.0, ranker=ranker,
                     reverse_scored=one.reverse_scored)
        spans, scores = [], []
        for c in found:
            pair = (statement_span(c.a, offset_b), statement_span(c.b, offset_b))
            if gold_or_left_out(doc, pair) is None:
                continue
            spans.append(pair)
            scores.append(c.score)
        results.append({"id": doc["id"], "lang": doc.get("lang"), "variant": doc.get("variant"), "gold": doc["gold"],
                        "found": spans, "scores": scores})
    return results


def evaluate_docs(source, detector_or_model="default", ks: Sequence[int] = DOC_KS, device: str | None = None,
                  batch_size: int = BATCH_SIZE, model_options: dict | None = None,
                  show_progress_bar: bool | None = None, rankers: Sequence | None = None) -> dict:
    """Run the detector on labelled documents (every scored pair ranked) and compute `compute_doc_metrics`.

    `rankers`: names or objects as Detector's `ranker` takes them ("default", "rules", a ranker.json); each
    ranks the same model scores.  One ranker (the detector's own when None): its metrics; several:
    {"rankers": {name: metrics}}.  A detector passed in is used as it is, never changed."""
    from ..pipeline.detector import Detector
    from ..pipeline.ranking import resolve_ranker

    docs = load_docs(source)
    if isinstance(detector_or_model, (str, Path)):
        detector = Detector(str(detector_or_model), device=device, batch_size=batch_size, show_progress_bar=False,
                            **(model_options or {}))
    else:
        detector = detector_or_model
    scored = score_docs(docs, detector, show_progress_bar)
    chosen = [(detector.ranker.name, detector.ranker)] if rankers is None else \
        [(str(r), resolve_ranker(r, getattr(detector.scorer, "path", None))) for r in rankers]
    by_name = {}
    for spec, ranker in chosen:
        metrics = compute_doc_metrics(ranked_results(docs, scored, ranker), ks, threshold=ranker.threshold)
        metrics["model"] = getattr(detector, "model_name", None)
        metrics["ranker"] = ranker.name
        # two learned rankers (two files) or "default" that is the rules for this model keep apart
        name = ranker.name if all(r.name != ranker.name or s == spec for s, r in chosen) else f"{ranker.name} ({spec})"
        by_name[name] = metrics
    return next(iter(by_name.values())) if len(by_name) == 1 else {"rankers": by_name}


def format_doc_metrics(m: dict) -> str:
    if "rankers" in m:
        return format_rankers_side_by_side(m["rankers"])
    ks = list(m["precision_at"])
    lines = [f"{m.get('model') or 'model'} ({m.get('ranker', 'ranker')}): {m['n_docs']} documents, "
             f"{m['n_with_contradictions']} with a contradiction",
             f"MRR {format_number(m['mrr'])}   document ROC-AUC {format_number(m['doc_roc_auc'])}"]
    if m.get("threshold") is not None:
        lines.append(f"at threshold {m['threshold']:.3g}: precision {format_number(m['precision'])}   recall "
                     f"{format_number(m['recall'])}   consistent documents under it "
                     f"{format_number(m['consistent_below_threshold'])}   pair ECE {format_number(m['pair_ece'])}")
    lines += ["k            " + "".join(f"{k:>8}" for k in ks),
              "precision@k  " + "".join(f"{format_number(m['precision_at'][k]):>8}" for k in ks),
              "recall@k     " + "".join(f"{format_number(m['recall_at'][k]):>8}" for k in ks)]
    for key, title in (("per_language", "language"), ("per_variant", "variant")):
        if m.get(key):
            lines += ["", f"{title:<10}{'docs':>6}{'P@1':>8}{'R@5':>8}{'MRR':>8}{'AUC':>8}"]
            lines += [f"{name:<10}{v['n_docs']:>6}{format_number(v['precision_at'].get('1')):>8}"
                      f"{format_number(v['recall_at'].get('5')):>8}{format_number(v['mrr']):>8}"
                      f"{format_number(v['doc_roc_auc']):>8}" for name, v in m[key].items()]
    return "\n".join(lines)


def format_rankers_side_by_side(by_ranker: dict) -> str:
    """Per language: P@1, R@5, MRR and document ROC-AUC of each ranker, then the overall lines."""
    names = list(by_ranker)
    first = by_ranker[names[0]]
    header = f"{'language':<10}{'docs':>6}" + "".join(f"{n[:7] + ' ' + f:>14}" for n in names
                                                       for f in ("P@1", "R@5", "MRR", "AUC"))
    lines = [header]

    def row(label, per):
        cells = []
        for n in names:
            v = per(by_ranker[n])
            cells += [v["precision_at"].get("1"), v["recall_at"].get("5"), v["mrr"], v["doc_roc_auc"]]
        return f"{label:<10}{per(first)['n_docs']:>6}" + "".join(f"{format_number(c):>14}" for c in cells)

    for lang in first.get("per_language", {}):
        lines.append(row(lang, lambda m, lang=lang: m["per_language"][lang]))
    for variant in first.get("per_variant", {}):
        lines.append(row(variant, lambda m, variant=variant: m["per_variant"][variant]))
    lines.append(row("all", lambda m: m))
    for n in names:
        m = by_ranker[n]
        mean = m.get("language_mean", {})
        lines.append(f"{n}: language-mean P@1 {format_number(mean.get('precision@1'))}, threshold "
                     f"{m.get('threshold', 0):.3g}: precision {format_number(m.get('precision'))}, recall "
                     f"{format_number(m.get('recall'))}, consistent under it "
                     f"{format_number(m.get('consistent_below_threshold'))}, pair ECE {format_number(m.get('pair_ece'))}")
    return "\n".join(lines)

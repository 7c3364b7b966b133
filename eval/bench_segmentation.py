"""Sentence segmentation choices measured on our own gold-segmented texts (data/segmentation_gold.jsonl).

    python eval/bench_segmentation.py

Compares a plain punctuation regex, sentencex as it comes, and contradict's segmenter (sentencex plus
repairs after abbreviations and before lower-case continuations): boundary precision, recall, F1 and
the share of texts segmented exactly right, per language.
"""
from __future__ import annotations

import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import sentencex

from contradict.pipeline.statements import sentence_spans

GOLD = Path(__file__).resolve().parent.parent / "data" / "segmentation_gold.jsonl"


def regex_spans(text: str, lang: str):
    spans, start = [], 0
    for match in re.finditer(r"[.!?]+[\"”»]?\s+(?=[A-ZĂÂÎȘȚÄÖÜÉ„\"«¿¡])", text):
        spans.append((start, match.end()))
        start = match.end()
    spans.append((start, len(text)))
    return spans


def sentencex_spans(text: str, lang: str):
    return [(b["start_index"], b["end_index"]) for b in sentencex.get_sentence_boundaries(lang, text)]


def boundaries(text: str, spans) -> set[int]:
    """Sentence ends, as offsets of the last non-space character (the text end excluded)."""
    ends = set()
    for _, end in spans:
        while end > 0 and text[end - 1].isspace():
            end -= 1
        if end < len(text.rstrip()):
            ends.add(end)
    return ends


def main() -> int:
    rows = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    methods = {"regex": regex_spans, "sentencex": sentencex_spans, "contradict": sentence_spans}
    print(f"{'method':12s} {'lang':4s} {'texts':>5s} {'P':>6s} {'R':>6s} {'F1':>6s} {'exact':>6s}")
    for name, method in methods.items():
        tally = defaultdict(lambda: [0, 0, 0, 0, 0])  # tp, predicted, gold, exact, texts
        for row in rows:
            text = " ".join(row["sentences"])
            gold = boundaries(text, _gold_spans(row["sentences"]))
            predicted = boundaries(text, method(text, row["lang"]))
            for key in (row["lang"], "all"):
                t = tally[key]
                t[0] += len(gold & predicted)
                t[1] += len(predicted)
                t[2] += len(gold)
                t[3] += gold == predicted
                t[4] += 1
        for lang, (tp, pred, gold, exact, texts) in sorted(tally.items(), key=lambda kv: kv[0] == "all"):
            p = tp / pred if pred else 1.0
            r = tp / gold if gold else 1.0
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            print(f"{name:12s} {lang:4s} {texts:5d} {p:6.3f} {r:6.3f} {f1:6.3f} {exact / texts:6.3f}")
    return 0


def _gold_spans(sentences):
    spans, pos = [], 0
    for s in sentences:
        spans.append((pos, pos + len(s)))
        pos += len(s) + 1
    return spans


if __name__ == "__main__":
    sys.exit(main())

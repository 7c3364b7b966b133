"""`score` jobs: premise/hypothesis records in, label probabilities out."""
from __future__ import annotations

from ..labels import LABELS
from .records import RowError, text_field
from .runner import Process


def pair_fields(fields: dict) -> dict:
    """Validate one record of a score job: non-empty premise and hypothesis text, optional id."""
    row = {name: text_field(fields, name) for name in ("premise", "hypothesis")}
    for name, value in row.items():
        if not value.strip():
            raise RowError(f"field {name!r} is empty")
    if "id" in fields:
        row["id"] = fields["id"]
    return row


def score_rows(items: list[tuple[int, dict]], probs) -> list[dict]:
    """Output rows: line, id, one probability per label and the arg-max label."""
    rows = []
    for (line, fields), p in zip(items, probs):
        row = {"line": line}
        if "id" in fields:
            row["id"] = fields["id"]
        row.update({label: round(float(v), 6) for label, v in zip(LABELS, p)})
        row["label"] = LABELS[int(p.argmax())]
        rows.append(row)
    return rows


def local_scoring(scorer, batch_size: int) -> Process:
    """Score each chunk in this process with `scorer` (an NLIScorer or anything with its `predict`)."""
    def process(items):
        pairs = [(f["premise"], f["hypothesis"]) for _, f in items]
        return score_rows(items, scorer.predict(pairs, batch_size=batch_size, show_progress_bar=False))

    return process

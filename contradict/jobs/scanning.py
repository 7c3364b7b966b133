"""`scan-batch` jobs: documents in, each document's contradictions out (Detector.pipe batches them)."""
from __future__ import annotations

from .records import RowError, text_field
from .runner import Process, Validate


def document_fields(detector, default_lang: str | None) -> Validate:
    """Validate one record of a scan job: text within the detector's size limit, optional lang and id."""
    def validate(fields: dict) -> dict:
        row = {"text": text_field(fields, "text"), "lang": text_field(fields, "lang", required=False) or default_lang}
        if len(row["text"]) > detector.max_chars:
            raise RowError(f"the text has {len(row['text']):,} characters; the limit is {detector.max_chars:,}")
        if "id" in fields:
            row["id"] = fields["id"]
        return row

    return validate


def scan_documents(detector) -> Process:
    """Each chunk's documents through `detector.pipe`, their pairs scored in shared batches."""
    def process(items):
        found_per_doc = detector.pipe([(fields["text"], fields["lang"]) for _, fields in items])
        rows = []
        for (line, fields), found in zip(items, found_per_doc):
            row = {"line": line}
            if "id" in fields:
                row["id"] = fields["id"]
            row.update(lang=fields["lang"], statements=found.stats.statements, pairs_scored=found.stats.pairs_scored,
                       contradictions=[c.to_dict() for c in found])
            rows.append(row)
        return rows

    return process

"""Labelled pairs from anywhere: TSV/CSV/JSONL/JSON files, named data sets, DataFrames, `datasets`."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ContradictError, InputError
from ..files import read_jsonl
from ..labels import normalise_labels

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


def read_json_rows(text: str, name: str, lines: bool) -> pd.DataFrame:
    if lines:
        try:
            rows = read_jsonl(text, name)
        except InputError as exc:
            raise ContradictError(str(exc)) from None
    else:
        try:
            rows = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ContradictError(f"{name}: invalid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise ContradictError(f"{name}: expected a list of objects with premise, hypothesis and label")
    return pd.DataFrame(rows)


def _read_file(path: Path, wanted: set[str]) -> pd.DataFrame:
    from ..files import read_text

    text = read_text(str(path))
    suffix = path.suffix.lower()
    if not text.strip():
        raise ContradictError(f"{path}: the file is empty")
    if suffix in (".jsonl", ".ndjson"):
        return read_json_rows(text, str(path), lines=True)
    if suffix == ".json":
        return read_json_rows(text, str(path), lines=False)
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

    `source`: a TSV/CSV/JSONL/JSON path, a name from `contradict.evaluation.datasets.LOADERS`, a DataFrame,
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

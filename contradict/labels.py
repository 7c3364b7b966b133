"""The NLI label vocabulary: its order, its spellings across data sets and models, `k=v` option lists.

Every part of the package that names a label imports it from here, so probabilities, data sets,
checkpoints and caches agree on one order: entailment, neutral, contradiction.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

from .errors import ContradictError

LABELS = ("entailment", "neutral", "contradiction")
LABEL_IDS = {label: i for i, label in enumerate(LABELS)}
CONTRADICTION = LABEL_IDS["contradiction"]
ENTAILMENT = LABEL_IDS["entailment"]
NEUTRAL = LABEL_IDS["neutral"]

_SPELLINGS = {
    "entailment": "entailment entailed entails entail e ent implication support supports supported",
    "neutral": "neutral n neu neutre unrelated not_enough_info nei",
    "contradiction": "contradiction contradicts contradict contradictory contradicted c con contra "
                     "refutes refute refuted",
}
_SPELLING = {word: label for label, words in _SPELLINGS.items() for word in words.split()}
LABEL_VALUES_HINT = "--label-values 0=entailment,1=neutral,2=contradiction"
LABEL_MAP_HINT = "--label-map LABEL_0=entailment,LABEL_1=neutral,LABEL_2=contradiction"


def label_key(value) -> str:
    """How a raw label is looked up: lower case, spaces and hyphens as underscores, 2.0 as 2."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return re.sub(r"[\s-]+", "_", str(value).strip().lower())


def canonical(value, where: str) -> str:
    """`value` in any known spelling -> one of LABELS; a one-line error naming `where` otherwise."""
    label = _SPELLING.get(label_key(value))
    if label is None:
        raise ContradictError(f"{where}: {value!r} is not one of {', '.join(LABELS)}")
    return label


def spelled(value) -> str | None:
    """The label a known spelling stands for, or None."""
    return _SPELLING.get(label_key(value))


def parse_assignments(spec: str | dict | None, option: str, what: str = "NAME=value") -> dict[str, str]:
    """'a=1,b=2' (or a dict) -> {'a': '1', 'b': '2'}; `option` names the flag in the error message."""
    if not spec:
        return {}
    if isinstance(spec, dict):
        return {str(k).strip(): str(v).strip() for k, v in spec.items()}
    pairs = {}
    for item in spec.split(","):
        if not item.strip():
            continue
        if "=" not in item:
            raise ContradictError(f"{option} item {item!r} is not {what}")
        key, value = item.split("=", 1)
        pairs[key.strip()] = value.strip()
    return pairs


def parse_label_values(spec: str | dict | None) -> dict[str, str]:
    """Gold-label values of a data file: '0=entailment,1=neutral,2=contradiction' -> {raw key: label}."""
    return {label_key(raw): canonical(label, "--label-values")
            for raw, label in parse_assignments(spec, "--label-values", "VALUE=label").items()}


def parse_label_map(spec: str | dict | None) -> dict[str, str] | None:
    """A checkpoint's output names: 'LABEL_0=entailment,...' -> {model label: canonical label}."""
    pairs = parse_assignments(spec, "--label-map", "NAME=label")
    return {name: canonical(label, "--label-map") for name, label in pairs.items()} or None


def normalise_labels(values: Iterable, label_values: str | dict | None = None) -> list[str]:
    """Gold labels in any spelling or casing -> entailment / neutral / contradiction.

    Integers need a declared mapping (`label_values`): conventions differ between data sets.
    Unknown values are an error that lists them; no row is dropped silently.
    """
    declared = parse_label_values(label_values)
    labels, unknown = [], Counter()
    for value in values:
        key = label_key(value)
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


def label_indices(y_true: Iterable):
    """Label names (any spelling) or indices into LABELS -> a numpy array of indices."""
    import numpy as np

    by_index = {str(i): label for i, label in enumerate(LABELS)}
    return np.array([LABEL_IDS[label] for label in normalise_labels(y_true, by_index)], dtype=int)


def map_model_labels(id2label: dict, overrides: dict | None = None) -> list[int]:
    """For each of LABELS, the model's output index.  Raises with advice when unmappable."""
    overrides = {label_key(k): v for k, v in (overrides or {}).items()}
    index: dict[str, int] = {}
    for idx, raw in id2label.items():
        target = overrides.get(label_key(raw)) or overrides.get(str(idx)) or spelled(raw)
        if target is not None:
            index[canonical(target, "label_map")] = int(idx)
    missing = [label for label in LABELS if label not in index]
    if missing:
        shown = ", ".join(f"{k}: {v}" for k, v in sorted(id2label.items(), key=lambda kv: int(kv[0])))
        raise ContradictError(
            f"cannot map the model's labels ({shown}) to {'/'.join(LABELS)}; missing {', '.join(missing)}. "
            "Pass label_map={'LABEL_0': 'entailment', 'LABEL_1': 'neutral', 'LABEL_2': 'contradiction'} "
            f"(CLI: {LABEL_MAP_HINT})")
    return [index[label] for label in LABELS]

"""Temperature scaling: one number that makes the model's confidence honest, fitted on held-out pairs."""
from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Iterable

import numpy as np

from ..defaults import BATCH_SIZE
from ..errors import ContradictError
from ..labels import label_indices
from ..nli.scorer import softmax
from .data import load_pairs, select_rows
from .metrics import json_number, expected_calibration_error
from .pairs import describe_source, make_scorer


def negative_log_likelihood(logits: np.ndarray, y: np.ndarray, temperature: float = 1.0) -> float:
    from scipy.special import log_softmax

    logp = log_softmax(np.asarray(logits, dtype=float) / temperature, axis=1)
    return float(-logp[np.arange(len(y)), y].mean())


TEMPERATURE_BOUNDS = (0.05, 20.0)


def fit_temperature(logits: np.ndarray, y_true: Iterable, bounds: tuple[float, float] = TEMPERATURE_BOUNDS) -> float:
    """The T minimising the NLL of softmax(logits / T); searched on log T, where the NLL is smooth."""
    from scipy.optimize import minimize_scalar

    y = label_indices(y_true)
    result = minimize_scalar(lambda log_t: negative_log_likelihood(logits, y, math.exp(log_t)),
                             bounds=(math.log(bounds[0]), math.log(bounds[1])), method="bounded",
                             options={"xatol": 1e-4})
    return float(math.exp(result.x))


def calibrate(scorer_or_model, source, *, split: str | None = None, data_dir=None, out=None,
              holdout: float = 0.3, seed: int = 0, langs=None, limit: int | None = None,
              sample_every: int | None = None, columns: dict | None = None, label_values=None,
              batch_size: int = BATCH_SIZE, device: str | None = None,
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
    scorer = make_scorer(scorer_or_model, device=device, **(model_options or {}))
    target = Path(out) if out else Path(scorer.path)
    if not out and not target.is_dir():
        raise ContradictError(f"{scorer.path} is not a local model directory: pass --out DIR")
    logits = scorer.logits(list(zip(frame["premise"], frame["hypothesis"])), batch_size=batch_size,
                           show_progress_bar=show_progress_bar).astype(float)
    y = label_indices(frame["label"])
    order = np.random.default_rng(seed).permutation(len(frame))
    held, fit = order[:n_held], order[n_held:]
    temperature = fit_temperature(logits[fit], y[fit])

    def ece(t):
        probs = softmax(logits[held], t)
        return expected_calibration_error(probs.max(axis=1), probs.argmax(axis=1) == y[held])

    record = {"temperature": round(temperature, 6),
              "fitted_on": {"source": describe_source(source, split), "rows": int(len(fit)), "seed": seed},
              "heldout_rows": int(n_held),
              "ece_before": json_number(ece(1.0)), "ece_after": json_number(ece(temperature)),
              "nll_before": json_number(negative_log_likelihood(logits[held], y[held])),
              "nll_after": json_number(negative_log_likelihood(logits[held], y[held], temperature)),
              "model": getattr(scorer, "name", None)}
    if any(abs(math.log(temperature / bound)) < 0.01 for bound in TEMPERATURE_BOUNDS):
        # the optimum lies outside the search range: the model is near-constant or the labels near-random
        record["warning"] = "the fitted temperature is at the edge of the search range; check model and data"
    if write:
        target.mkdir(parents=True, exist_ok=True)
        (target / "calibration.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
        record["path"] = str(target / "calibration.json")
    return record

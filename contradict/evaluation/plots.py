"""Confusion matrix, precision-recall curve and reliability diagram, drawn headless."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..labels import CONTRADICTION, LABELS, label_indices
from .metrics import ECE_BINS, compute_metrics, expected_calibration_error, reliability_bins


def _axes(ax=None, size=(5, 4)):
    """The given axes, or fresh ones on an Agg canvas (no pyplot state, safe headless)."""
    if ax is not None:
        return ax.figure, ax
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=110)
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot()


def _finish(fig, ax, xlabel: str, ylabel: str, title: str, top: float = 1.0):
    """Unit axes, labelled: both curves live on [0, 1] x [0, 1]."""
    ax.set_xlim(0, 1)
    ax.set_ylim(0, top)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    fig.tight_layout()
    return fig


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
    gold = label_indices(y_true) == CONTRADICTION
    scores = np.asarray(probs)[:, CONTRADICTION]
    if gold.any():
        precision, recall, _ = precision_recall_curve(gold, scores)
        ap = average_precision_score(gold, scores)
        ax.plot(recall, precision, label=f"{label + ' ' if label else ''}AP {ap:.3f}")
        if not any(line.get_label() == "base rate" for line in ax.lines):  # once when curves are overlaid
            ax.axhline(gold.mean(), color="grey", linestyle=":", linewidth=1, label="base rate")
        ax.legend(loc="upper right", fontsize=8)
    return _finish(fig, ax, "recall (contradiction)", "precision", "Contradiction vs rest", top=1.02)


def plot_reliability(y_true, probs, ax=None, label=None, bins: int = ECE_BINS):
    fig, ax = _axes(ax)
    probs = np.asarray(probs)
    confidence, correct = probs.max(axis=1), probs.argmax(axis=1) == label_indices(y_true)
    table = reliability_bins(confidence, correct, bins)
    ece = expected_calibration_error(confidence, correct, bins)
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    ax.plot([b["confidence"] for b in table], [b["accuracy"] for b in table], marker="o",
            label=f"{label + ' ' if label else ''}ECE {ece:.3f}")
    ax.legend(loc="upper left", fontsize=8)
    return _finish(fig, ax, "confidence (max probability)", "accuracy", "Reliability")


def write_plots(y_true, probs, out_dir) -> list[Path]:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, plot in (("confusion_matrix.png", plot_confusion), ("pr_curve.png", plot_pr_curve),
                       ("reliability.png", plot_reliability)):
        plot(y_true, probs).savefig(out / name)
        written.append(out / name)
    return written

"""Evaluation harness: data sets, metrics, plots, labelled pairs, labelled documents, calibration.

    import contradict.evaluation as ev
    result = ev.evaluate_pairs("xnli", "default", sample_every=10)
    print(result.to_text())
"""
from .calibration import calibrate, fit_temperature, negative_log_likelihood
from .data import load_pairs, select_rows
from .documents import compute_doc_metrics, evaluate_docs, format_doc_metrics, load_docs, pair_matches
from .metrics import breakdowns, compute_metrics, expected_calibration_error, reliability_bins
from .pairs import Evaluation, evaluate_pairs, format_metrics, make_scorer
from .plots import plot_confusion, plot_pr_curve, plot_reliability, write_plots

__all__ = ["calibrate", "fit_temperature", "negative_log_likelihood", "load_pairs", "select_rows",
           "compute_doc_metrics", "evaluate_docs", "format_doc_metrics", "load_docs", "pair_matches", "breakdowns",
           "compute_metrics", "expected_calibration_error", "reliability_bins", "Evaluation", "evaluate_pairs",
           "format_metrics", "make_scorer", "plot_confusion", "plot_pr_curve", "plot_reliability", "write_plots"]

"""Evaluation harness: data sets, metrics, plots, labelled pairs, labelled documents, calibration."""

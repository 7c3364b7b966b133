"""Batch jobs over large files: streaming, crash-safe, resumable; local or on Ray."""

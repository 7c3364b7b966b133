"""Fine-tuning the embedded model and tracing what each run saw."""

"""The NLI layer: presets, checkpoint loading, the embedded e5 model, scoring, ONNX, the score cache."""

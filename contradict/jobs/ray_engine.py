"""`score --engine ray`: each chunk a Ray Data `map_batches` job, one model replica per actor."""
from __future__ import annotations

from ..errors import ContradictError
from .runner import Process
from .scoring import score_rows


class RayScorer:
    """One model replica per Ray actor: `map_batches` builds it once and calls it per batch."""

    def __init__(self, model: str, options: dict, batch_size: int, threads: int | None):
        from ..nli.hf import set_threads
        from ..nli.scorer import NLIScorer

        set_threads(threads)  # the actor is its own process: its entry point is here
        self.scorer = NLIScorer(model, **options)
        self.batch_size = batch_size

    def __call__(self, batch: dict) -> dict:
        pairs = list(zip(batch["premise"], batch["hypothesis"]))
        probs = self.scorer.predict(pairs, batch_size=self.batch_size, show_progress_bar=False)
        return {"line": batch["line"], "probs": probs}


def ray_scoring(model: str, options: dict, batch_size: int, threads: int | None = None,
                workers: int | None = None, address: str | None = None) -> Process:
    """A chunk processor that scores on a Ray cluster (`address`, else $RAY_ADDRESS, else a local one)."""
    try:
        import ray
    except ImportError:
        raise ContradictError("--engine ray needs Ray: pip install 'contradict[ray]'") from None
    import numpy as np

    if not ray.is_initialized():
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    gpus = 1 if (options.get("device") or "").startswith("cuda") else 0
    cpus = threads or 1
    resources = ray.cluster_resources()
    if gpus and resources.get("GPU", 0) < 1:
        raise ContradictError("--device cuda, but the Ray cluster has no GPU")
    workers = workers or max(1, int(resources.get("GPU", 0) if gpus else resources.get("CPU", 1) // cpus))

    def process(items):
        lines = {line: fields for line, fields in items}
        ds = ray.data.from_items([{"line": line, "premise": f["premise"], "hypothesis": f["hypothesis"]}
                                  for line, f in items])
        scored = ds.map_batches(RayScorer, fn_constructor_kwargs=dict(model=model, options=options,
                                                                      batch_size=batch_size, threads=threads),
                                batch_size=max(256, batch_size * 8), batch_format="numpy",
                                concurrency=workers, num_gpus=gpus, num_cpus=cpus)
        got_lines, got_probs = [], []
        for batch in scored.iter_batches(batch_size=None, batch_format="numpy"):
            got_lines.append(batch["line"])
            got_probs.append(batch["probs"])
        order_lines = np.concatenate(got_lines)
        probs = np.concatenate(got_probs)
        order = np.argsort(order_lines, kind="stable")  # actors finish out of order; the file must not
        return score_rows([(int(order_lines[i]), lines[int(order_lines[i])]) for i in order], probs[order])

    return process

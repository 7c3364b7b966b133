"""A micro-batcher: pairs from concurrent requests are scored together, in one worker thread.

Scoring a handful of pairs costs nearly as much as scoring a full batch, so the worker waits a few
milliseconds for company, then hands every queued pair (up to one round) to the scorer in a single
`predict` call; the scorer sorts them by token length and pads each batch only to its longest pair.
A round takes at most one batch from each waiting job in turn, so a long scan cannot starve a short
request that arrived after it.  The queue is bounded in pairs: a full queue refuses new work
(`QueueFull`, answered with 503) instead of piling up memory.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from concurrent.futures import Future
from typing import Callable, Sequence

import numpy as np

from contradict.defaults import BATCH_SIZE


class QueueFull(Exception):
    """The batcher holds as many pairs as it may; try again shortly."""


class _Job:
    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs
        self.future: Future = Future()
        self.probs: np.ndarray | None = None
        self.taken = 0  # pairs handed to the scorer so far
        self.scored = 0

    def remaining(self) -> int:
        return len(self.pairs) - self.taken


class MicroBatcher:
    """Scores (premise, hypothesis) pairs with `predict(pairs) -> (n, k) array` in one thread.

    `batch_size`: pairs one job contributes to a round per turn; `round_pairs`: most pairs per
    `predict` call; `max_wait`: seconds the worker waits for more pairs before scoring a partial round;
    `max_queued`: most pairs waiting at once.
    """

    def __init__(self, predict: Callable[[list[tuple[str, str]]], np.ndarray], *, batch_size: int = BATCH_SIZE,
                 round_pairs: int | None = None, max_wait: float = 0.005, max_queued: int = 4096):
        self._predict = predict
        self.batch_size = batch_size
        self.round_pairs = round_pairs or 4 * batch_size
        self.max_wait = max_wait
        self.max_queued = max_queued
        self._jobs: deque[_Job] = deque()
        self._queued = 0
        self._closed = False
        self._cond = threading.Condition()
        self.rounds = 0  # predict calls so far, and the pairs they scored (for /healthz)
        self.pairs_scored = 0
        self._worker = threading.Thread(target=self._run, name="contradict-batcher", daemon=True)
        self._worker.start()

    @property
    def queued_pairs(self) -> int:
        with self._cond:
            return self._queued

    def submit(self, pairs: Sequence[tuple[str, str]], wait_for_room: float | None = None) -> Future:
        """A future of the (n, k) probabilities.  Raises QueueFull when the pairs do not fit, at once or
        after waiting `wait_for_room` seconds for the queue to drain."""
        pairs = list(pairs)
        if len(pairs) > self.max_queued:
            raise QueueFull(f"{len(pairs)} pairs at once is more than the queue holds ({self.max_queued})")
        job = _Job(pairs)
        if not pairs:
            job.future.set_result(np.zeros((0, 0)))
            return job.future
        deadline = None if wait_for_room is None else time.monotonic() + wait_for_room
        with self._cond:
            while self._queued + len(pairs) > self.max_queued and not self._closed:
                left = 0 if deadline is None else deadline - time.monotonic()
                if left <= 0:
                    raise QueueFull(f"the scoring queue is full ({self._queued} of {self.max_queued} pairs)")
                self._cond.wait(left)
            if self._closed:
                raise RuntimeError("the server is shutting down")
            self._jobs.append(job)
            self._queued += len(pairs)
            self._cond.notify_all()
        return job.future

    def score(self, pairs: Sequence[tuple[str, str]], wait_for_room: float | None = None) -> np.ndarray:
        """Blocking `submit`, for worker threads (a Detector's scan)."""
        return self.submit(pairs, wait_for_room).result()

    def close(self, timeout: float = 5.0):
        """Stop the worker; jobs still queued fail."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._worker.join(timeout)

    # -- the worker ---------------------------------------------------------------------------------
    def _take_round(self) -> list[tuple[_Job, int, int]]:
        """Up to round_pairs pairs, one batch per job in turn; called with the lock held."""
        pieces, total = [], 0
        while self._jobs and total < self.round_pairs:
            job = self._jobs.popleft()
            count = min(job.remaining(), self.batch_size, self.round_pairs - total)
            pieces.append((job, job.taken, job.taken + count))
            job.taken += count
            total += count
            if job.remaining():
                self._jobs.append(job)  # its next batch waits behind the other jobs
        self._queued -= total
        self._cond.notify_all()  # room for submitters waiting on a full queue
        return pieces

    def _run(self):
        while True:
            with self._cond:
                while not self._jobs and not self._closed:
                    self._cond.wait()
                if self._closed:
                    break
                deadline = time.monotonic() + self.max_wait
                while self._queued < self.round_pairs and not self._closed:  # a few ms for company
                    left = deadline - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                pieces = self._take_round()
            self._score(pieces)
        with self._cond:
            for job in self._jobs:
                if not job.future.done():
                    job.future.set_exception(RuntimeError("the server is shutting down"))
            self._jobs.clear()

    def _score(self, pieces: list[tuple[_Job, int, int]]):
        pairs = [pair for job, start, stop in pieces for pair in job.pairs[start:stop]]
        try:
            probs = np.asarray(self._predict(pairs))
        except BaseException as exc:  # the requests that shared the round fail; the worker goes on
            with self._cond:
                for job, _, _ in pieces:
                    if not job.future.done():
                        job.future.set_exception(exc)
                    if job in self._jobs:  # its other batches are not worth scoring now
                        self._jobs.remove(job)
                        self._queued -= job.remaining()
                        job.taken = len(job.pairs)
                self._cond.notify_all()
            return
        self.rounds += 1
        self.pairs_scored += len(pairs)
        offset = 0
        for job, start, stop in pieces:
            if job.probs is None:
                job.probs = np.zeros((len(job.pairs), probs.shape[1]), dtype=probs.dtype)
            job.probs[start:stop] = probs[offset:offset + stop - start]
            offset += stop - start
            job.scored += stop - start
            if job.scored == len(job.pairs) and not job.future.done():
                job.future.set_result(job.probs)


class BatchedScorer:
    """Stands in for a Detector's NLIScorer: `predict` sends the pairs through the shared batcher, so the
    pairs of concurrent scans share batches.  Everything else (backend, name, …) is the real scorer's.

    A scan waits for room in the queue (up to `wait_for_room` seconds) rather than failing half-way, and
    submits at most `chunk` pairs at a time so that one long document cannot fill the queue.
    """

    def __init__(self, scorer, batcher: MicroBatcher, chunk: int = 512, wait_for_room: float = 30.0):
        self.scorer = scorer
        self.batcher = batcher
        self.chunk = min(chunk, batcher.max_queued)
        self.wait_for_room = wait_for_room

    def predict(self, pairs, batch_size: int | None = None, show_progress_bar: bool | None = None) -> np.ndarray:
        pairs = list(pairs)
        if not pairs:
            return self.scorer.predict([], batch_size=batch_size or 32, show_progress_bar=False)
        parts = [self.batcher.score(pairs[i:i + self.chunk], self.wait_for_room)
                 for i in range(0, len(pairs), self.chunk)]
        return np.concatenate(parts)

    def __getattr__(self, name):
        return getattr(self.scorer, name)

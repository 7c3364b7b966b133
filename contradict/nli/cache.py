"""A persistent score cache: re-scanning a text costs no model call for pairs seen before.

One SQLite file holds the NLI logits (in `LABELS` order, before the calibration
temperature, so recalibrating a model keeps its cache valid) keyed by

* the model identity: a digest of the weights and config plus everything that
  changes the logits (label order, truncation length, parameter dtype), and
* the SHA-256 of the (premise, hypothesis) text.

The file is opened in WAL mode with a busy timeout, so several threads or
processes (batch jobs, Ray workers on one node) can read and write it at once.
Keep it on a local disk: SQLite locking is unreliable on network file systems.

    scorer = NLIScorer("default", cache="~/.cache/contradict/scores.sqlite")
    Detector(cache="scores.sqlite")          # the same, through the detector
    contradict score pairs.jsonl -o out.jsonl --cache scores.sqlite
"""
from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import ContradictError
from ..files import AFTER_LOGITS_FILES, fingerprint
from ..labels import LABELS

SCHEMA_VERSION = 1
_SQL_VARIABLES = 500  # per IN (...) query: far below every SQLite build's limit
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS models (id INTEGER PRIMARY KEY, identity TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, sha256 TEXT);
CREATE TABLE IF NOT EXISTS scores (
    model INTEGER NOT NULL, pair BLOB NOT NULL, l0 REAL NOT NULL, l1 REAL NOT NULL, l2 REAL NOT NULL,
    PRIMARY KEY (model, pair)) WITHOUT ROWID;
"""


def pair_digest(premise: str, hypothesis: str) -> bytes:
    # the length prefix keeps ("ab", "c") and ("a", "bc") apart
    text = f"{len(premise)}:{premise}{hypothesis}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()


class ScoreCache:
    """SQLite store of NLI logits for any number of models."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path).expanduser()
        self.hits = self.misses = 0
        self._lock = threading.Lock()
        self._conn = None
        self._pid = None
        self._connection()  # fail early on an unusable path

    def _connection(self) -> sqlite3.Connection:
        # a forked child must not reuse its parent's connection
        if self._conn is None or self._pid != os.getpid():
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=60, check_same_thread=False, isolation_level=None)
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable except on power loss
                conn.executescript(_SCHEMA)
                conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
                (version,) = conn.execute("SELECT value FROM meta WHERE name = 'schema'").fetchone()
            except sqlite3.Error as exc:
                raise ContradictError(f"cannot open the score cache {self.path}: {exc}") from None
            if version != str(SCHEMA_VERSION):
                raise ContradictError(f"{self.path} is a score cache of another version ({version}); "
                                      "delete it or pass another --cache file")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def close(self):
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- model identity ---------------------------------------------------------------------------
    def file_sha256(self, path: Path) -> str:
        """Content digest of a weights file, computed once per (path, size, mtime)."""
        stat = path.stat()
        key = str(path.resolve())
        with self._lock:
            row = self._connection().execute("SELECT size, mtime_ns, sha256 FROM files WHERE path = ?",
                                             (key,)).fetchone()
        if row and row[0] == stat.st_size and row[1] == stat.st_mtime_ns:
            return row[2]
        digest = fingerprint([path], content=True, length=64)
        with self._lock:
            self._connection().execute("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?)",
                                       (key, stat.st_size, stat.st_mtime_ns, digest))
        return digest

    def model_id(self, identity: str) -> int:
        with self._lock:
            conn = self._connection()
            conn.execute("INSERT OR IGNORE INTO models (identity) VALUES (?)", (identity,))
            return conn.execute("SELECT id FROM models WHERE identity = ?", (identity,)).fetchone()[0]

    # -- scores -------------------------------------------------------------------------------------
    def lookup(self, model: int, pairs: Sequence[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray]:
        """(logits, found): an (n, 3) array and a boolean mask of the pairs that were cached."""
        digests = [pair_digest(p, h) for p, h in pairs]
        position: dict[bytes, list[int]] = {}
        for i, d in enumerate(digests):
            position.setdefault(d, []).append(i)
        logits = np.zeros((len(pairs), len(LABELS)), dtype=np.float32)
        found = np.zeros(len(pairs), dtype=bool)
        unique = list(position)
        with self._lock:
            conn = self._connection()
            for start in range(0, len(unique), _SQL_VARIABLES):
                part = unique[start:start + _SQL_VARIABLES]
                rows = conn.execute(f"SELECT pair, l0, l1, l2 FROM scores WHERE model = ? AND pair IN "
                                    f"({','.join('?' * len(part))})", (model, *part)).fetchall()
                for digest, *values in rows:
                    logits[position[digest]] = values
                    found[position[digest]] = True
        self.hits += int(found.sum())
        self.misses += int((~found).sum())
        return logits, found

    def store(self, model: int, pairs: Sequence[tuple[str, str]], logits: np.ndarray):
        rows = [(model, pair_digest(p, h), *map(float, values)) for (p, h), values in zip(pairs, logits)]
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")  # one transaction per batch: one fsync, not one per row
            try:
                conn.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?, ?)", rows)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def count(self, model: int | None = None) -> int:
        with self._lock:
            query, args = ("SELECT COUNT(*) FROM scores", ()) if model is None else \
                ("SELECT COUNT(*) FROM scores WHERE model = ?", (model,))
            return self._connection().execute(query, args).fetchone()[0]


class BoundCache:
    """A ScoreCache seen through one model: what NLIScorer uses."""

    def __init__(self, cache: ScoreCache, identity: str):
        self.cache, self.identity = cache, identity
        self.model = cache.model_id(identity)

    def lookup(self, pairs):
        return self.cache.lookup(self.model, pairs)

    def store(self, pairs, logits):
        self.cache.store(self.model, pairs, logits)


def model_identity(cache: ScoreCache, path: str, model, extra: dict) -> str:
    """What makes logits reproducible: weights, config and the scoring options in `extra`."""
    local = Path(path)
    if local.is_dir():
        # a temperature or a ranker applies after the cache
        parts = [f"{f.name}={cache.file_sha256(f)}" for f in sorted(local.iterdir())
                 if f.suffix in (".safetensors", ".json", ".model", ".txt") and f.name not in AFTER_LOGITS_FILES
                 and f.is_file()]
    else:  # a hub model: its commit pins the weights
        revision = getattr(model.config, "_commit_hash", None)
        if not revision:
            raise ContradictError(f"cannot pin {path!r} to a revision for the score cache; "
                                  "use a local model directory")
        parts = [f"hub={path}@{revision}"]
    parts += [f"{k}={v}" for k, v in sorted(extra.items())]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def open_cache(cache: str | os.PathLike | ScoreCache | None, scorer) -> BoundCache | None:
    """The cache `scorer` should use: None (off), a path, or a shared ScoreCache."""
    if cache is None:
        return None
    store = cache if isinstance(cache, ScoreCache) else ScoreCache(cache)
    extra = {"labels": list(scorer.label_index), "max_length": scorer.max_length,
             "dtype": str(next(scorer.model.parameters()).dtype)}
    if getattr(scorer, "backend", "torch") != "torch":  # a lossy backend gives other logits
        extra["backend"] = scorer.backend
    return BoundCache(store, model_identity(store, scorer.path, scorer.model, extra))

"""Defaults shared by the library, the command line and the server, each defined once."""

THRESHOLD = 0.2  # minimum score a contradiction is reported at
NEIGHBORS = 6  # above MAX_EXHAUSTIVE statements: nearest statements by embedding per statement
ANCHORS = 4  # ... plus statements sharing a rare name, number or year
MAX_EXHAUSTIVE = 40  # up to this many statements every pair is scored
BATCH_SIZE = 32
MAX_CHARS = 1_000_000  # ~ 600 pages; beyond that, split the input (scan-batch streams documents)
BENCH_PER_LANGUAGE = {"eval": 200, "fit": 150}  # documents per language of the held-out and the ranker's benchmark
# scans in flight at once in the server: they spend nearly all their time waiting on the shared batcher,
# so more of them let their pairs share batches (eval/bench_serve.py on 2 cores, 16 clients x 5 requests:
# 1.03x one-at-a-time throughput with 2, 1.13x with 8; 1.09x at 16 x 20)
SCAN_WORKERS = 8

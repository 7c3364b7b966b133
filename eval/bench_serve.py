"""Load test of `contradict serve` on loopback: concurrent clients against one request at a time, and
against running the CLI once per text, all in the same run.

    python eval/bench_serve.py                                  # embedded model, 16 clients x 20 requests
    python eval/bench_serve.py --clients 8 --requests 5 --threads 2 --workloads scan,score

Starts the server in a subprocess on 127.0.0.1 (a free port), sends news-sized texts from data/ (our own
documents) to /v1/scan and small batches of their sentence pairs to /v1/score, and prints a table
(p50/p95 latency, requests/s, errors) with summary lines: the concurrent/sequential throughput ratio per
workload, the speed-up over one CLI process per text, and the server's peak RSS.  Exits 1 when any
request failed.  Traffic goes to loopback only.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
HOST = "127.0.0.1"  # the only address this script ever sends to


def news_texts() -> list[str]:
    """Our own news-style documents (data/docs.jsonl) and example articles (data/*.txt)."""
    texts = [json.loads(line)["text"] for line in (DATA / "docs.jsonl").read_text(encoding="utf-8").splitlines()
             if line.strip()]
    texts += [path.read_text(encoding="utf-8") for path in sorted(DATA.glob("*.txt"))]
    return texts


def sentence_pairs(texts: list[str], rng: random.Random) -> list[tuple[str, str]]:
    pairs = []
    for text in texts:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 20]
        pairs += [(a, b) for i, a in enumerate(sentences) for b in sentences[i + 1:]]
    rng.shuffle(pairs)
    return pairs


class Server:
    """`contradict serve` in a subprocess, on a free loopback port."""

    def __init__(self, model: str, backend: str, threads: int | None, timeout: float = 600,
                 scan_workers: int | None = None):
        command = [sys.executable, "-m", "contradict.cli", "serve", "--host", HOST, "--port", "0",
                   "--model", model, "--backend", backend]
        if threads:
            command += ["--threads", str(threads)]
        if scan_workers:
            command += ["--scan-workers", str(scan_workers)]
        env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
        started = time.perf_counter()
        # stderr to a file: a pipe nobody reads would stall the server once it filled up
        self.log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=self.log, text=True, env=env, cwd=ROOT)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(line) for line in self.process.stdout], daemon=True).start()
        try:
            line = lines.get(timeout=timeout)
        except queue.Empty:
            self.stop()
            raise SystemExit(f"the server did not start within {timeout:.0f} s")
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not match:
            self.stop()
            raise SystemExit(f"the server did not start: {line.strip() or self.errors()}")
        self.port = int(match.group(1))
        self.start_seconds = time.perf_counter() - started

    def errors(self) -> str:
        self.log.seek(0)
        return self.log.read().strip()

    def peak_rss_mb(self) -> float | None:
        try:  # the kernel's high-water mark of the server's resident memory
            status = Path(f"/proc/{self.process.pid}/status").read_text()
            return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024
        except (OSError, AttributeError):
            return None

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def post(conn: http.client.HTTPConnection, path: str, body: dict) -> tuple[int, float]:
    data = json.dumps(body).encode("utf-8")
    started = time.perf_counter()
    conn.request("POST", path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    response.read()
    return response.status, time.perf_counter() - started


def batcher_counts(port: int) -> tuple[int, int]:
    """The server's model calls and pairs scored so far (GET /healthz)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    conn.request("GET", "/healthz")
    health = json.loads(conn.getresponse().read())
    conn.close()
    return health["model_calls"], health["pairs_scored"]


def run_clients(port: int, requests: list[list[tuple[str, dict]]]) -> dict:
    """One thread per client, each sending its list of (path, body) one after another."""
    calls_before, pairs_before = batcher_counts(port)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()

    def client(todo):
        conn = http.client.HTTPConnection(HOST, port, timeout=600)
        for path, body in todo:
            try:
                status, seconds = post(conn, path, body)
            except (OSError, http.client.HTTPException) as exc:
                status, seconds = f"{type(exc).__name__}", 0.0
                conn.close()
                conn = http.client.HTTPConnection(HOST, port, timeout=600)
            with lock:
                (latencies.append(seconds) if status == 200 else errors.append(str(status)))
        conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(todo,)) for todo in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    count = sum(map(len, requests))
    calls_after, pairs_after = batcher_counts(port)
    return {"clients": len(requests), "requests": count, "errors": len(errors), "error_kinds": sorted(set(errors)),
            "pairs_per_call": (pairs_after - pairs_before) / max(1, calls_after - calls_before),
            "p50": float(np.percentile(latencies, 50)) if latencies else float("nan"),
            "p95": float(np.percentile(latencies, 95)) if latencies else float("nan"),
            "mean": float(np.mean(latencies)) if latencies else float("nan"),
            "rps": count / wall if wall else float("nan")}


def cli_per_text(texts: list[str], args) -> dict:
    """What each text costs without the server: a fresh `contradict scan` process."""
    seconds, errors = [], 0
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    with tempfile.TemporaryDirectory() as tmp:
        for k, text in enumerate(texts):
            path = Path(tmp) / f"text{k}.txt"
            path.write_text(text, encoding="utf-8")
            command = [sys.executable, "-m", "contradict.cli", "scan", str(path), "--format", "json", "--quiet",
                       "--model", args.model, "--backend", args.backend]
            if args.threads:
                command += ["--threads", str(args.threads)]
            started = time.perf_counter()
            result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
            seconds.append(time.perf_counter() - started)
            errors += result.returncode != 0
    return {"clients": 1, "requests": len(texts), "errors": errors, "error_kinds": [],
            "p50": float(np.percentile(seconds, 50)), "p95": float(np.percentile(seconds, 95)),
            "mean": float(np.mean(seconds)), "rps": len(texts) / sum(seconds), "pairs_per_call": None}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="default", help="preset, hub id or local directory (default: embedded)")
    parser.add_argument("--backend", default="torch")
    parser.add_argument("--threads", type=int, default=None, help="the server's and the CLI's torch threads")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=20, help="requests per client")
    parser.add_argument("--sequential", type=int, default=None,
                        help="send only the first N of the concurrent run's requests one at a time (default: all)")
    parser.add_argument("--scan-workers", type=int, default=None, help="the server's --scan-workers")
    parser.add_argument("--cli-runs", type=int, default=3, help="texts scanned by a CLI process each (0: skip)")
    parser.add_argument("--workloads", default="scan,score", help="scan (whole texts), score (small pair batches)")
    parser.add_argument("--pairs-per-request", type=int, default=4, help="pairs in each /v1/score request")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    if not set(workloads) <= {"scan", "score"} or min(args.clients, args.requests) < 1:
        parser.error("--workloads takes scan and/or score; --clients and --requests at least 1")
    rng = random.Random(args.seed)
    texts = news_texts()
    pairs = sentence_pairs(texts, rng)

    def make_request(workload: str, k: int) -> tuple[str, dict]:
        if workload == "scan":
            return "/v1/scan", {"text": texts[k % len(texts)]}
        start = (k * args.pairs_per_request) % max(1, len(pairs) - args.pairs_per_request)
        return "/v1/score", {"pairs": [list(p) for p in pairs[start:start + args.pairs_per_request]]}

    server = Server(args.model, args.backend, args.threads, scan_workers=args.scan_workers)
    rows = []
    try:
        warm = http.client.HTTPConnection(HOST, server.port, timeout=600)
        for workload in workloads:  # the first calls pay one-off costs (allocations, lazy loads)
            for k in range(2):
                post(warm, *make_request(workload, k))
        warm.close()
        for workload in workloads:
            per_client = [[make_request(workload, c * args.requests + k) for k in range(args.requests)]
                          for c in range(args.clients)]
            # the same requests one at a time: a ratio over different texts would measure the texts
            every = [request for todo in per_client for request in todo]
            one = run_clients(server.port, [every[:args.sequential or len(every)]])
            many = run_clients(server.port, per_client)
            rows += [(workload, "sequential", one), (workload, "concurrent", many)]
        peak = server.peak_rss_mb()
    finally:
        server.stop()
    if args.cli_runs and "scan" in workloads:
        rows.append(("scan", "CLI once per text", cli_per_text(texts[:args.cli_runs], args)))

    print(f"model {args.model}, backend {args.backend}, threads {args.threads or 'default'}, "
          f"server start {server.start_seconds:.1f} s, {os.cpu_count()} CPUs")
    print("| workload | mode | clients | requests | errors | p50 latency | p95 latency | requests/s "
          "| pairs per model call |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for workload, mode, r in rows:
        per_call = "–" if r["pairs_per_call"] is None else f"{r['pairs_per_call']:.1f}"
        print(f"| {workload} | {mode} | {r['clients']} | {r['requests']} | {r['errors']} | {1000 * r['p50']:.0f} ms | "
              f"{1000 * r['p95']:.0f} ms | {r['rps']:.2f} | {per_call} |")
    results = {(w, m): r for w, m, r in rows}
    for workload in workloads:
        ratio = results[(workload, "concurrent")]["rps"] / results[(workload, "sequential")]["rps"]
        print(f"throughput_ratio_{workload}: {ratio:.2f}  (concurrent / sequential requests per second)")
    if ("scan", "CLI once per text") in results:
        cli = results[("scan", "CLI once per text")]
        print(f"speedup_vs_cli_per_text: {cli['mean'] / results[('scan', 'sequential')]['mean']:.1f}  "
              "(one CLI process per text / one server request at a time)")
        print(f"speedup_vs_cli_per_text_concurrent: {results[('scan', 'concurrent')]['rps'] / cli['rps']:.1f}")
    print(f"peak_rss_mb: {peak:.0f}" if peak else "peak_rss_mb: n/a")
    errors = sum(r["errors"] for _, _, r in rows)
    kinds = sorted({k for _, _, r in rows for k in r["error_kinds"]})
    print(f"errors: {errors}" + (f"  ({', '.join(kinds)})" if kinds else ""))
    if errors and server.errors():
        print("server log (end):\n" + server.errors()[-3000:], file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

"""eval/bench_serve.py runs end to end with tiny counts on the tiny model (plumbing, not speed)."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")


def test_bench_serve_prints_its_table_and_counts_no_errors(tiny_model):
    result = subprocess.run([sys.executable, str(ROOT / "eval" / "bench_serve.py"), "--model", tiny_model,
                             "--threads", "1", "--clients", "2", "--requests", "2", "--cli-runs", "1"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600,
                            env=dict(os.environ, OMP_NUM_THREADS="1"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    rows = [line.split("|")[1:-1] for line in lines if line.startswith("| scan") or line.startswith("| score")]
    modes = {(cells[0].strip(), cells[1].strip()) for cells in rows}
    assert modes == {("scan", "sequential"), ("scan", "concurrent"), ("score", "sequential"),
                     ("score", "concurrent"), ("scan", "CLI once per text")}
    assert all(cells[4].strip() == "0" for cells in rows)  # errors column
    concurrent = next(cells for cells in rows if cells[1].strip() == "concurrent")
    assert concurrent[2].strip() == "2" and concurrent[3].strip() == "4"  # 2 clients x 2 requests
    for key in ("throughput_ratio_scan:", "throughput_ratio_score:", "speedup_vs_cli_per_text:", "peak_rss_mb:"):
        assert any(line.startswith(key) for line in lines), key
    assert "errors: 0" in lines

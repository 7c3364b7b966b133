"""The benchmarks run from a fresh clone and print their summary lines (tiny model: plumbing, not speed)."""
import importlib.util
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from contradict.pipeline.statements import segment

ROOT = Path(__file__).resolve().parent.parent


def script(name: str):
    """An eval/ script as a module, loaded from its file (eval/ is not a package and not on sys.path)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "eval" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_scan = script("bench_scan")


def test_scan_documents_have_n_statements_and_real_planted_conflicts():
    text, starts, planted = bench_scan.build_document(120, random.Random(3))
    assert len(starts) == 120 and len(segment(text).statements) >= 120
    assert len(planted) >= 8  # about one statement in six
    sentences = [text[s:e].strip() for s, e in zip(starts, starts[1:] + [len(text)])]
    for i, j in planted:
        a, b = sentences[i].split(), sentences[j].split()
        assert len(a) == len(b) and sum(x != y for x, y in zip(a, b)) == 1  # one figure or year differs


def run(name, *args, timeout=600):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, str(ROOT / "eval" / name), *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.slow
def test_bench_scan_prints_its_table(tiny_model):
    result = run("bench_scan.py", "--model", tiny_model, "--sizes", "30,60", "--exhaustive-up-to", "60")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(line.split("|")[0].strip() == "60" for line in lines)
    for key in ("pairs_per_statement_max:", "recall_top10_min:", "planted_pairs_scored:"):
        assert any(line.startswith(key) for line in lines), key


@pytest.mark.slow
def test_bench_scoring_prints_speedups(tiny_model):
    result = run("bench_scoring.py", "--model", tiny_model, "--pairs", "40", "--backend", "torch")
    assert result.returncode == 0, result.stderr
    assert "speedup_vs_pipeline_default:" in result.stdout and "speedup_vs_pipeline_batched:" in result.stdout


def test_paired_difference_counts_disagreements():
    compare_models = script("compare_models")

    diff, se, disagree = compare_models.paired_difference([1, 1, 0, 0], [1, 0, 1, 1])
    assert diff == pytest.approx(0.25) and disagree == pytest.approx(0.75) and se > 0


def test_ensemble_is_judged_on_the_mean_of_its_models_probabilities():
    compare_models = script("compare_models")
    from contradict.labels import LABELS

    # a errs on the first row, b on the second; their mean is right on both
    model_a = [[0.4, 0.6, 0.0], [0.0, 0.1, 0.9]]
    model_b = [[0.9, 0.1, 0.0], [0.0, 0.6, 0.4]]
    labels = [LABELS[0], LABELS[2]]
    assert compare_models.ensemble_correct([model_a], labels).tolist() == [False, True]
    assert compare_models.ensemble_correct([model_b], labels).tolist() == [True, False]
    assert compare_models.ensemble_correct([model_a, model_b], labels).tolist() == [True, True]
    # probabilities are averaged, not votes counted: two weak wrong answers lose to one sure right one
    weak_wrong, sure_right = [[0.3, 0.7, 0.0]], [[1.0, 0.0, 0.0]]
    assert compare_models.ensemble_correct([weak_wrong, weak_wrong, sure_right], [LABELS[0]]).tolist() == [True]


@pytest.mark.slow
def test_compare_models_on_one_model_finds_no_difference(tiny_model, tmp_path):
    rows = tmp_path / "pairs.jsonl"
    rows.write_text("".join(f'{{"premise": "Podul {i} e închis.", "hypothesis": "Podul {i} e deschis.", '
                            f'"label": "contradiction"}}\n' for i in range(6)), encoding="utf-8")
    result = run("compare_models.py", tiny_model, tiny_model, "--data", str(rows), "--every", "2", "--offset", "1",
                 "--backend", "torch", "--threads", "1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("n=3 ") == 2 and "paired_difference: +0.0000" in result.stdout
    # a model averaged with itself is that model
    ensemble = run("compare_models.py", tiny_model, f"{tiny_model},{tiny_model}", "--data", str(rows), "--every", "2",
                   "--backend", "torch", "--threads", "1")
    assert ensemble.returncode == 0, ensemble.stderr
    assert f"{tiny_model},{tiny_model}: n=3 " in ensemble.stdout and "paired_difference: +0.0000" in ensemble.stdout
    empty = run("compare_models.py", tiny_model, f"{tiny_model},", "--data", str(rows))
    assert empty.returncode == 2 and "empty model name" in empty.stderr and "Traceback" not in empty.stderr
    refused = run("compare_models.py", tiny_model, tiny_model, "--data", str(rows), "--every", "2", "--offset", "2")
    assert refused.returncode == 2 and "--offset" in refused.stderr and "Traceback" not in refused.stderr


def test_bench_pipe_checks_the_rankings_agree_and_prints_the_speedup(tiny_model):
    result = run("bench_pipe.py", "--model", tiny_model, "--docs", "12", "--statements", "4", "--batch-docs", "4")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    calls = {line.split("|")[1].strip(): int(line.split("|")[3]) for line in lines if line.startswith("| find")
             or line.startswith("| pipe")}
    assert calls == {"find, one document at a time": 12, "pipe, 4 documents a batch": 3}
    assert any(line.startswith("speedup_pipe_4_vs_find:") for line in lines)


def test_bench_batching_prints_a_ratio_per_request_size(tiny_model):
    result = run("bench_batching.py", "--model", tiny_model, "--pairs", "24", "--sizes", "1,8", "--round", "24",
                 "--threads", "1")
    assert result.returncode == 0, result.stderr
    rows = [line for line in result.stdout.splitlines() if line.startswith("calls of")]
    assert [int(line.split()[2]) for line in rows] == [1, 8]
    assert all(float(line.rsplit("ratio", 1)[1]) > 0 for line in rows)

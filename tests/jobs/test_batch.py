"""Batch jobs: streaming, malformed rows, resume and crash safety (tiny model, one thread)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from contradict.jobs.resume import DoneLines, drop_torn_tail, errors_path_for
from contradict.cli import main

ROOT = Path(__file__).resolve().parents[2]
SENTENCES = ["Ministrul a declarat că nu există nicio relație.", "The council approved the plan on Monday.",
             "Le directeur a déclaré que l'usine ne fermera pas.", "Laut der Zeitung wurde die Brücke 2021 geschlossen.",
             "Según el diario, el alcalde se reunió con los pescadores."]


def pair_row(i: int) -> dict:
    # varied lengths, so chunks sort and pad differently
    return {"id": f"p{i}", "premise": SENTENCES[i % 5] * (1 + i % 3), "hypothesis": SENTENCES[(i * 7 + 1) % 5]}


def write_pairs(path: Path, n: int, bad: dict[int, str] | None = None) -> Path:
    """n input lines; line numbers in `bad` hold the given raw text instead of a pair."""
    bad = bad or {}
    with path.open("w", encoding="utf-8") as handle:
        for line in range(1, n + 1):
            handle.write(bad.get(line, json.dumps(pair_row(line), ensure_ascii=False)) + "\n")
    return path


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()] if path.exists() else []


def score(tiny_model, *args) -> int:
    return main(["score", *map(str, args), "--model", tiny_model, "--threads", "1", "--quiet"])


MALFORMED = {3: "{not json", 5: json.dumps({"premise": "only a premise"}), 8: json.dumps({"premise": 1, "hypothesis": "x"}),
             10: "[1, 2]", 12: json.dumps({"premise": "  ", "hypothesis": "x"}), 14: "",
             15: json.dumps({"premise": "\ud800 lone", "hypothesis": "x"})}


def test_score_writes_one_row_per_good_line_and_reports_the_rest(tiny_model, tmp_path, capsys):
    src = write_pairs(tmp_path / "pairs.jsonl", 40, MALFORMED)
    out = tmp_path / "scores.jsonl"
    assert score(tiny_model, src, "-o", out, "--chunk-size", "7") == 0
    rows, errors = read_jsonl(out), read_jsonl(tmp_path / "scores.errors.jsonl")
    blank = {14}
    assert [r["line"] for r in rows] == [n for n in range(1, 41) if n not in MALFORMED]
    assert [e["line"] for e in errors] == sorted(set(MALFORMED) - blank)
    assert all(r["id"] == f"p{r['line']}" for r in rows)
    for r in rows:
        assert abs(r["entailment"] + r["neutral"] + r["contradiction"] - 1) < 1e-4
        assert r["label"] in ("entailment", "neutral", "contradiction")
    messages = {e["line"]: e["error"] for e in errors}
    assert "bad JSON" in messages[3] and "missing field 'hypothesis'" in messages[5]
    assert "int, not text" in messages[8] and "JSON object" in messages[10]
    assert "empty" in messages[12] and "UTF-8" in messages[15]
    summary = capsys.readouterr().err
    assert "33 rows written" in summary and "6 malformed" in summary


def test_an_id_that_is_not_valid_unicode_is_still_written_as_valid_json(tiny_model, tmp_path):
    src = tmp_path / "pairs.jsonl"
    src.write_text('{"id": "\\udc00x", "premise": "Un om merge.", "hypothesis": "Un om stă."}\n')
    out = tmp_path / "out.jsonl"
    assert score(tiny_model, src, "-o", out) == 0
    assert read_jsonl(out)[0]["id"] == "\udc00x"


def test_csv_input_with_multiline_fields_and_bad_rows(tiny_model, tmp_path):
    src = tmp_path / "pairs.csv"
    src.write_bytes("premise,hypothesis,id\n"
                    "Un om merge.,Un om stă.,a\n"
                    '"Două\nrânduri",Ceva.,b\n'
                    "prea,multe,câmpuri,aici\n".encode()
                    + b"Bad \xff byte,x,c\n"
                    + "Ultimul.,Rând.,d\n".encode())
    out = tmp_path / "out.jsonl"
    assert score(tiny_model, src, "-o", out, "--errors", tmp_path / "bad.jsonl") == 0
    assert [(r["line"], r["id"]) for r in read_jsonl(out)] == [(2, "a"), (3, "b"), (7, "d")]
    assert [(e["line"], "fields" in e["error"] or "UTF-8" in e["error"]) for e in read_jsonl(tmp_path / "bad.jsonl")] \
        == [(5, True), (6, True)]


def test_csv_without_the_needed_columns_is_one_error(tiny_model, tmp_path, capsys):
    src = tmp_path / "pairs.csv"
    src.write_text("text,label\na,b\n")
    assert score(tiny_model, src, "-o", tmp_path / "out.jsonl") == 2
    assert "lacks premise, hypothesis" in capsys.readouterr().err


def test_an_existing_output_is_neither_overwritten_nor_appended_without_a_flag(tiny_model, tmp_path, capsys):
    src = write_pairs(tmp_path / "pairs.jsonl", 5)
    out = tmp_path / "out.jsonl"
    assert score(tiny_model, src, "-o", out) == 0
    assert score(tiny_model, src, "-o", out) == 2
    assert "--resume" in capsys.readouterr().err
    assert score(tiny_model, src, "-o", out, "--overwrite") == 0
    assert len(read_jsonl(out)) == 5


def test_resume_after_a_torn_write_redoes_only_the_missing_rows(tiny_model, tmp_path, capsys):
    src = write_pairs(tmp_path / "pairs.jsonl", 60, {20: "{bad", 45: "{bad"})
    full, out = tmp_path / "full.jsonl", tmp_path / "out.jsonl"
    assert score(tiny_model, src, "-o", full, "--chunk-size", "9") == 0
    reference = {r["line"]: r for r in read_jsonl(full)}
    # a crash after 25 complete rows and half of the 26th, with the first error row written
    lines = full.read_text().splitlines(keepends=True)
    out.write_text("".join(lines[:25]) + lines[25][:17])
    (tmp_path / "out.errors.jsonl").write_text(json.dumps({"line": 20, "error": "bad JSON"}) + "\n")
    capsys.readouterr()
    assert score(tiny_model, src, "-o", out, "--resume", "--chunk-size", "9") == 0
    assert "26 already done" in capsys.readouterr().err  # 25 rows and the error row
    rows = read_jsonl(out)
    assert [r["line"] for r in rows] == sorted(reference)
    for r in rows:
        assert r["id"] == reference[r["line"]]["id"]
        assert abs(r["contradiction"] - reference[r["line"]]["contradiction"]) < 1e-4
    assert [e["line"] for e in read_jsonl(tmp_path / "out.errors.jsonl")] == [20, 45]


KILLED_JOB = """
import os, signal, sys
from contradict import NLIScorer, set_threads
from contradict.jobs.runner import Job, run_job
from contradict.jobs.scoring import local_scoring, pair_fields

src, out, model, kill_at = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
set_threads(1)
score = local_scoring(NLIScorer(model), batch_size=4)
chunks = 0

def process(items):  # killed while scoring chunk `kill_at`: its errors are on disk, its rows are not
    global chunks
    chunks += 1
    if chunks == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return score(items)

run_job(Job(input=src, output=out, chunk_size=20, quiet=True), ("premise", "hypothesis"), pair_fields, process,
        "score")
"""


@pytest.mark.parametrize("kill_at", [1, 7])
def test_killed_job_resumed_writes_every_line_exactly_once(tiny_model, tmp_path, kill_at):
    n, bad = 300, (5, 130, 135, 290)
    src = write_pairs(tmp_path / "pairs.jsonl", n, {k: "{oops" for k in bad})
    out = tmp_path / "out.jsonl"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    killed = subprocess.run([sys.executable, "-c", KILLED_JOB, str(src), str(out), tiny_model, str(kill_at)],
                            env=env, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    scored = [line for line in range(1, 20 * (kill_at - 1) + 1) if line not in bad]  # the chunks before
    assert [r["line"] for r in read_jsonl(out)] == scored
    # the killed chunk's malformed lines were written first, as the errors-then-rows order promises
    assert [e["line"] for e in read_jsonl(tmp_path / "out.errors.jsonl")] == [k for k in bad if k <= 20 * kill_at]
    cmd = [sys.executable, "-m", "contradict.cli", "score", str(src), "-o", str(out), "--model", tiny_model,
           "--threads", "1", "--batch-size", "4", "--chunk-size", "20", "--quiet", "--resume"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counts = Counter(r["line"] for r in read_jsonl(out))
    counts.update(e["line"] for e in read_jsonl(tmp_path / "out.errors.jsonl"))
    assert sorted(counts) == list(range(1, n + 1))
    assert set(counts.values()) == {1}


def test_scan_batch_one_row_per_document(tiny_model, tmp_path, ro_article):
    src = tmp_path / "docs.jsonl"
    docs = [{"id": "ro", "lang": "ro", "text": ro_article}, {"id": "empty", "text": ""},
            {"id": "bad", "text": 42}, {"id": "en", "text": "The bridge opened in 2020. The bridge never opened."}]
    src.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n")
    out = tmp_path / "found.jsonl"
    assert main(["scan-batch", str(src), "-o", str(out), "--model", tiny_model, "--threads", "1",
                 "--threshold", "0", "--quiet"]) == 0
    rows = read_jsonl(out)
    assert [(r["line"], r["id"]) for r in rows] == [(1, "ro"), (2, "empty"), (4, "en")]
    assert rows[0]["statements"] > 5 and rows[0]["contradictions"]
    assert set(rows[0]["contradictions"][0]) >= {"score", "a", "b", "probs", "kinds"}
    assert rows[1]["contradictions"] == [] and rows[1]["statements"] == 0
    assert read_jsonl(tmp_path / "found.errors.jsonl") == [{"line": 3, "error": "field 'text' is int, not text",
                                                            "id": "bad"}]


def test_score_cache_flag_spares_the_model_on_a_rerun(tiny_model, tmp_path, capsys):
    src = write_pairs(tmp_path / "pairs.jsonl", 30)
    cache = tmp_path / "scores.sqlite"
    assert score(tiny_model, src, "-o", tmp_path / "a.jsonl", "--cache", cache) == 0
    from contradict.nli.cache import ScoreCache

    with ScoreCache(cache) as store:
        assert store.count() == len({(r["premise"], r["hypothesis"]) for r in read_jsonl(src)})
    assert score(tiny_model, src, "-o", tmp_path / "b.jsonl", "--cache", cache) == 0
    assert read_jsonl(tmp_path / "a.jsonl") == read_jsonl(tmp_path / "b.jsonl")


def test_torn_tail_and_done_lines(tmp_path):
    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"line": 2}\n{"line": 5, "x": 1}\n{"line": 9, "x"')
    drop_torn_tail(path)
    assert path.read_bytes() == b'{"line": 2}\n{"line": 5, "x": 1}\n'
    other = tmp_path / "errors.jsonl"
    other.write_bytes(b'{"line": 3, "error": "e"}\n')
    done = DoneLines([path, other, tmp_path / "absent.jsonl"])
    assert [n for n in range(1, 8) if n in done] == [2, 3, 5]
    path.write_bytes(b"no newline at all")
    drop_torn_tail(path)
    assert path.read_bytes() == b""


def test_unsorted_output_refuses_to_resume(tmp_path):
    from contradict.errors import ContradictError

    path = tmp_path / "rows.jsonl"
    path.write_bytes(b'{"line": 5}\n{"line": 2}\n')
    done = DoneLines([path])
    with pytest.raises(ContradictError, match="input order"):
        [n for n in range(1, 7) if n in done]


def test_errors_file_name():
    assert errors_path_for("out/found.jsonl") == "out/found.errors.jsonl"
    assert errors_path_for("scores") == "scores.errors.jsonl"


def test_ray_engine_matches_the_local_engine(tiny_model, tmp_path):
    ray = pytest.importorskip("ray")
    pytest.importorskip("ray.data")
    src = write_pairs(tmp_path / "pairs.jsonl", 40, {7: "{bad"})
    local, distributed = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    assert score(tiny_model, src, "-o", local) == 0
    ray.init(num_cpus=1, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    try:
        assert score(tiny_model, src, "-o", distributed, "--engine", "ray", "--chunk-size", "16",
                     "--workers", "1") == 0
    finally:
        ray.shutdown()
    rows, reference = read_jsonl(distributed), read_jsonl(local)
    assert [r["line"] for r in rows] == [r["line"] for r in reference]
    for r, ref in zip(rows, reference):
        assert r["id"] == ref["id"] and abs(r["contradiction"] - ref["contradiction"]) < 1e-4
    assert [e["line"] for e in read_jsonl(tmp_path / "ray.errors.jsonl")] == [7]

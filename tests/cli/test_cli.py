"""The CLI as a user runs it: a subprocess, exit codes, one-line errors."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "contradict.cli", *args], input=stdin, capture_output=True,
                          timeout=300)


def assert_one_line_error(result):
    assert result.returncode == 2
    err = result.stderr.decode()
    assert "Traceback" not in err
    assert err.startswith("contradict: error:") and len(err.strip().splitlines()) == 1, err


def test_scan_json(tiny_model):
    r = run("scan", str(DATA / "en_news.txt"), "--model", tiny_model, "--threads", "1", "--format", "json",
            "--threshold", "0")
    assert r.returncode == 0, r.stderr.decode()
    data = json.loads(r.stdout)
    assert isinstance(data, list) and data and {"score", "a", "b", "kinds", "probs"} <= set(data[0])


def test_scan_text_and_stdin(tiny_model):
    text = (DATA / "fr_actu.txt").read_bytes()
    r = run("scan", "-", "--model", tiny_model, "--threads", "1", "--threshold", "0", "--top-k", "2", stdin=text)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.decode().startswith("1. score")


@pytest.mark.parametrize("anchors", [1, 0])
def test_pruning_options_bound_the_pairs_scored(tiny_model, anchors):
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(DATA.glob("*.txt")) * 2)
    r = run("scan", "-", "--model", tiny_model, "--threads", "1", "--stats", "--neighbors", "1", "--anchors",
            str(anchors), stdin=text.encode())
    assert r.returncode == 0, r.stderr.decode()
    statements, scored = (int(x) for x in re.search(r"statements (\d+), pairs scored (\d+)", r.stderr.decode()).groups())
    # + the denials, always paired with their claim
    assert statements > 40 and scored <= (1 + anchors) * statements + 5


def test_negative_anchors_are_refused(tiny_model):
    r = run("scan", "-", "--model", tiny_model, "--anchors", "-1", stdin=b"Text.")
    assert r.returncode == 2 and "at least 0" in r.stderr.decode()


def test_compare(tiny_model):
    r = run("compare", str(DATA / "en_news.txt"), str(DATA / "de_nachrichten.txt"), "--model", tiny_model,
            "--threads", "1", "--format", "json", "--threshold", "0")
    assert r.returncode == 0, r.stderr.decode()
    assert all(item["a"]["doc"] == 0 and item["b"]["doc"] == 1 for item in json.loads(r.stdout))


def test_empty_file_gives_empty_list(tiny_model, tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    r = run("scan", str(empty), "--model", tiny_model, "--format", "json")
    assert r.returncode == 0 and json.loads(r.stdout) == []


@pytest.mark.parametrize("content", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"caf\xe9 au lait. Il fait beau."])
def test_binary_and_invalid_utf8_are_refused(tiny_model, tmp_path, content):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert_one_line_error(run("scan", str(path), "--model", tiny_model))


def test_missing_file_and_bad_model(tiny_model, tmp_path):
    assert_one_line_error(run("scan", str(tmp_path / "nope.txt"), "--model", tiny_model))
    assert_one_line_error(run("scan", str(DATA / "en_news.txt"), "--model", str(tmp_path)))

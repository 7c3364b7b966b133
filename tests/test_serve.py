"""`contradict serve` in-process, on the tiny model: the JSON contract, bad input, limits, token, guards,
the micro-batcher under concurrent requests, and the CLI's refusals."""
from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading

import numpy as np
import pytest

pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")
from fastapi.testclient import TestClient  # noqa: E402

from conftest import DATA, ROOT  # noqa: E402
from contradict import LABELS, Detector  # noqa: E402
from contradict.report import script_hash  # noqa: E402
from contradict.server.app import ServerSettings, create_app  # noqa: E402
from contradict.server.batcher import MicroBatcher, QueueFull  # noqa: E402

BASE = "http://127.0.0.1"
TOKEN = "t0ken-for-the-tests-0123456789"
SHORT = "Ion a spus că nu există nicio relație între ei. Potrivit presei, cei doi se întâlnesc regulat din 2022."


def close_enough(got, expected, tol=1e-5) -> bool:
    """Equal structure and values; floats within `tol` (batches are composed differently in the server)."""
    if isinstance(expected, float) or isinstance(got, float):
        return abs(got - expected) <= tol
    if isinstance(expected, dict):
        return isinstance(got, dict) and got.keys() == expected.keys() and \
            all(close_enough(got[k], expected[k], tol) for k in expected)
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and \
            all(close_enough(g, e, tol) for g, e in zip(got, expected))
    return got == expected


@pytest.fixture(scope="module")
def client(tiny_model):
    app = create_app(model=tiny_model)
    with TestClient(app, base_url=BASE, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def make_client(tiny_model):
    """A client on an app with its own settings (and detector factory)."""
    opened = []

    def make(factory=Detector, **settings):
        app = create_app(factory, model=tiny_model, settings=ServerSettings(**settings))
        test_client = TestClient(app, base_url=BASE, raise_server_exceptions=False)
        opened.append(test_client.__enter__())
        return test_client

    yield make
    for test_client in opened:
        test_client.__exit__(None, None, None)


# -- the contract ------------------------------------------------------------------------------------

def test_scan_returns_what_the_cli_prints(client, tiny_detector, ro_article):
    response = client.post("/v1/scan", json={"text": ro_article, "threshold": 0.0, "top_k": 4})
    assert response.status_code == 200, response.text
    expected = [c.to_dict() for c in tiny_detector.find(ro_article)[:4]]
    got = response.json()
    assert len(got) == 4 and close_enough(got, expected)
    for item in got:  # the README's contract, offsets into the input
        assert {"score", "a", "b", "kinds", "probs"} <= set(item)
        assert set(item["probs"]) == {"ab", "ba"} and set(item["probs"]["ab"]) == set(LABELS)
        for side in ("a", "b"):
            assert ro_article[item[side]["start"]:item[side]["end"]] == item[side]["text"]


def test_threshold_and_top_k_cut_as_the_cli_does(client, ro_article):
    everything = client.post("/v1/scan", json={"text": ro_article, "threshold": 0.0}).json()
    scores = sorted({c["score"] for c in everything}, reverse=True)
    middle = len(scores) // 2
    threshold = (scores[middle] + scores[middle + 1]) / 2  # between two scores: rounding cannot tip it
    cut = client.post("/v1/scan", json={"text": ro_article, "threshold": threshold, "top_k": 3}).json()
    expected = [c for c in everything if c["score"] >= threshold][:3]
    assert len(everything) > len(cut) and close_enough(cut, expected)
    assert client.post("/v1/scan", json={"text": ro_article, "threshold": 1.0}).json() == []


def test_compare_keeps_a_in_the_first_text(client, tiny_detector):
    first, second = (DATA / "ro_stiri.txt").read_text(encoding="utf-8"), SHORT
    response = client.post("/v1/compare", json={"text_a": first, "text_b": second, "threshold": 0.0})
    assert response.status_code == 200, response.text
    got = response.json()
    assert got and close_enough(got, [c.to_dict() for c in tiny_detector.compare(first, second)])
    for item in got:
        assert item["a"]["doc"] == 0 and item["b"]["doc"] == 1
        assert second[item["b"]["start"]:item["b"]["end"]] == item["b"]["text"]


def test_score_gives_label_probabilities_per_pair(client, tiny_detector):
    pairs = [["Ion are mere.", "Ion nu are mere."], ["Plouă la Cluj.", "La Cluj e senin."], ["A", "B"]]
    response = client.post("/v1/score", json={"pairs": pairs})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["labels"] == list(LABELS) and len(body["results"]) == 3
    expected = tiny_detector.score_pairs([tuple(p) for p in pairs])
    for row, probs in zip(body["results"], expected):
        assert [row[label] for label in LABELS] == pytest.approx(probs, abs=1e-5)
        assert row["label"] == LABELS[int(np.argmax(probs))]


def test_models_and_health(client, tiny_model):
    models = client.get("/v1/models").json()
    assert models["served"] == tiny_model and models["labels"] == list(LABELS)
    assert [m["name"] for m in models["models"] if m["served"]] == [tiny_model]
    assert {"default", "xlmr-large-xnli"} <= {m["name"] for m in models["models"]}
    health = client.get("/healthz").json()
    assert health["status"] == "ok" and health["queued_pairs"] == 0 and health["scans_in_flight"] == 0


def test_the_report_call_returns_results_and_the_report_page(client):
    response = client.post("/v1/report", data={"mode": "compare", "text": SHORT, "text_b": "Ion nu a spus nimic.",
                                               "threshold": "0"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["contradictions"] and body["html"].startswith("<!DOCTYPE html>")
    assert body["html"].count('class="doc"') == 2 and 'data-rank="1"' in body["html"]


def test_an_upload_in_a_named_encoding_is_read(client):
    text = "Ion mănâncă mere în fiecare zi. Ion nu mănâncă niciodată mere."
    response = client.post("/v1/report", data={"encoding": "cp1250", "threshold": "0"},
                           files={"file": ("mere.txt", text.encode("cp1250"), "text/plain")})
    assert response.status_code == 200, response.text
    assert "mănâncă" in response.json()["contradictions"][0]["a"]["text"]


def test_openapi_is_served_and_the_cdn_docs_pages_are_off(client):
    schema = client.get("/openapi.json").json()
    assert {"/v1/scan", "/v1/compare", "/v1/score", "/v1/models", "/healthz"} <= set(schema["paths"])
    assert "text" in schema["components"]["schemas"]["ScanRequest"]["required"]
    for path in ("/docs", "/redoc"):
        assert client.get(path).status_code == 404


# -- bad input --------------------------------------------------------------------------------------

JSON = {"Content-Type": "application/json"}
BAD_REQUESTS = [
    ("empty text", "/v1/scan", {"json": {"text": ""}}, 422, "text is empty"),
    ("whitespace text", "/v1/scan", {"json": {"text": " \n\t "}}, 422, "only whitespace"),
    ("missing text", "/v1/scan", {"json": {"lang": "ro"}}, 422, "text is required"),
    ("text not a string", "/v1/scan", {"json": {"text": 42}}, 422, "text: input should be a valid string"),
    ("threshold above 1", "/v1/scan", {"json": {"text": SHORT, "threshold": 1.5}}, 422, "threshold"),
    ("threshold as a string", "/v1/scan", {"json": {"text": SHORT, "threshold": "0.5"}}, 422, "threshold"),
    ("top_k zero", "/v1/scan", {"json": {"text": SHORT, "top_k": 0}}, 422, "top_k"),
    ("top_k true", "/v1/scan", {"json": {"text": SHORT, "top_k": True}}, 422, "top_k"),
    ("misspelt field", "/v1/scan", {"json": {"text": SHORT, "topk": 3}}, 422, "topk is not a known field"),
    ("bad language code", "/v1/scan", {"json": {"text": SHORT, "lang": "../etc"}}, 422, "lang"),
    ("body not an object", "/v1/scan", {"json": [SHORT]}, 422, "must be a JSON object"),
    ("unpaired surrogate", "/v1/scan", {"content": rb'{"text": "ok \ud800"}', "headers": JSON}, 422,
     "unpaired surrogate"),
    ("broken JSON", "/v1/scan", {"content": b'{"text": "a"', "headers": JSON}, 400, "not valid JSON"),
    ("JSON not UTF-8", "/v1/scan", {"content": '{"text": "ă"}'.encode("cp1250"), "headers": JSON}, 400,
     "not UTF-8 (byte 0xe3"),
    ("not JSON at all", "/v1/scan", {"content": SHORT.encode(), "headers": {"Content-Type": "text/plain"}}, 415,
     "Content-Type: application/json"),
    ("form to a JSON endpoint", "/v1/scan", {"data": {"text": SHORT}}, 415, "application/json"),
    ("compare without text_b", "/v1/compare", {"json": {"text_a": SHORT}}, 422, "text_b is required"),
    ("compare with empty text_b", "/v1/compare", {"json": {"text_a": SHORT, "text_b": "  "}}, 422, "text_b is empty"),
    ("no pairs", "/v1/score", {"json": {"pairs": []}}, 422, "pairs is empty"),
    ("pair of one", "/v1/score", {"json": {"pairs": [["a"]]}}, 422, "pairs[0]"),
    ("pair of three", "/v1/score", {"json": {"pairs": [["a", "b", "c"]]}}, 422, "pairs[0]"),
    ("pair with a number", "/v1/score", {"json": {"pairs": [["a", 1]]}}, 422, "pairs[0][1]"),
    ("empty premise", "/v1/score", {"json": {"pairs": [["a", "b"], [" ", "b"]]}}, 422, "pairs[1] premise is empty"),
    ("too many pairs", "/v1/score", {"json": {"pairs": [["a", "b"]] * 1025}}, 413, "over the limit of 1,024"),
    ("unknown model", "/v1/scan", {"json": {"text": SHORT, "model": "gpt-7"}}, 404, "unknown model 'gpt-7'"),
    ("preset not loaded", "/v1/score", {"json": {"pairs": [["a", "b"]], "model": "xlmr-large-xnli"}}, 404,
     "not loaded here"),
    ("over 1 MB", "/v1/scan", {"json": {"text": "Ana are mere. " * 72_000}}, 413, "1,000,000-byte limit"),
    ("upload not UTF-8", "/v1/report", {"files": {"file": ("știri.txt", "Ion mănâncă.".encode("cp1250"))}}, 422,
     "not valid UTF-8 (byte 0xe3 at offset 5); save it as UTF-8 or name its encoding"),
    ("binary upload", "/v1/report", {"files": {"file": ("x.bin", b"\x00\x01\x02" * 10)}}, 422, "binary file"),
    ("unknown encoding", "/v1/report", {"data": {"encoding": "klingon"}, "files": {"file": ("a.txt", b"a")}}, 422,
     "unknown encoding 'klingon'"),
    ("wrong named encoding", "/v1/report", {"data": {"encoding": "utf-16"}, "files": {"file": ("a.txt", b"abc")}}, 422,
     "not valid utf-16"),
    ("text and file both", "/v1/report", {"data": {"text": SHORT}, "files": {"file": ("a.txt", b"a b c.")}}, 422,
     "either text or file"),
    ("report without text", "/v1/report", {"data": {"lang": "ro"}}, 422, "text (or an uploaded file) is required"),
    ("report compare without a second", "/v1/report", {"data": {"mode": "compare", "text": SHORT}}, 422,
     "text_b (or an uploaded file_b) is required"),
    ("report threshold not a number", "/v1/report", {"data": {"text": SHORT, "threshold": "abc"}}, 422, "threshold"),
    ("report unknown mode", "/v1/report", {"data": {"text": SHORT, "mode": "all"}}, 422, "mode"),
    ("JSON to the form endpoint", "/v1/report", {"json": {"text": SHORT}}, 415, "multipart/form-data"),
]


@pytest.mark.parametrize("path, request_args, status, message", [case[1:] for case in BAD_REQUESTS],
                         ids=[case[0] for case in BAD_REQUESTS])
def test_bad_input_gets_a_json_error_with_the_right_status(client, path, request_args, status, message):
    response = client.post(path, **request_args)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and message in body["error"], body
    assert "Traceback" not in response.text and "\n" not in body["error"]


def test_unknown_paths_and_methods_answer_json(client):
    missing = client.get("/v2/scan")
    assert missing.status_code == 404 and "/v2/scan" in missing.json()["error"]
    wrong_method = client.get("/v1/scan")
    assert wrong_method.status_code == 405 and "GET is not allowed" in wrong_method.json()["error"]


def test_the_size_limit_is_configurable_and_holds_for_streamed_bodies(make_client):
    small = make_client(max_bytes=2_000)
    assert small.post("/v1/scan", json={"text": "Ana are mere. " * 50}).status_code == 200
    assert small.post("/v1/scan", json={"text": "Ana are mere. " * 200}).status_code == 413

    def chunks():  # no Content-Length: the limit is counted as the body arrives
        yield b'{"text": "'
        for _ in range(100):
            yield b"Ana are mere. " * 5
        yield b'"}'
    response = small.post("/v1/scan", content=chunks(), headers=JSON)
    assert response.status_code == 413 and "2,000-byte limit" in response.json()["error"]


def test_the_score_pair_limit_is_configurable(make_client):
    few = make_client(max_pairs=2)
    assert few.post("/v1/score", json={"pairs": [["a", "b"]] * 2}).status_code == 200
    response = few.post("/v1/score", json={"pairs": [["a", "b"]] * 3})
    assert response.status_code == 413 and "limit of 2" in response.json()["error"]


# -- token, hosts, origins, page --------------------------------------------------------------------

def test_token_is_required_on_every_api_call(make_client):
    guarded = make_client(token=TOKEN)
    calls = [("get", "/v1/models", {}), ("post", "/v1/scan", {"json": {"text": SHORT}}),
             ("post", "/v1/compare", {"json": {"text_a": SHORT, "text_b": SHORT}}),
             ("post", "/v1/score", {"json": {"pairs": [["a", "b"]]}}),
             ("post", "/v1/report", {"data": {"text": SHORT}})]
    for method, path, kwargs in calls:
        missing = getattr(guarded, method)(path, **kwargs)
        assert missing.status_code == 401 and missing.headers["www-authenticate"].startswith("Bearer"), path
        wrong = getattr(guarded, method)(path, headers={"Authorization": f"Bearer {TOKEN[:-1]}x"}, **kwargs)
        assert wrong.status_code == 401, path
        right = getattr(guarded, method)(path, headers={"Authorization": f"Bearer {TOKEN}"}, **kwargs)
        assert right.status_code == 200, (path, right.text)
    assert guarded.get("/healthz").status_code == 200
    assert 'name="token"' in guarded.get("/").text


def test_a_loopback_server_refuses_other_host_names_and_cross_site_pages(client):
    rebound = client.get("/v1/models", headers={"Host": "attacker.example:8000"})
    assert rebound.status_code == 400 and "unexpected Host" in rebound.json()["error"]
    assert client.get("/v1/models", headers={"Host": "localhost:8000"}).status_code == 200
    other_site = client.post("/v1/scan", json={"text": SHORT}, headers={"Origin": "https://attacker.example"})
    assert other_site.status_code == 403 and "--cors-origin" in other_site.json()["error"]
    sandboxed = client.post("/v1/scan", json={"text": SHORT}, headers={"Origin": "null"})
    assert sandboxed.status_code == 403
    same_origin = client.post("/v1/scan", json={"text": SHORT}, headers={"Origin": BASE})
    assert same_origin.status_code == 200 and "access-control-allow-origin" not in same_origin.headers


def test_cors_only_for_the_named_origin(make_client):
    allowed = "https://desk.example"
    shared = make_client(cors_origins=(allowed,))
    preflight = shared.options("/v1/scan", headers={"Origin": allowed, "Access-Control-Request-Method": "POST",
                                                    "Access-Control-Request-Headers": "content-type"})
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == allowed
    ok = shared.post("/v1/scan", json={"text": SHORT}, headers={"Origin": allowed})
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == allowed
    assert shared.post("/v1/scan", json={"text": SHORT}, headers={"Origin": "https://other.example"}).status_code == 403


def test_the_page_has_a_strict_policy_and_local_assets_only(client):
    page = client.get("/")
    policy = page.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert directives["script-src"] == f"'self' {script_hash()}"  # the page's file and the framed report's script
    assert "http" not in policy and "*" not in policy
    assert "<script>" not in page.text and "http://" not in page.text and "https://" not in page.text
    assert 'sandbox="allow-scripts"' in page.text  # the report frame gets an origin of its own
    script = client.get("/static/page.js")
    assert script.headers["content-type"].startswith("text/javascript") and "innerHTML" not in script.text
    assert client.get("/static/page.css").status_code == 200
    api = client.get("/v1/models")
    assert api.headers["x-content-type-options"] == "nosniff" and "default-src 'none'" in \
        api.headers["content-security-policy"]


def test_the_page_escapes_the_model_name(make_client):
    def odd_named(model, **options):
        detector = Detector(model, **options)
        detector.model_name = '<img src=x onerror="alert(1)">'
        return detector
    page = make_client(odd_named).get("/").text
    assert "<img" not in page and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page


# -- concurrency: the event loop, the shared batches, the bounded queues -----------------------------

class GatedScorer:
    """Wraps the real scorer: records each predict call and holds the first until `gate` opens."""

    def __init__(self, scorer):
        self.scorer = scorer
        self.calls: list[list] = []
        self.entered = threading.Event()
        self.gate = threading.Event()

    def predict(self, pairs, batch_size=32, show_progress_bar=None):
        self.calls.append(list(pairs))
        self.entered.set()
        assert self.gate.wait(timeout=60), "the test never opened the gate"
        return self.scorer.predict(pairs, batch_size=batch_size, show_progress_bar=False)

    def __getattr__(self, name):
        return getattr(self.scorer, name)


def gated_app(tiny_model, **settings):
    gated = {}

    def factory(model, **options):
        detector = Detector(model, **options)
        detector.scorer = gated["scorer"] = GatedScorer(detector.scorer)
        return detector
    app = create_app(factory, model=tiny_model, settings=ServerSettings(**settings))
    return app, gated["scorer"]


async def until(condition, timeout=30.0):
    """Poll `condition` on the event loop, without blocking it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.005)


def run_async(app, body):
    async def main():
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            try:
                return await body(http)
            finally:
                app.state.service.close()
    return asyncio.run(main())


def test_pairs_from_concurrent_requests_share_one_batch(tiny_model, tiny_detector):
    app, scorer = gated_app(tiny_model)
    batcher = app.state.service.batcher
    requests = [[[f"Primul enunț {k}.", f"Al doilea enunț {k}."]] for k in range(4)]

    async def body(http):
        first = asyncio.create_task(http.post("/v1/score", json={"pairs": requests[0]}))
        await until(scorer.entered.is_set)  # the worker holds request 0; 1-3 queue up behind it
        rest = [asyncio.create_task(http.post("/v1/score", json={"pairs": r})) for r in requests[1:]]
        await until(lambda: batcher.queued_pairs == 3)
        scorer.gate.set()
        answers = await asyncio.gather(first, *rest)
        return answers, (await http.get("/healthz")).json()

    responses, health = run_async(app, body)
    assert [r.status_code for r in responses] == [200] * 4
    assert health["model_calls"] == 2 and health["pairs_scored"] == 4
    assert len(scorer.calls) == 2 and sorted(scorer.calls[1]) == sorted(tuple(r[0]) for r in requests[1:])
    for request, response in zip(requests, responses):  # each request gets its own pairs' scores back
        expected = tiny_detector.score_pairs([tuple(p) for p in request])[0]
        assert [response.json()["results"][0][label] for label in LABELS] == pytest.approx(expected, abs=1e-5)


def test_a_scan_does_not_block_the_event_loop(tiny_model):
    app, scorer = gated_app(tiny_model)

    async def body(http):
        scan = asyncio.create_task(http.post("/v1/scan", json={"text": SHORT, "threshold": 0.0}))
        await until(scorer.entered.is_set)  # the scan is in its thread, waiting on the model
        health = await http.get("/healthz")
        still_running = not scan.done()
        scorer.gate.set()
        return health, still_running, await scan

    health, still_running, scan = run_async(app, body)
    assert health.status_code == 200 and health.json()["scans_in_flight"] == 1 and still_running
    assert scan.status_code == 200 and scan.json()


def test_a_full_scoring_queue_answers_503_with_retry_after(tiny_model):
    app, scorer = gated_app(tiny_model, queue_pairs=4, max_pairs=4)
    batcher = app.state.service.batcher

    async def body(http):
        held = asyncio.create_task(http.post("/v1/score", json={"pairs": [["a", "b"]]}))
        await until(scorer.entered.is_set)
        queued = asyncio.create_task(http.post("/v1/score", json={"pairs": [["c", "d"]] * 4}))
        await until(lambda: batcher.queued_pairs == 4)
        refused = await http.post("/v1/score", json={"pairs": [["e", "f"]]})
        scorer.gate.set()
        return refused, await held, await queued

    refused, held, queued = run_async(app, body)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert "busy" in refused.json()["error"]
    assert held.status_code == 200 and queued.status_code == 200 and len(queued.json()["results"]) == 4


def test_scans_past_the_scan_queue_answer_503(tiny_model):
    app, scorer = gated_app(tiny_model, scan_workers=1, scan_queue=0)

    async def body(http):
        running = asyncio.create_task(http.post("/v1/scan", json={"text": SHORT}))
        await until(scorer.entered.is_set)
        refused = await http.post("/v1/compare", json={"text_a": SHORT, "text_b": SHORT})
        scorer.gate.set()
        return refused, await running

    refused, running = run_async(app, body)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert running.status_code == 200


def test_a_scoring_failure_is_a_json_500_and_the_server_goes_on(tiny_model):
    failures = {"left": 1}

    def flaky(model, **options):
        detector = Detector(model, **options)
        real = detector.scorer

        class Flaky:
            def predict(self, pairs, batch_size=32, show_progress_bar=None):
                if failures["left"]:
                    failures["left"] -= 1
                    raise RuntimeError("the model fell over")
                return real.predict(pairs, batch_size=batch_size, show_progress_bar=False)

            def __getattr__(self, name):
                return getattr(real, name)
        detector.scorer = Flaky()
        return detector
    app = create_app(flaky, model=tiny_model)

    async def body(http):
        return await http.post("/v1/score", json={"pairs": [["a", "b"]]}), \
            await http.post("/v1/score", json={"pairs": [["a", "b"]]})

    failed, recovered = run_async(app, body)
    assert failed.status_code == 500 and failed.json()["error"].startswith("internal error (RuntimeError)")
    assert "Traceback" not in failed.text and "fell over" not in failed.text
    assert recovered.status_code == 200


def test_batcher_takes_a_batch_per_job_in_turn():
    """A long job does not starve a short one that arrived after it; each job gets its own rows back."""
    calls, entered, gate = [], threading.Event(), threading.Event()

    def predict(pairs):
        calls.append([p for p, _ in pairs])
        entered.set()
        assert gate.wait(timeout=60)
        return np.array([[float(p[1:]), 0.0] for p, _ in pairs])

    batcher = MicroBatcher(predict, batch_size=2, round_pairs=4, max_wait=0.0, max_queued=12)
    try:
        first = batcher.submit([("p0", "h")])
        assert entered.wait(timeout=30)
        long_job = batcher.submit([(f"p{k}", "h") for k in range(10, 20)])
        short_job = batcher.submit([("p99", "h")])
        with pytest.raises(QueueFull):
            batcher.submit([("p1", "h")] * 2)  # 11 queued of 12
        gate.set()
        assert first.result(timeout=30)[:, 0].tolist() == [0.0]
        assert long_job.result(timeout=30)[:, 0].tolist() == [float(k) for k in range(10, 20)]
        assert short_job.result(timeout=30)[:, 0].tolist() == [99.0]
    finally:
        gate.set()
        batcher.close()
    assert calls[1] == ["p10", "p11", "p99", "p12"]  # the short job rides in the long one's first round
    assert all(len(c) <= 4 for c in calls)


# -- the command line -------------------------------------------------------------------------------

def serve(*args, env=None):
    environment = {k: v for k, v in os.environ.items() if k != "CONTRADICT_TOKEN"}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-m", "contradict.cli", "serve", *args], capture_output=True, text=True,
                          cwd=ROOT, env=environment, timeout=120)


def assert_one_line_error(result, fragment):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("contradict: error:") and fragment in result.stderr


def test_serve_refuses_a_public_host_without_a_token():
    assert_one_line_error(serve("--host", "0.0.0.0"), "--token")


def test_serve_refuses_a_short_token():
    assert_one_line_error(serve("--host", "0.0.0.0", env={"CONTRADICT_TOKEN": "short"}), "at least 16 characters")


def test_serve_refuses_a_wildcard_cors_origin():
    assert_one_line_error(serve("--cors-origin", "*"), "--cors-origin '*'")


def test_serve_reports_a_port_in_use_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert_one_line_error(serve("--port", str(port), "--model", "/nonexistent"), "already in use")


def test_serve_reports_a_model_that_does_not_load_in_one_line():
    assert_one_line_error(serve("--port", "0", "--model", str(ROOT / "no-such-model-dir")), "does not exist")


def test_the_json_contract_is_the_clis(client, tiny_model):
    """Same text, same options: the server's answer and `contradict scan --format json` agree."""
    cli = subprocess.run([sys.executable, "-m", "contradict.cli", "scan", str(DATA / "en_news.txt"), "--model",
                          tiny_model, "--threads", "1", "--format", "json", "--threshold", "0.1", "--quiet"],
                         capture_output=True, text=True, cwd=ROOT, env=dict(os.environ),
                         timeout=300)
    assert cli.returncode == 0, cli.stderr
    served = client.post("/v1/scan", json={"text": (DATA / "en_news.txt").read_text(encoding="utf-8"),
                                           "threshold": 0.1})
    assert close_enough(served.json(), json.loads(cli.stdout))

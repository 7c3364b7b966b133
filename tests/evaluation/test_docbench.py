"""The document benchmark builder: seeded, labelled by construction, consistent third, variants."""
import json

import pandas as pd
import pytest

from contradict.evaluation import docbench as db
from contradict.evaluation import documents as ev
from contradict.labels import LABELS
from conftest import needs_shared_data, shared_data_dir


def _frame(lang="en", n=40):
    rows = []
    for i in range(n):
        premise = f"The council of town {i} approved budget number {i} on Monday"
        hyps = {"entailment": f"Town {i} has an approved budget", "neutral": f"Town {i} will build a bridge",
                "contradiction": f"Town {i} rejected its budget"}
        rows += [{"premise": premise, "hypothesis": h, "label": label, "lang": lang} for label, h in hyps.items()]
    return pd.DataFrame(rows)


def _docs(monkeypatch, per_language=30, langs=("en", "ro")):
    frames = {lang: db.units_from_frame(_frame(lang, n=90), "toy") for lang in langs}
    monkeypatch.setattr(db, "_language_units", lambda split, root=None: frames)
    return db.build_documents("eval", per_language, seed=3)


def test_units_group_hypotheses_under_their_premise():
    units = db.units_from_frame(_frame(n=3), "toy")
    assert len(units) == 3
    assert all(set(u.hypotheses) == set(LABELS) and len(u.statements) == 4 for u in units)
    # Climate-FEVER: the claim (hypothesis column) is the shared anchor
    frame = pd.DataFrame([{"premise": f"evidence {k}", "hypothesis": "the claim", "label": lab, "lang": "en"}
                          for k, lab in enumerate(["contradiction", "entailment"])])
    (unit,) = db.units_from_frame(frame, "climate-fever")
    assert unit.anchor == "the claim" and unit.hypotheses["contradiction"] == ["evidence 0"]


def test_documents_are_seeded_and_their_gold_is_the_premise_against_its_contradiction(monkeypatch):
    docs = _docs(monkeypatch)
    assert docs == _docs(monkeypatch)
    assert len(docs) == 60 and {d["lang"] for d in docs} == {"en", "ro"}
    assert len({d["id"] for d in docs}) == 60
    loaded = ev.load_docs(docs)  # every span resolves against its own text (text + "\n" + text_b)
    for doc, raw in zip(loaded, docs):
        whole = raw["text"] if "text_b" not in raw else raw["text"] + "\n" + raw["text_b"]
        for (a, b) in doc["gold"]:
            first, second = sorted([whole[slice(*a)], whole[slice(*b)]], key=lambda t: "rejected" in t)
            assert "approved budget number" in first and "rejected its budget" in second
        for (a, b) in doc["ambiguous"]:  # two hypotheses of one premise: contradictory or not, XNLI never says
            assert "approved budget number" not in whole[slice(*a)] + whole[slice(*b)]
            assert "town" in whole[slice(*a)].lower() and "town" in whole[slice(*b)].lower()
        assert db.STATEMENTS[0] <= raw["statements"] <= db.STATEMENTS[1]
    consistent = [d for d in docs if d["consistent"]]
    assert len(consistent) == 20 and all(not d["contradictions"] for d in consistent)
    assert all(d["contradictions"] for d in docs if not d["consistent"])


def test_variants_reported_speech_and_two_texts(monkeypatch):
    docs = _docs(monkeypatch)
    variants = {d["variant"] for d in docs}
    assert variants == {"plain", "reported", "compare"}
    reported = " ".join(d["text"] for d in docs if d["variant"] == "reported" and d["lang"] == "ro")
    assert " a declarat că " in reported or "Potrivit lui" in reported or " a afirmat că " in reported
    for doc in (d for d in docs if d["variant"] == "compare" and d["contradictions"]):
        cut = len(doc["text"])
        for a, b in doc["contradictions"]:  # the two sides of every gold pair sit in different texts
            assert (a[1] <= cut) != (b[1] <= cut)


def test_compare_documents_spread_their_fillers_over_both_texts(monkeypatch):
    import re

    split_fillers = []
    for doc in (d for d in _docs(monkeypatch) if d["variant"] == "compare" and len(d["contradictions"]) == 1):
        full = doc["text"] + "\n" + doc["text_b"]
        (anchor, _), = doc["contradictions"]
        topic = re.search(r"\d+", full[anchor[0]:anchor[1]]).group()
        towns = [[re.search(r"\d+", s).group() for s in re.split(r"(?<=\.)\s+", text) if s]
                 for text in (doc["text"], doc["text_b"])]
        fillers = [sum(town != topic for town in side) for side in towns]
        if sum(fillers) >= 2:
            split_fillers.append(min(fillers) > 0)
    # each filler takes its own side: with one draw for all of them (benchmark v1) no document split them
    assert split_fillers and sum(split_fillers) >= len(split_fillers) / 2


def test_a_language_without_templates_gets_plain_documents(monkeypatch):
    docs = _docs(monkeypatch, langs=("sw",))
    assert {d["variant"] for d in docs} == {"plain", "compare"}


def test_fillers_never_bring_a_statement_labelled_against_one_already_there(monkeypatch):
    # SICK-like: sentences reused across pairs; "A man is not cooking" contradicts "A man is cooking"
    rows = [{"premise": "A man is cooking", "hypothesis": "A man is not cooking", "label": "contradiction"},
            {"premise": "A man is not cooking", "hypothesis": "A man is cooking", "label": "contradiction"}]
    rows += [{"premise": f"A dog runs in park {i}", "hypothesis": f"An animal is in park {i}", "label": "entailment"}
             for i in range(30)]
    units = db.units_from_frame(pd.DataFrame(rows).assign(lang="en"), "toy")
    monkeypatch.setattr(db, "_language_units", lambda split, root=None: {"en": units})
    for doc in db.build_documents("eval", 12, seed=1, reuse_topics=True):
        text = doc["text"] + doc.get("text_b", "")
        assert text.count("A man is cooking") + text.count("A man is not cooking") <= (2 if doc["contradictions"] else 1)


def test_benchmark_is_built_into_the_cache_once(monkeypatch, tmp_path):
    frames = {"en": db.units_from_frame(_frame(), "toy")}
    monkeypatch.setattr(db, "_language_units", lambda split, root=None: frames)
    path = db.benchmark("eval", 9, seed=0, cache_dir=tmp_path)
    assert path.parent == tmp_path and len(path.read_text().splitlines()) == 9
    (tmp_path / "other").mkdir()
    assert db.benchmark("eval", 9, seed=0, root=tmp_path / "other", cache_dir=tmp_path) != path  # other data
    path.write_text(path.read_text().splitlines()[0] + "\n")
    assert len(db.benchmark("eval", 9, seed=0, cache_dir=tmp_path).read_text().splitlines()) == 1  # cached
    assert len(db.benchmark("eval", 9, seed=0, cache_dir=tmp_path, rebuild=True).read_text().splitlines()) == 9


def test_fit_documents_leave_out_sources_the_lineage_trained_on(monkeypatch):
    seen = db.units_from_frame(_frame(n=90), "xnli-dev")
    fresh = db.units_from_frame(_frame(n=90).assign(premise=lambda f: "New " + f["premise"]), "lingnli")
    monkeypatch.setattr(db, "_language_units", lambda split, root=None: {"en": seen + fresh})
    docs = db.fit_documents(40, seed=2)
    assert docs and all(d["sets"] == ["lingnli"] for d in docs)
    assert "xnli-dev" in db.SEEN_BY_LINEAGE and "lingnli" not in db.SEEN_BY_LINEAGE


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="eval .*fit"):
        db.build_documents("train", 5)


@needs_shared_data
def test_real_benchmark_reads_only_evaluation_splits_and_has_every_language():
    docs = db.build_documents("eval", 6, root=shared_data_dir())
    langs = {d["lang"] for d in docs}
    assert {"ro", "en", "fr", "de", "es", "zh", "id", "nl", "pt", "sw"} <= langs
    assert {d["set"] for d in docs} >= {"xnli", "ro-nli"}
    assert all(d["id"].startswith("eval:") for d in docs)
    # no evaluation document may carry a pool (training) statement: XNLI test premises are not XNLI dev ones
    from contradict.evaluation.datasets import xnli

    dev = set(xnli("dev", langs=("en",), root=shared_data_dir())["premise"])
    english = " ".join(d["text"] + d.get("text_b", "") for d in docs if d["lang"] == "en" and d["set"] == "xnli")
    assert not [p for p in dev if len(p) > 40 and p in english]
    json.dumps(docs)


def test_the_cached_benchmark_file_follows_an_edit_of_our_romanian_nli(tmp_path, monkeypatch):
    import shutil

    from contradict.evaluation import datasets

    copy = tmp_path / "ro_nli"
    shutil.copytree(datasets.ro_nli_dir(), copy)
    monkeypatch.setenv(datasets.RO_NLI_ENV, str(copy))
    before = db.bench_path("fit", 10, 0, root=tmp_path, cache_dir=tmp_path)
    assert db.bench_path("fit", 10, 0, root=tmp_path, cache_dir=tmp_path) == before
    assert "-fit-10-" in before.name and "-eval-10-" in db.bench_path("eval", 10, 0, root=tmp_path,
                                                                      cache_dir=tmp_path).name
    with (copy / "validation.jsonl").open("a", encoding="utf-8") as f:
        f.write("\n")
    assert db.bench_path("fit", 10, 0, root=tmp_path, cache_dir=tmp_path) != before

import json

import pytest

import contradict
from contradict import Detector


def test_find_returns_ranked_contradictions_with_offsets(tiny_detector, ro_article):
    found = tiny_detector.find(ro_article)
    assert found, "threshold 0 keeps every scored pair"
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    for c in found:
        for s in (c.a, c.b):
            assert ro_article[s.start:s.end] == s.text
        assert c.a.index != c.b.index
    stats = found.stats
    assert stats.statements >= 10 and stats.pairs_scored == stats.pairs_exhaustive


def test_json_contract(tiny_detector, ro_article):
    data = json.loads(json.dumps([c.to_dict() for c in tiny_detector.find(ro_article)]))
    first = data[0]
    assert 0.0 <= first["score"] <= 1.0
    for side in ("a", "b"):
        assert {"text", "start", "end", "source"} <= set(first[side])
        assert first[side]["source"] is None or isinstance(first[side]["source"], str)
    assert isinstance(first["kinds"], list)
    assert set(first["probs"]) == {"ab", "ba"}
    assert set(first["probs"]["ab"]) == set(contradict.LABELS)


def test_compare_keeps_sides_in_their_texts(tiny_detector):
    text_a = "Primăria a spus că podul se deschide în mai. Lucrările au costat 5 milioane."
    text_b = "Podul nu se deschide în mai. Lucrările au costat 9 milioane."
    found = tiny_detector.compare(text_a, text_b)
    assert len(found) == 4  # every cross pair, none inside one text
    for c in found:
        assert (c.a.doc, c.b.doc) == (0, 1)
        assert text_a[c.a.start:c.a.end] == c.a.text and text_b[c.b.start:c.b.end] == c.b.text


def test_empty_and_single_sentence(tiny_detector):
    assert tiny_detector.find("") == []
    assert tiny_detector.find("   \n\t ") == []
    assert tiny_detector.find("O singură propoziție.") == []


def test_score_pairs(tiny_detector):
    probs = tiny_detector.score_pairs([("a", "b"), ("c", "d")], batch_size=1, show_progress_bar=False)
    assert probs.shape == (2, 3)


def test_too_long_text_is_refused_clearly(tiny_model):
    det = Detector(tiny_model, max_chars=1000)
    with pytest.raises(contradict.InputError, match="limit"):
        det.find("x. " * 1000)


def test_one_call_helper(tiny_model):
    found = contradict.find("Podul e deschis. Podul nu e deschis.", model=tiny_model, threshold=0.0)
    assert len(found) == 1


def test_reverse_share_scores_fewer_reverse_pairs(tiny_model, ro_article):
    from contradict.errors import InputError

    full = Detector(tiny_model, threshold=0.0, show_progress_bar=False)
    cheap = Detector(tiny_model, threshold=0.0, show_progress_bar=False, reverse_share=0.25)
    calls = []
    predict = cheap.scorer.predict
    cheap.scorer.predict = lambda pairs, **kw: calls.append(len(pairs)) or predict(pairs, **kw)
    everything, some = full.find(ro_article), cheap.find(ro_article)
    assert all(c.reverse_scored for c in everything)
    n = some.stats.pairs_scored
    assert calls[0] == n and n // 4 <= calls[1] < n  # a quarter of the pairs (and any denial) reversed
    flagged = [c for c in some if c.reverse_scored]
    assert len(flagged) == calls[1]
    for c in some:  # a pair not reversed reuses its first direction, and says so in the JSON
        if not c.reverse_scored:
            assert c.probs["ba"] == c.probs["ab"] and c.to_dict()["reverse_scored"] is False
    # the reversed pairs are the most contradictory ones by their first direction
    lowest_flagged = min(c.probs["ab"]["contradiction"] for c in flagged if "denial" not in c.kinds)
    assert all(c.probs["ab"]["contradiction"] <= lowest_flagged + 1e-9 for c in some if not c.reverse_scored)
    with pytest.raises(InputError, match="reverse_share"):
        Detector(tiny_model, reverse_share=1.5)


def test_pipe_matches_find_document_by_document_in_fewer_model_calls(tiny_model, ro_article):
    det = Detector(tiny_model, threshold=0.0, show_progress_bar=False)
    texts = [ro_article[:400], "Podul e deschis. Podul nu e deschis.", "   ", ro_article[400:900],
             ("Le pont est ouvert. Le pont est fermé.", "fr")]
    one_by_one = [det.find(t) if isinstance(t, str) and t.strip() else None for t in texts[:-1]]
    one_by_one.append(det.find(texts[-1][0], lang="fr"))
    calls = []
    predict = det.scorer.predict
    det.scorer.predict = lambda pairs, **kw: calls.append(len(pairs)) or predict(pairs, **kw)
    piped = list(det.pipe(texts, batch_size=8))
    assert len(piped) == len(texts) and len(calls) == 1  # every document's pairs in one scoring call
    assert piped[2] == [] and piped[2].stats.statements == 0
    for alone, together in zip(one_by_one, piped):
        if alone is None:
            continue
        assert together, "threshold 0 keeps every scored pair"
        assert [(c.a.start, c.b.start) for c in together] == [(c.a.start, c.b.start) for c in alone]
        assert [c.score for c in together] == pytest.approx([c.score for c in alone], abs=1e-5)
        assert together.stats.pairs_scored == alone.stats.pairs_scored


def test_per_call_threshold_and_top_k_leave_the_detector_unchanged(tiny_model, ro_article):
    det = Detector(tiny_model, threshold=0.99, top_k=1)
    everything = det.find(ro_article, threshold=0.0, top_k=0)
    assert len(everything) == everything.stats.pairs_scored > 1
    assert (det.threshold, det.top_k) == (0.99, 1)
    assert len(det.find(ro_article, threshold=0.0)) == 1  # the detector's own top_k still applies


def test_one_call_helper_keeps_few_detectors_and_takes_dict_options(tiny_model):
    from contradict.pipeline import detector as module

    mapping = {"LABEL_0": "entailment", "LABEL_1": "neutral", "LABEL_2": "contradiction"}
    for threshold in (0.0, 0.1, 0.2):
        contradict.find("Podul e deschis. Podul nu e deschis.", model=tiny_model, threshold=threshold,
                        label_map=mapping)
    assert len(module._DETECTORS) == module._DETECTORS_KEPT


def test_pipe_with_a_reverse_share_reverses_each_documents_own_top_pairs(tiny_model, ro_article):
    det = Detector(tiny_model, threshold=0.0, show_progress_bar=False, reverse_share=0.25)
    texts = [ro_article[:500], ["Podul e deschis. Podul nu e deschis. Podul e închis.", "ro"], ro_article[500:1100]]
    alone = [det.find(texts[0]), det.find(texts[1][0], lang="ro"), det.find(texts[2])]
    piped = list(det.pipe(texts))
    for one, together in zip(alone, piped):
        assert together, "threshold 0 keeps every scored pair"
        assert [(c.a.start, c.b.start, c.reverse_scored) for c in together] == \
               [(c.a.start, c.b.start, c.reverse_scored) for c in one]


def test_pipe_refuses_what_is_not_text(tiny_detector):
    from contradict.errors import InputError

    with pytest.raises(InputError, match="expected text"):
        list(tiny_detector.pipe(["Podul e deschis.", 42]))

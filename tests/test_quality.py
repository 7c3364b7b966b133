"""Quality of the real embedded model on the canonical Romanian case (loads the shipped weights)."""
import pytest

from conftest import SHARED

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def detector():
    import contradict

    return contradict.Detector()


def _rank_of(found, side_a, side_b, k=3):
    for rank, c in enumerate(found[:k], 1):
        for one, other in ((c.a.text, c.b.text), (c.b.text, c.a.text)):  # each side in a different statement
            if any(m in one for m in side_a) and any(m in other for m in side_b):
                return rank
    return None


def test_bundled_romanian_example_puts_the_canonical_pair_first(detector, ro_article):
    found = detector.find(ro_article)
    rank = _rank_of(found, ["o singură dată"], ["în mod regulat din 2022", "întâlniri lunare", "țin legătura"], k=1)
    assert rank == 1, [(c.a.text, c.b.text) for c in found[:3]]


@pytest.fixture(scope="module")
def seed_found(detector):
    seeds = sorted((SHARED / "seeds").glob("*.txt")) if (SHARED / "seeds").is_dir() else []
    if not seeds:
        pytest.skip("../shared/seeds is absent")
    return detector.find(seeds[0].read_text(encoding="utf-8"), threshold=0.0, top_k=10)


# the WSJ's report of contact since 2022, in the article's words
KEPT_IN_TOUCH = ["începând cu anul 2022", "au început în anul 2022", "păstrat legătura", "contacte regulate",
                 "continuat să comunice"]


def test_seed_article_puts_the_single_call_pair_first(seed_found):
    rank = _rank_of(seed_found, ["o singură discuție", "un apel telefonic"], KEPT_IN_TOUCH, k=1)
    assert rank == 1, [(c.a.text, c.b.text) for c in seed_found[:3]]


def test_seed_article_has_the_kremlin_denial_against_the_report_in_top_5(seed_found):
    rank = _rank_of(seed_found, ["neagă faptul că"], [m for m in KEPT_IN_TOUCH if m != "contacte regulate"], k=5)
    assert rank is not None, [(c.a.text, c.b.text) for c in seed_found[:5]]


def test_obvious_contradiction_outranks_consistent_pair(detector):
    probs = detector.score_pairs([("Podul a fost închis în 2021.", "Podul nu a fost închis niciodată."),
                                  ("Podul a fost închis în 2021.", "Podul a fost închis acum câțiva ani.")])
    assert probs[0, 2] > probs[1, 2]


def test_int8_backend_keeps_the_canonical_pair_in_top_3(ro_article):
    pytest.importorskip("onnxruntime")
    import contradict

    found = contradict.Detector(backend="onnx-int8").find(ro_article)
    assert _rank_of(found, ["o singură dată"], ["în mod regulat din 2022", "întâlniri lunare"]) is not None

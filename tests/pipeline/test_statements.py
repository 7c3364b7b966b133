import pytest

from contradict.pipeline.statements import detect_language, is_denial, segment, sentence_spans


def texts_of(doc):
    return [s.text for s in doc]


def assert_offsets(text, doc):
    for s in doc:
        assert text[s.start:s.end] == s.text
        assert s.sentence_start <= s.start < s.end <= s.sentence_end
        if s.source is not None:
            assert text[s.source_start:s.source_end] == s.source


@pytest.mark.parametrize("lang,text,expected", [
    ("ro", "Dl. Popescu a plătit 2,1 mil. lei, adică 1.200 de lei pe lună, conform art. 12 alin. 3. "
           "Nr. 5 din str. Mare e închis etc. și nu se redeschide. Ion I. C. Brătianu a fost premier.", 3),
    ("en", "Mr. Smith paid $3.5 million on Jan. 5. Dr. Jones disagreed, i.e. she voted no. The U.S. team won.", 3),
    ("fr", "M. Dupont a payé 2,5 millions d'euros. Mme Durand n'est pas d'accord. Le vote a eu lieu hier.", 3),
    ("de", "Dr. Müller zahlte z.B. 1.200 Euro am 3. Mai. Die Stadt widersprach. Der Bau beginnt im Herbst.", 3),
    ("es", "El Sr. García pagó 2,5 millones. La Sra. López no está de acuerdo. La votación fue ayer.", 3),
])
def test_sentences_and_abbreviations(lang, text, expected):
    doc = segment(text, lang=lang)
    assert len(doc) == expected, texts_of(doc)
    assert_offsets(text, doc)


def test_quote_followed_by_lowercase_attribution_stays_one_sentence():
    text = "„Nu este adevărat!” a spus ministrul. Apoi a plecat."
    spans = sentence_spans(text, "ro")
    assert len(spans) == 2
    assert text[spans[0][0]:spans[0][1]] == "„Nu este adevărat!” a spus ministrul."


def test_text_in_lower_case_throughout_still_splits_into_sentences():
    # in cased text a lower-case opening continues the sentence; in lower-cased text it cannot mean that
    text = "ana a spus că fabrica se închide. ion a spus că fabrica rămâne deschisă. nimeni nu a confirmat."
    assert [text[a:b] for a, b in sentence_spans(text, "ro")] == [
        "ana a spus că fabrica se închide.", "ion a spus că fabrica rămâne deschisă.", "nimeni nu a confirmat."]
    # one capitalised sentence makes the text cased: lower-case openings after quotes or digits stay joined
    quotes = "„Nu!” a spus el. „Da!” a răspuns ea. „nu acum!” a adăugat."
    assert [quotes[a:b] for a, b in sentence_spans(quotes, "ro")] == [
        "„Nu!” a spus el.", "„Da!” a răspuns ea. „nu acum!” a adăugat."]
    assert len(sentence_spans("Trei miniștri au plecat. 3 au rămas. „bine!” a spus unul.", "ro")) == 2


def test_paragraphs_never_merge():
    text = "Primul paragraf fără punct\n\nAl doilea paragraf"
    doc = segment(text, lang="ro")
    assert texts_of(doc) == ["Primul paragraf fără punct", "Al doilea paragraf"]


@pytest.mark.parametrize("lang,text,source,claim", [
    ("ro", "Dmitri Peskov a declarat că președintele a avut o singură discuție cu Musk.", "Dmitri Peskov",
     "președintele a avut o singură discuție cu Musk."),
    ("ro", "Potrivit EFE, Kremlinul a respins afirmațiile.", "EFE", "Kremlinul a respins afirmațiile."),
    ("ro", "Conform unui raport al ziarului Adevărul, cei doi vorbesc des.", "Adevărul",
     "cei doi vorbesc des."),
    # the head noun phrase is trimmed to the outlet it names
    ("ro", "Potrivit unei anchete publicate de cotidianul Financial Times, firma a pierdut bani.", "Financial Times",
     "firma a pierdut bani."),
    ("en", "According to a report published by the Irish Times, sales fell.", "Irish Times", "sales fell."),
    ("en", "A senior official in the city government said that talks failed.",
     "A senior official in the city government", "talks failed."),
    ("ro", "Purtătorul de cuvânt al ministerului, Elena Stan, a declarat că nu a existat nicio întâlnire.",
     "Elena Stan", "nu a existat nicio întâlnire."),
    ("ro", "Elena Stan a declarat: „Nu a existat nicio întâlnire.”", "Elena Stan", "„Nu a existat nicio întâlnire.”"),
    ("en", "The mayor said that the bridge will open in May.", "The mayor", "the bridge will open in May."),
    ("en", "According to the Wall Street Journal, the two spoke regularly.", "the Wall Street Journal",
     "the two spoke regularly."),
    ("en", "The two spoke regularly, according to the WSJ.", "the WSJ", "The two spoke regularly"),
    ("fr", "Selon Le Monde, l'usine fermera en juin.", "Le Monde", "l'usine fermera en juin."),
    ("fr", "Le directeur, Paul Girard, a déclaré que l'usine ne fermera pas.", "Paul Girard",
     "l'usine ne fermera pas."),
    ("de", "Laut Reuters wurde die Brücke 2021 geschlossen.", "Reuters", "wurde die Brücke 2021 geschlossen."),
    ("de", "Die Bürgermeisterin sagte, dass die Brücke offen sei.", "Die Bürgermeisterin", "die Brücke offen sei."),
    ("es", "Según El País, el alcalde se reunió con ellos.", "El País", "el alcalde se reunió con ellos."),
    ("es", "El portavoz Carlos Ruiz afirmó que el alcalde nunca se reunió con ellos.", "El portavoz Carlos Ruiz",
     "el alcalde nunca se reunió con ellos."),
])
def test_attribution(lang, text, source, claim):
    doc = segment(text, lang=lang)
    assert len(doc) == 1
    st = doc.statements[0]
    assert (st.source, st.text) == (source, claim)
    assert_offsets(text, doc)


def test_no_source_when_nobody_speaks():
    doc = segment("Podul a fost închis în 2021. Lucrările încep în toamnă.", lang="ro")
    assert [s.source for s in doc] == [None, None]


def test_denying_verb_stays_in_claim():
    st = segment("Kremlinul neagă faptul că Putin a vorbit cu Musk.", lang="ro").statements[0]
    assert st.source == "Kremlinul"
    assert st.text.startswith("neagă")  # the claim asserts the denial, not the denied fact


def test_pronoun_and_running_quote_keep_the_speaker():
    text = ('Dmitri Peskov a declarat că nu au existat contacte. El a mai adăugat: "Conversația a fost scurtă. '
            'Toate astea sunt minciuni".')
    doc = segment(text, lang="ro")
    assert [s.source for s in doc] == ["Dmitri Peskov"] * len(doc)
    assert_offsets(text, doc)


def test_bare_denial_points_back_to_the_named_source():
    text = ("Potrivit Gazetei de Vest, ministrul s-a întâlnit des cu directorul. Vremea a fost frumoasă. "
            "Purtătorul de cuvânt a declarat: „Nu, nu este adevărat.” Este o informație falsă a Gazetei de Vest.")
    doc = segment(text, lang="ro")
    denial = next(s for s in doc if is_denial(s.text))
    assert denial.denies == 0
    claim, weather = doc.statements[0], doc.statements[1]
    assert denial.denial_with(claim) and claim.denial_with(denial)
    assert not denial.denial_with(weather) and not claim.denial_with(weather)


@pytest.mark.parametrize("text,lang", [
    ("Ministrul a declarat că nu există nicio relație între cei doi și că întâlnirea nu a avut loc.", "ro"),
    ("The minister said that there is no relation between the two of them.", "en"),
    ("Le ministre a déclaré qu'il n'y a aucune relation entre les deux.", "fr"),
    ("Der Minister sagte, dass es keine Beziehung zwischen den beiden gibt.", "de"),
    ("El ministro dijo que no hay ninguna relación entre los dos.", "es"),
])
def test_language_detection(text, lang):
    assert detect_language(text) == lang


def test_bundled_examples_segment_with_exact_offsets():
    from pathlib import Path

    for path in sorted((Path(__file__).resolve().parents[2] / "data").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        doc = segment(text)
        assert len(doc) >= 3, path.name
        assert_offsets(text, doc)

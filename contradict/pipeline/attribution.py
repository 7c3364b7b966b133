"""Who said it: the source of reported speech in a sentence, and bare denials.

"Peskov a declarat că P", "according to the WSJ, P", "„P”, a spus el", "laut der Zeitung P" give the
claim P and its source; "Nu, nu este adevărat." is a denial that names no claim of its own.
"""
from __future__ import annotations

import re

LANGS = ("ro", "en", "fr", "de", "es")

# Verbs of saying, per language; the claim follows "că"/"that"/"que"/"dass" or a colon.
_SAY = {
    "ro": r"(?:a|au|ar fi|a mai|au mai)\s+(?:declarat|spus|afirmat|precizat|anunțat|anunţat|transmis|"
          r"susținut|susţinut|adăugat|adaugat|subliniat|explicat|arătat|raportat|scris|negat|confirmat|"
          r"dezvăluit|relatat|comunicat|reiterat|insistat)|susține|susţine|afirmă|declară|spune|"
          r"neagă|arată|relatează|scrie|anunță|anunţă|consideră|crede|raportează",
    "en": r"said|says|told\s+\w+|stated|claimed|claims|reported|reports|added|argued|insisted|denied|"
          r"announced|wrote|explained|confirmed|maintained|maintains|asserted|noted|insists|argues|"
          r"has\s+said|had\s+said|has\s+claimed",
    "fr": r"a\s+(?:déclaré|dit|affirmé|précisé|annoncé|ajouté|expliqué|indiqué|assuré|souligné|nié|"
          r"confirmé|rapporté|écrit)|affirme|déclare|dit|assure|estime|indique|explique",
    "de": r"sagte|sagt|erklärte|erklärt|behauptete|behauptet|betonte|berichtete|berichtet|teilte\s+mit|"
          r"schrieb|versicherte|bestätigte|bestritt|meinte|fügte\s+hinzu",
    "es": r"dijo|ha\s+dicho|afirmó|declaró|aseguró|señaló|explicó|indicó|añadió|sostuvo|negó|"
          r"confirmó|informó|afirma|asegura|dice|sostiene|declara",
}
_THAT = r"(?:\s+(?:că|ca|that|que|dass)\b|\s+qu'|\s*,\s*dass\b|\s*:)"
# "according to X, …" at the start of a sentence.
_ACCORDING = (r"(?:potrivit|conform|in\s+accordance\s+with|according\s+to|selon|d'après|"
              r"laut|nach\s+Angaben\s+(?:von|der|des)|zufolge|según|de\s+acuerdo\s+con)")
PRONOUNS = {"el", "ea", "ei", "ele", "he", "she", "they", "il", "elle", "ils", "elles", "er", "sie",
             "él", "ella", "ellos", "ellas", "acesta", "aceasta", "dânsul", "dânsa"}

def _compile(lang: str):
    say = _SAY[lang]
    source = r"(?P<src>[^,;:]{2,80}?|[^;:]{2,120}?)"
    return [
        # "Peskov a declarat (anterior) că P" / "X said that P" / "X a declarat: „P”"
        re.compile(rf"^{source}\s*,?\s+(?P<verb>{say})\b(?:\s+[\w-]+){{0,3}}?{_THAT}\s*(?P<claim>.+)$", re.S),
        # English often drops "that": "X said the plan failed"
        *([re.compile(rf"^{source}\s*,?\s+(?P<verb>{say})\b\s*(?P<claim>.+)$", re.S)] if lang == "en" else []),
        # "„P”, a declarat Peskov." / "P, X said."
        re.compile(rf"^(?P<claim>.+?)(?:,|[”»\"]\s*,?)\s+(?:{say})\s+(?P<src>[^,;:]{{2,80}}?)\s*[.!?]?$", re.S),
        re.compile(rf"^(?P<claim>.+?),\s+(?P<src>[A-ZĂÂÎȘȚÉ][^,;:]{{1,60}}?)\s+(?:{say})\s*[.!?]?$", re.S),
    ]


_PATTERNS = {lang: _compile(lang) for lang in LANGS}
_ACCORDING_FRONT = re.compile(rf"^{_ACCORDING}\s+(?P<src>[^,]{{2,120}}?)\s*,\s*(?P<claim>.+)$", re.S | re.I)
_ACCORDING_BACK = re.compile(rf"^(?P<claim>.+?),\s*{_ACCORDING}\s+(?P<src>[^,]{{2,120}}?)\s*[.!?]?$", re.S | re.I)
_LAUT_FRONT = re.compile(r"^(?i:laut|zufolge)\s+(?P<src>(?:(?:der|die|das|des|dem|den)\s+)?[A-ZÄÖÜ][\w.-]*"
                         r"(?:\s+[A-ZÄÖÜ][\w.-]*)*)\s+(?P<claim>.+)$", re.S)


# a verb of denying: "X neagă că P" asserts not-P, and "rejected claims of regular contact" asserts none
DENYING_VERB = re.compile(r"\b(?:neag[ăa]|negat|respin[sg]e?|den(?:y|ies|ied)|reject(?:s|ed)?|dément|dementi|nié|"
                          r"bestr(?:eitet|itt)|neg(?:ó|ar)|niega|rechaz)", re.I)


def _plausible_source(src: str) -> bool:
    words = src.split()
    if not words or len(words) > 12:
        return False
    if any(q in src for q in "„“«\""):
        return False
    # a source names someone: a capital letter, a pronoun, or a determiner phrase ("the ministry")
    return bool(re.search(r"[A-ZĂÂÎȘȚÄÖÜÉ]", src)) or words[0].lower() in PRONOUNS or len(words) >= 2


_LOWER_WORD = r"[a-zăâîșşțţéèêàâçäöüßñáíóú][\w'’-]*"
_CAPITAL_WORD = r"[A-ZĂÂÎȘŞȚŢÄÖÜÉÈÀÇÑÁÍÓÚ][\w.&'’-]*"
# "unei anchete publicate de cotidianul The Wall Street Journal", "a report published by the Financial Times":
# a common-noun head, a word of authorship or ownership, an optional designator, then the named outlet
_OUTLET = re.compile(rf"^(?:{_LOWER_WORD}\s+){{1,6}}?(?:de|al|a|ale|ai|of|by|par|du|des|de\s+la|von|der|del)\s+"
                     rf"(?:{_LOWER_WORD}\s+){{0,2}}?(?P<name>{_CAPITAL_WORD}(?:\s+(?:{_CAPITAL_WORD}|of|de|du|der|"
                     rf"des|&))*)$")


def _clean_source(src: str) -> str:
    src = src.strip(" ,.;:\"'„”«»")
    # the part next to the verb is the speaker: "Purtătorul de cuvânt al lui Putin, Dmitri Peskov" -> the
    # appositive name; "La începutul anului 2024, serviciile de informații" -> the subject, not the date
    parts = [p.strip() for p in src.split(",") if p.strip()]
    src = parts[-1] if parts else src
    outlet = _OUTLET.match(src)
    return outlet.group("name") if outlet else src


def attribute(sentence: str, lang: str):
    """Split a sentence into (claim_start, claim_end, source, src_start, src_end), offsets within it.

    Returns None when the sentence reports nobody's speech.
    """
    for pattern in ([_ACCORDING_FRONT, _ACCORDING_BACK] + ([_LAUT_FRONT] if lang == "de" else [])
                    + _PATTERNS.get(lang, []) + (_PATTERNS["en"] if lang != "en" else [])):
        match = pattern.match(sentence)
        if not match:
            continue
        src = match.group("src")
        claim_start, claim_end = match.span("claim")
        if "verb" in match.groupdict() and DENYING_VERB.search(match.group("verb")):
            claim_start = match.start("verb")  # "X neagă că P" asserts not-P: keep the verb in the claim
        explicit = pattern in (_ACCORDING_FRONT, _ACCORDING_BACK, _LAUT_FRONT)
        if not (explicit or _plausible_source(src)) or claim_end - claim_start < 3 or len(src.split()) > 12:
            continue
        cleaned = _clean_source(src)
        offset = sentence.find(cleaned, match.start("src"))
        src_start = offset if offset >= 0 else match.start("src")
        return claim_start, claim_end, cleaned, src_start, src_start + len(cleaned)
    return None


_DENIAL = re.compile(
    r"^\W*(?:nu\W+)?(?:(?:nu|nu\s+este|nu\s+e)\s+(?:este\s+)?adevărat|este\s+(?:complet\s+|absolut\s+)?fals|"
    r"e\s+fals|sunt\s+minciuni|este\s+o\s+minciună|(?:that|this|it)(?:'s|\s+is)\s+(?:not\s+true|false|a\s+lie|untrue)|"
    r"not\s+true|c'est\s+faux|ce\s+n'est\s+pas\s+vrai|das\s+ist\s+(?:falsch|nicht\s+wahr|gelogen)|"
    r"(?:eso\s+)?(?:es|no\s+es)\s+(?:falso|verdad|mentira))\b", re.I)


def is_denial(claim: str) -> bool:
    """A bare denial ("Nu, nu este adevărat.", "That is not true") names no claim of its own."""
    return bool(_DENIAL.match(claim.lstrip("\"'„“«")))

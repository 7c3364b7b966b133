"""Statements: sentences with character offsets, split into claim and source.

`segment(text)` returns a `Document`; each `Statement` is a span of the text
(`text[s.start:s.end] == s.text`) holding the claim, with the sentence it came
from and, when the sentence reports speech ("Peskov a declarat că …",
"according to the WSJ, …"), the source's name and span.

Sentence boundaries come from `sentencex` (rule-based, ~300 languages, no model
download), repaired where it splits after abbreviations (dl., nr., art., mil.)
or before a lower-case continuation ("„…!” a spus el").
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

import sentencex

LANGS = ("ro", "en", "fr", "de", "es")

# Abbreviations after which a period does not end a sentence (lower-cased, without the dot).
ABBREVIATIONS = {
    "ro": "dl dna dlui dnei d-l d-na dra prof dr ing gen col lt cpt sf nr art alin lit pct par cap str bd "
          "bl ap sc et jud mun com sat tel fig vol pag ed mil mld mii sec etc ș.a ş.a ex resp aprox cca ian "
          "feb febr mar apr iun iul aug sept oct nov dec urm vs",
    "en": "mr mrs ms dr prof st jr sr gen col lt sgt capt gov sen rep no vs etc inc ltd co corp jan feb mar "
          "apr jun jul aug sep sept oct nov dec fig vol approx e.g i.e u.s",
    "fr": "m mm mme mlle dr pr st ste etc cf p ex av bd janv févr avr juil sept oct nov déc no",
    "de": "dr prof hr fr nr str bzw ca usw evtl ggf z.b d.h jan feb apr jun jul aug sep sept okt nov dez",
    "es": "sr sra srta dr dra prof d dña etc ej pág núm art av ene feb abr jun jul ago sept oct nov dic",
}
_ABBR = {w for words in ABBREVIATIONS.values() for w in words.split()}
# abbreviations only before a number ("nr. 5", "art. 12"); "no." also ends "she voted no."
_NUMERIC_ABBR = {"no", "nr", "art", "alin", "lit", "pct", "par", "fig", "vol", "p", "pag", "núm", "cap", "ed"}

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
_PRONOUNS = {"el", "ea", "ei", "ele", "he", "she", "they", "il", "elle", "ils", "elles", "er", "sie",
             "él", "ella", "ellos", "ellas", "acesta", "aceasta", "dânsul", "dânsa"}
_OPEN_QUOTES, _CLOSE_QUOTES = "„“«\"‘'‹", "”“»\"’'›"
_LOWER_START = re.compile(r"^[\s\"'„“”«»(\[-]*[a-zăâîșşțţéèêàçöüäßñáíóú]")


@dataclass(frozen=True)
class Statement:
    """A claim: a span of the document, with the sentence it came from and its source."""

    text: str
    start: int
    end: int
    sentence_start: int
    sentence_end: int
    index: int  # position of the statement in its document
    source: str | None = None
    source_start: int | None = None
    source_end: int | None = None
    denies: int | None = None  # index of the earlier statement a bare denial points back to
    doc: int = 0  # which input text (0, or 1 for the second text of a comparison)

    def contains(self, other: "Statement") -> bool:
        return self.doc == other.doc and self.start <= other.start and other.end <= self.end

    def denial_with(self, other: "Statement") -> bool:
        """One of the two is a bare denial ("That is not true") pointing back at the other."""
        return self.doc == other.doc and (self.denies == other.index or other.denies == self.index)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Document:
    text: str
    statements: list[Statement] = field(default_factory=list)
    lang: str = "en"

    def __len__(self):
        return len(self.statements)

    def __iter__(self):
        return iter(self.statements)


# --------------------------------------------------------------------------- language

_STOPWORDS = {
    "ro": "și în că este pe cu nu o un la din care mai pentru sunt fost au a fi după despre către își să lui",
    "en": "the and of to is in that it was for on are with as be by this have from not",
    "fr": "le la les et est des une que dans pour qui pas sur au avec ce il sont du",
    "de": "der die das und ist nicht ein eine zu den mit sich auf für dem von des im",
    "es": "el la los las y es que en un una por con para no se del al lo como",
}
_STOP = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}


def detect_language(text: str) -> str:
    """Cheap stop-word vote over ro/en/fr/de/es; 'en' when undecided (sentencex falls back gracefully)."""
    words = re.findall(r"\w+", text[:5000].lower())
    if not words:
        return "en"
    scores = {lang: sum(w in stop for w in words) for lang, stop in _STOP.items()}
    scores["ro"] += 3 * len(re.findall(r"[șşțţăâî]", text[:5000].lower()))
    best = max(scores, key=scores.get)
    return best if scores[best] > 0 else "en"


# --------------------------------------------------------------------------- sentences

def _ends_with_abbreviation(fragment: str, following: str) -> bool:
    match = re.search(r"(\S+)\.\s*$", fragment)
    if not match:
        return False
    token = match.group(1).lower().lstrip("(\"'„«")
    if token in _NUMERIC_ABBR:
        return following.lstrip()[:1].isdigit()
    return token in _ABBR or bool(re.fullmatch(r"[a-zăâîșțéü]", token))  # initials: "I. C. Brătianu"


_LIST_ITEM = re.compile(r"[ \t]*(?:[-*•‣▪◦–—·]|\d{1,3}[.)])\s")  # "- ", "• ", "– " (dialogue), "1. ", "2) "
_TABLE_ROW = re.compile(r"\|.*\||\S\t")  # cells between pipes, or separated by tabs


def _blocks(text: str) -> list[list[int]]:
    """[start, end] of each paragraph.  Blank lines separate paragraphs; so do list items and table
    rows, which rarely end in sentence punctuation and would otherwise run together."""
    blocks: list[list[int]] = []
    block = None
    after_row = False
    pos = 0
    for line in text.split("\n"):
        end = pos + len(line)
        if not line.strip():
            block = None
        else:
            row = bool(_TABLE_ROW.search(line))
            if block is None or row or after_row or _LIST_ITEM.match(line):
                block = [pos, end]
                blocks.append(block)
            else:
                block[1] = end
            after_row = row
        pos = end + 1
    return blocks


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, paragraphs never merged."""
    spans: list[list[int]] = []
    for base, block_end in _blocks(text):
        pieces = [(b["start_index"] + base, b["end_index"] + base)
                  for b in sentencex.get_sentence_boundaries(lang, text[base:block_end])]
        current: list[int] | None = None
        for start, end in pieces:
            piece = text[start:end]
            if not piece.strip():
                continue
            if current is not None and (_ends_with_abbreviation(text[current[0]:current[1]], piece)
                                        or _LOWER_START.match(piece)):
                current[1] = end
                continue
            current = [start, end]
            spans.append(current)
    result = []
    for start, end in spans:
        chunk = text[start:end]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk) - len(chunk.rstrip())
        if end - trail > start + lead and re.search(r"\w", chunk):  # "|---|---|", "***": no claim
            result.append((start + lead, end - trail))
    return result


# --------------------------------------------------------------------------- attribution

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


_NEGATING_VERB = re.compile(r"neag|negat|respins|denied|denies|dementi|nié|bestritt|bestreitet|negó|niega", re.I)


def _plausible_source(src: str) -> bool:
    words = src.split()
    if not words or len(words) > 12:
        return False
    if any(q in src for q in "„“«\""):
        return False
    # a source names someone: a capital letter, a pronoun, or a determiner phrase ("the ministry")
    return bool(re.search(r"[A-ZĂÂÎȘȚÄÖÜÉ]", src)) or words[0].lower() in _PRONOUNS or len(words) >= 2


def _clean_source(src: str) -> str:
    src = src.strip(" ,.;:\"'„”«»")
    # the part next to the verb is the speaker: "Purtătorul de cuvânt al lui Putin, Dmitri Peskov" -> the
    # appositive name; "La începutul anului 2024, serviciile de informații" -> the subject, not the date
    parts = [p.strip() for p in src.split(",") if p.strip()]
    return parts[-1] if parts else src


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
        if "verb" in match.groupdict() and _NEGATING_VERB.search(match.group("verb")):
            claim_start = match.start("verb")  # "X neagă că P" asserts not-P: keep the verb in the claim
        explicit = pattern in (_ACCORDING_FRONT, _ACCORDING_BACK, _LAUT_FRONT)
        if not (explicit or _plausible_source(src)) or claim_end - claim_start < 3 or len(src.split()) > 12:
            continue
        cleaned = _clean_source(src)
        offset = sentence.find(cleaned, match.start("src"))
        src_start = offset if offset >= 0 else match.start("src")
        return claim_start, claim_end, cleaned, src_start, src_start + len(cleaned)
    return None


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink [start, end) past whitespace and unbalanced wrapping quotes."""
    while start < end and (text[start].isspace() or text[start] in _OPEN_QUOTES and
                           not any(c in _CLOSE_QUOTES for c in text[start + 1:end])):
        start += 1
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    return start, end


def _quote_balance(text: str) -> int:
    opened = sum(text.count(c) for c in "„«“")
    closed = sum(text.count(c) for c in "”»")
    straight = text.count('"')
    return (opened - closed) + (straight % 2)


_DENIAL = re.compile(
    r"^\W*(?:nu\W+)?(?:(?:nu|nu\s+este|nu\s+e)\s+(?:este\s+)?adevărat|este\s+(?:complet\s+|absolut\s+)?fals|"
    r"e\s+fals|sunt\s+minciuni|este\s+o\s+minciună|(?:that|this|it)(?:'s|\s+is)\s+(?:not\s+true|false|a\s+lie|untrue)|"
    r"not\s+true|c'est\s+faux|ce\s+n'est\s+pas\s+vrai|das\s+ist\s+(?:falsch|nicht\s+wahr|gelogen)|"
    r"(?:eso\s+)?(?:es|no\s+es)\s+(?:falso|verdad|mentira))\b", re.I)


def is_denial(claim: str) -> bool:
    """A bare denial ("Nu, nu este adevărat.", "That is not true") names no claim of its own."""
    return bool(_DENIAL.match(claim.lstrip("\"'„“«")))


def segment(text: str, lang: str | None = None, doc: int = 0) -> Document:
    """Split `text` into statements with offsets and sources."""
    lang = lang or detect_language(text)
    seg_lang = lang if lang in LANGS or len(lang) == 2 else "en"
    statements: list[Statement] = []
    last_source: tuple[str, int, int] | None = None
    open_quote_source: tuple[str, int, int] | None = None
    for s_start, s_end in sentence_spans(text, seg_lang):
        sentence = text[s_start:s_end]
        found = attribute(sentence, lang)
        source = None
        c_start, c_end = s_start, s_end
        if found:
            cs, ce, name, ss, se = found
            c_start, c_end = s_start + cs, s_start + ce
            if name.split()[0].lower() in _PRONOUNS and last_source:
                source = last_source  # "El a mai adăugat: …" continues the last named source
            else:
                source = (name, s_start + ss, s_start + se)
                last_source = source
        elif open_quote_source:
            source = open_quote_source  # a quotation running across sentences keeps its speaker
        c_start, c_end = _trim(text, c_start, c_end)
        if c_end <= c_start:
            c_start, c_end = s_start, s_end
        balance = _quote_balance(sentence)
        if found and balance > 0:
            open_quote_source = source
        elif open_quote_source and balance != 0:
            open_quote_source = None
        claim = text[c_start:c_end]
        statements.append(Statement(
            text=claim, start=c_start, end=c_end, sentence_start=s_start, sentence_end=s_end,
            index=len(statements), source=source[0] if source else None,
            source_start=source[1] if source else None, source_end=source[2] if source else None,
            doc=doc))
    return Document(text=text, statements=_tie_denials(statements), lang=lang)


def _tie_denials(statements: list[Statement]) -> list[Statement]:
    from dataclasses import replace

    tied = list(statements)
    for i, st in enumerate(statements):
        if i == 0 or not is_denial(st.text):
            continue
        # the denial's own words, plus the speaker's next sentence ("… It is false news from the Gazette")
        context = st.text
        if i + 1 < len(statements) and statements[i + 1].source in (st.source, None):
            context += " " + statements[i + 1].text
        tied[i] = replace(st, denies=_denied_claim(statements[:i], st.source, context))
    return tied


def _names(text: str) -> set[str]:
    return {w for w in re.findall(r"\b[A-ZĂÂÎȘȚÄÖÜÉ][\w-]{2,}", text)}


def _denied_claim(previous: list[Statement], speaker: str | None, claim: str) -> int | None:
    """The claim a bare denial points back to.

    When the denial names a source of earlier statements ("… publicată în The Wall Street Journal"),
    the first claim from that source; else the nearest earlier claim by someone else.
    """
    named = _names(claim)
    for st in previous:
        if st.source and st.source != speaker and len(named & _names(st.source)) >= 2:
            return st.index
    for st in reversed(previous[-4:]):
        if not is_denial(st.text) and (speaker is None or st.source != speaker):
            return st.index
    return None

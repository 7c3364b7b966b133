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
from dataclasses import dataclass, field, replace

import sentencex

from .attribution import LANGS, PRONOUNS, attribute, is_denial

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


@dataclass
class Document:
    text: str
    statements: list[Statement] = field(default_factory=list)

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


def _capitalises_sentences(pieces: list[str]) -> bool:
    """Whether any piece opens with a capital: a text in lower case throughout has none (quotes, digits and
    caseless scripts are passed over), while one capitalised sentence makes the text cased."""
    return any(next((ch for ch in piece if ch.isalpha()), "").isupper() for piece in pieces)


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, whitespace trimmed, paragraphs never merged."""
    spans: list[list[int]] = []
    blocks = [[(b["start_index"] + base, b["end_index"] + base)
               for b in sentencex.get_sentence_boundaries(lang, text[base:block_end])]
              for base, block_end in _blocks(text)]
    # a piece opening in lower case continues the sentence ("etc. and"), unless the text is written in lower
    # case throughout (chat, transcripts, lower-cased corpora), where that would make the whole text one sentence
    cased = _capitalises_sentences([text[start:end] for pieces in blocks for start, end in pieces])
    for pieces in blocks:
        current: list[int] | None = None
        for start, end in pieces:
            piece = text[start:end]
            if not piece.strip():
                continue
            if current is not None and (_ends_with_abbreviation(text[current[0]:current[1]], piece)
                                        or (cased and _LOWER_START.match(piece))):
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
            if name.split()[0].lower() in PRONOUNS and last_source:
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
    return Document(text=text, statements=_tie_denials(statements))


def _tie_denials(statements: list[Statement]) -> list[Statement]:
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

"""Surface facts of a statement that pairing and evidence tags rely on.

Entities (capitalised words not opening the sentence), numbers, years with
their temporal relation ("before 2022", "începând cu 2022"), negation cues and
cardinality cues ("o singură discuție" vs "contacte regulate").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import regex

from .attribution import DENYING_VERB

NEGATIONS = {
    # whole words that negate, in the languages we evaluate (affixes such as Turkish -me/-ma are not covered)
    "nu", "n-a", "n-au", "n-ar", "niciodată", "nicio", "niciun", "nimeni", "nimic", "nici",
    "not", "never", "no", "none", "nobody", "nothing", "neither", "nor", "n't", "cannot",
    "ne", "n'", "pas", "jamais", "aucun", "aucune", "personne", "rien",
    "nicht", "kein", "keine", "keinen", "keinem", "keiner", "nie", "niemals", "niemand", "nichts",
    "nunca", "jamás", "ningún", "ninguna", "nadie", "nada", "tampoco",
    "niet", "geen", "nooit", "niemand", "niets",  # nl
    "não", "nenhum", "nenhuma", "ninguém",  # pt
    "tidak", "bukan", "tak", "belum",  # id
    "değil", "yok", "asla",  # tr
    "не", "нет", "никогда", "никто", "ничего", "ни",  # ru
    "няма", "никога", "никой", "нищо",  # bg
    "δεν", "μη", "μην", "ποτέ", "κανείς", "τίποτα",  # el
    "لا", "لم", "لن", "ليس", "ليست",  # ar
    "نہیں", "نہ",  # ur
    "नहीं", "न", "मत",  # hi
    "hakuna", "hapana", "sio", "siyo",  # sw
    "không", "chưa", "chẳng",  # vi
}
# scripts written without spaces between words: negation is matched inside the text, less the common
# words that only contain a cue ("future", "different", "but", "continuously", "regardless", "not only", …)
UNSPACED_NEGATIONS = ("不", "没", "沒", "未", "無", "无", "ไม่")
UNSPACED_NOT_NEGATIONS = ("未来", "未來", "不同", "不过", "不過", "不断", "不斷", "无论", "無論", "不仅", "不僅", "不少",
                          "不久")
_MONTHS = ("ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie "
           "january february march april may june july august september october november december "
           "janvier février mars avril juin juillet août septembre octobre novembre décembre "
           "januar februar märz april juni juli oktober dezember "
           "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre").split()
_BEFORE = r"(?:înainte\s+de|inainte\s+de|până\s+în|before|prior\s+to|until|avant|vor|bis|antes\s+de|hasta)"
_SINCE = (r"(?:începând\s+cu(?:\s+anul)?|din(?:\s+anul)?|de\s+la|după|since|from|after|starting\s+in|depuis|après|"
          r"seit|nach|ab|desde|después\s+de|a\s+partir\s+de)")
_YEAR = r"(?:1[89]\d\d|20\d\d)"
SINGLE = re.compile(r"\b(?:o\s+singură|un\s+singur|singura|singurul|unic[ăa]?|doar\s+o\s+dată|o\s+dată|"
                    r"a\s+single|only\s+one|just\s+one|once|one[- ]off|une\s+seule|un\s+seul|une\s+fois|"
                    r"ein\s+einziges|eine\s+einzige|ein\s+einziger|nur\s+einmal|einmal|una\s+sola|un\s+solo|"
                    r"una\s+vez|única)\b", re.I)
MANY = re.compile(r"\b(?:regulat[ea]?|regulare|frecvent[ea]?|periodic[ea]?|mai\s+multe|numeroase|repetat[ea]?|"
                  r"constant|în\s+mod\s+regulat|continuat|menținut[ea]?|regular(?:ly)?|frequent(?:ly)?|repeated(?:ly)?|"
                  r"several|many|multiple|numerous|ongoing|réguli(?:er|ers|ère|èrement)|plusieurs|"
                  r"fréquent(?:s|es)?|regelmäßig(?:e|en)?|mehrere|häufig|oft|regular(?:es|mente)|varias|varios|"
                  r"frecuente(?:s|mente)?)\b", re.I)
# a word is letters with their combining marks (Devanagari and Thai vowel signs are marks, not \w)
_WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+(?:['’-][\p{L}\p{M}\p{N}]+)*")
_LETTERS = regex.compile(r"[\p{L}\p{M}\p{N}]+")
_UNSPACED = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}]+")
_NUMBER = re.compile(r"(?<![\w.,])\d{1,3}(?:[.,\s]\d{3})+(?:[.,]\d+)?(?![\w])|(?<![\w.,])\d+(?:[.,]\d+)?(?![\w])")


@dataclass(frozen=True)
class Facts:
    entities: frozenset
    numbers: frozenset  # normalised numeric strings, years excluded
    years: frozenset
    time_relations: frozenset  # ("before"|"since"|"in", year)
    months: frozenset
    negations: int
    single: bool
    many: bool
    rejects: bool  # a denying verb: "neagă", "a respins", "denied"
    words: frozenset  # lower-cased content words (>= 4 letters)


def _normalise_number(raw: str) -> str:
    digits = re.sub(r"[\s.,]", "", raw)
    # "2,1" / "2.1" are decimals (one or two digits after the separator); "1.200" is a thousand
    if re.fullmatch(r"\d+[.,]\d{1,2}", raw):
        return raw.replace(",", ".")
    return digits.lstrip("0") or "0"


def content_words(lower: str) -> set:
    """Words of four or more characters; in scripts without spaces, pairs of adjacent characters (the
    usual unit of overlap for Chinese or Thai), since a run between punctuation is a clause, not a word."""
    words = set()
    for token in _LETTERS.findall(lower):
        for run in _UNSPACED.findall(token):
            clusters = regex.findall(r"\X", run)
            words.update("".join(clusters[i:i + 2]) for i in range(len(clusters) - 1))
        words.update(w for w in _UNSPACED.sub(" ", token).split() if len(w) >= 4)
    return words


def negation_count(lower: str) -> int:
    # one apostrophe ("didn’t"); no dot left over from lower-casing a Turkish capital İ ("DEĞİL")
    lower = lower.replace("’", "'").replace("\u0307", "")
    count = sum(1 for w in _WORD.findall(lower) if w in NEGATIONS or w.endswith("n't"))
    count += len(re.findall(r"\bn-(?:a|au|ar|am|ai|o)\b", lower))
    for run in _UNSPACED.findall(lower):
        for word in UNSPACED_NOT_NEGATIONS:
            run = run.replace(word, " ")
        count += sum(run.count(cue) for cue in UNSPACED_NEGATIONS)
    return count


@lru_cache(maxsize=65536)
def facts(text: str) -> Facts:
    lower = text.lower()
    tokens = _WORD.findall(text)
    entities = set()
    for i, tok in enumerate(tokens):
        if tok[:1].isupper() and len(tok) > 1 and (i > 0 or tok.isupper()):
            entities.add(tok.lower().rstrip("'’"))
    years = set(re.findall(rf"\b{_YEAR}\b", text))
    relations = set()
    for rel, pattern in (("before", _BEFORE), ("since", _SINCE)):
        for match in re.finditer(rf"{pattern}\s+(?:(?:anul|the\s+year|l'année|dem\s+jahr|el\s+año)\s+)?"
                                 rf"(?:\w+\s+){{0,3}}?[\"„“«]?({_YEAR})\b", lower):
            relations.add((rel, match.group(1)))
    related = {year for _, year in relations}
    relations |= {("in", y) for y in years - related}
    numbers = {_normalise_number(m.group()) for m in _NUMBER.finditer(text)} - years
    words = content_words(lower)
    negations = negation_count(lower)
    return Facts(frozenset(entities), frozenset(numbers), frozenset(years), frozenset(relations),
                 frozenset(m for m in _MONTHS if re.search(rf"\b{m}\b", lower)), negations,
                 bool(SINGLE.search(text)), bool(MANY.search(text)), bool(DENYING_VERB.search(text)),
                 frozenset(words))


def topical_overlap(a: Facts, b: Facts) -> float:
    """0..1: how much the two statements are about the same things (entities, dates, words)."""
    ent = len(a.entities & b.entities) / max(1, min(len(a.entities), len(b.entities)))
    dates = 1.0 if a.years & b.years else 0.0
    words = len(a.words & b.words) / max(1, min(len(a.words), len(b.words)))
    return min(1.0, 0.5 * ent + 0.25 * dates + 0.5 * words)


def date_conflict(a: Facts, b: Facts) -> bool:
    """"before 2022" against "since 2022" / "in 2022", or the same kind of event in different years."""
    for rel_a, year_a in a.time_relations:
        for rel_b, year_b in b.time_relations:
            if year_a == year_b and "before" in (rel_a, rel_b) and rel_a != rel_b:
                return True
    if a.years and b.years and not a.years & b.years:
        return True
    return bool(a.months and b.months and not a.months & b.months and a.years == b.years)


def changed_figure(a: Facts, b: Facts) -> bool:
    """The same sentence with one figure changed: the same names and nearly the same words, and either
    other numbers for the same year or another year for the same numbers (both changed reads as a
    time series: "40 in 2019", "75 in 2020")."""
    if a.entities != b.entities:
        return False
    words_a = {w for w in a.words if not any(ch.isdigit() for ch in w)}
    words_b = {w for w in b.words if not any(ch.isdigit() for ch in w)}
    if not words_a or len(words_a & words_b) < 0.8 * len(words_a | words_b):
        return False
    numbers_differ = bool(a.numbers and b.numbers and a.numbers != b.numbers)
    years_differ = bool(a.years and b.years and a.years != b.years)
    return numbers_differ != years_differ


# how strongly each surface mismatch suggests a contradiction when two statements share their subject
CONFLICT_WEIGHTS = {"date": 0.3, "quantity": 0.3, "number": 0.25, "negation": 0.1, "denial": 0.3,
                    "changed-figure": 0.5}


def surface_evidence(kinds: list[str], a: Facts, b: Facts) -> float:
    """0..1 from the code-justified kinds, only for statements about the same entities (or worded alike)."""
    # a changed figure in the same words is about the same thing even when it names nothing
    sameness = 1.0 if "changed-figure" in kinds else min(1.0, len(a.entities & b.entities) / 2)
    if not sameness or a.rejects or b.rejects:  # "X denies that P" does not assert P's dates or counts
        return 0.0
    weight = sum(CONFLICT_WEIGHTS.get(k, 0.0) for k in kinds)
    if weight and "different-sources" in kinds:
        weight += 0.1  # two sources disagreeing: the news case
    return min(0.8, weight) * sameness


def evidence_kinds(a: Facts, b: Facts, source_a: str | None, source_b: str | None) -> list[str]:
    """Tags the code can justify from the surface of the two statements."""
    kinds = []
    if (a.negations > 0) != (b.negations > 0):
        kinds.append("negation")
    if a.numbers and b.numbers and a.numbers != b.numbers:
        kinds.append("number")
    if date_conflict(a, b):
        kinds.append("date")
    if (a.single and b.many) or (a.many and b.single):
        kinds.append("quantity")
    if changed_figure(a, b):
        kinds.append("changed-figure")
    if source_a and source_b and not same_source(source_a, source_b):
        kinds.append("different-sources")
    return kinds


def same_source(x: str, y: str) -> bool:
    """"Peskov" is "Dmitri Peskov"; "unui raport al WSJ" is "WSJ": sources share a name."""
    names_x = {w for w in re.findall(r"\w{3,}", x) if w[0].isupper()}
    names_y = {w for w in re.findall(r"\w{3,}", y) if w[0].isupper()}
    if names_x and names_y:
        return bool(names_x & names_y)
    return x.strip().lower() == y.strip().lower()

"""Labelled documents built from labelled NLI pairs: a benchmark nobody can tune by eye.

A *unit* is one anchor statement (an NLI premise) with its hypotheses and their labels.  A document
mixes one or two units' same-topic statements with filler statements of other units of the same set
and language, in a seeded random order.  Gold: anchor <-> contradicting hypothesis.  Pairs that are
ambiguous by construction (a contradicting hypothesis against the same unit's other hypotheses, which
may or may not contradict it) are listed apart and left out of the ranking metrics.  A third of the
documents are consistent: no contradicting hypothesis at all.

Variants, in turn: `plain`; `reported` (about half the statements wrapped in reported speech in their
own language, sources drawn independently of the labels); `compare` (two texts, the gold sides in
different texts).  Languages without reported-speech templates get `plain` instead.

The evaluation documents come only from evaluation splits (BENCH_SETS); the documents a ranker is fitted
on come only from the second-generation pool's validation split, which no shipped model trained on.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ..defaults import BENCH_PER_LANGUAGE
from ..files import cache_root, publish_file

BENCH_VERSION = 2  # 2: in compare documents each filler and hypothesis takes its own side (1 drew one per role)
_DRAWS = 1  # seeds the draws; a fix that draws as many numbers leaves every other document as it was
STATEMENTS = (8, 12)  # the issue allows 8-20; 8-12 keeps a full scoring run near an hour on 2 cores
CONSISTENT_SHARE = 1 / 3
REPORTED_SHARE = 0.5  # of a reported document's statements
VARIANTS = ("plain", "reported", "compare")
DEFAULT_PER_LANGUAGE = BENCH_PER_LANGUAGE

# Evaluation splits of ../shared/data/README.md (plus our Romanian test split).  RoNLI is left out: its
# labels are discourse relations (contrast is not contradiction), so its gold pairs would not be gold.
BENCH_SETS = {
    "xnli": ("xnli", "test"), "ro-nli": ("ro-nli", "test"), "indonli": ("indonli", "test"),
    "ocnli": ("ocnli", "dev"), "cnli": ("cnli", "test"), "sick": ("sick", "test"), "sick-nl": ("sick-nl", "test"),
    "sick-br": ("sick-br", "test"), "sick-fr": ("sick-fr", "test"), "conjnli": ("conjnli", "dev"),
    "climate-fever": ("climate-fever", "test"),
}
# Pool sources the first-generation runs trained on (datasets.training_pool, every item of them): the shipped
# model descends from those runs, so documents built from them, validation items or not, are left out of fit
SEEN_BY_LINEAGE = {"xnli-dev", "snli-dev", "sick", "rte3-dev", "control-dev", "cad", "ronli"}
# Climate-FEVER pairs one claim (the hypothesis column) with several evidence sentences
ANCHOR_IS_HYPOTHESIS = {"climate-fever"}

# "{name} said that {s}" in each language; {s} is the statement, its first letter lowered where the script
# has case.  German and Dutch use a colon so the statement keeps its own word order.
REPORTED = {
    "ro": ["{name} a declarat că {s}", "Potrivit lui {name}, {s}", "{name} a afirmat că {s}",
           "{name} susține că {s}"],
    "en": ["{name} said that {s}", "According to {name}, {s}", "{name} told reporters that {s}",
           "{name} claimed that {s}"],
    "fr": ["{name} a déclaré que {s}", "Selon {name}, {s}", "{name} affirme que {s}"],
    "de": ["{name} sagte: {s}", "{name} erklärte: {s}", "{name} betonte: {s}"],
    "es": ["{name} afirmó que {s}", "Según {name}, {s}", "{name} aseguró que {s}"],
    "pt": ["{name} afirmou que {s}", "Segundo {name}, {s}"],
    "nl": ["{name} zei: {s}", "{name} verklaarde: {s}"],
    "ru": ["{name} заявил, что {s}", "По словам {name}, {s}"],
    "bg": ["{name} заяви, че {s}", "Според {name}, {s}"],
    "el": ["Σύμφωνα με τον {name}, {s}", "Ο {name} δήλωσε ότι {s}"],
    "id": ["{name} mengatakan bahwa {s}", "Menurut {name}, {s}"],
    "vi": ["Theo {name}, {s}", "{name} cho biết {s}"],
    "zh": ["{name}表示，{s}", "据{name}称，{s}"],
}
NAMES = {
    "ro": ["Ion Popescu", "Maria Ionescu", "ministrul Andrei Stan", "purtătorul de cuvânt Elena Radu",
           "primarul Mihai Dobre", "agenția Agerpres"],
    "en": ["John Miller", "Sarah Collins", "the minister", "a company spokesman", "the mayor", "Reuters"],
    "fr": ["Jean Martin", "Claire Dubois", "le ministre", "un porte-parole", "le maire", "l'AFP"],
    "de": ["Thomas Müller", "Anna Schmidt", "der Minister", "ein Sprecher", "die Bürgermeisterin", "die dpa"],
    "es": ["Juan García", "Lucía Fernández", "el ministro", "un portavoz", "la alcaldesa", "la agencia EFE"],
    "pt": ["João Silva", "Ana Souza", "o ministro", "um porta-voz"],
    "nl": ["Jan de Vries", "Anna Jansen", "de minister", "een woordvoerder"],
    "ru": ["Иван Петров", "Ольга Смирнова", "министр", "пресс-секретарь"],
    "bg": ["Иван Петров", "Мария Георгиева", "министъра", "говорителя"],
    "el": ["Γιώργος Παπαδόπουλος", "Νίκος Γεωργίου", "υπουργό", "εκπρόσωπο"],
    "id": ["Budi Santoso", "Siti Rahayu", "menteri", "juru bicara"],
    "vi": ["Nguyễn Văn An", "Trần Thị Mai", "bộ trưởng", "người phát ngôn"],
    "zh": ["王伟", "李娜", "部长", "发言人"],
}
_TERMINAL = ".!?。！？।۔\"”»"
_FULL_STOP = {"zh": "。", "ja": "。", "hi": "।", "ur": "۔"}


@dataclass
class Unit:
    anchor: str
    lang: str
    set: str
    group: str  # fillers come from units of the same group (set, language, genre)
    hypotheses: dict = field(default_factory=lambda: defaultdict(list))  # label -> [text]

    @property
    def statements(self) -> list[str]:
        return [self.anchor] + [h for texts in self.hypotheses.values() for h in texts]


def units_from_frame(frame: pd.DataFrame, set_name: str) -> list[Unit]:
    """Units of one set, in a stable order; each anchor with its distinct hypotheses."""
    anchor_col, other_col = (("hypothesis", "premise") if set_name in ANCHOR_IS_HYPOTHESIS
                             else ("premise", "hypothesis"))
    frame = frame[frame[anchor_col].notna() & frame[other_col].notna()]
    frame = frame[frame[anchor_col].astype(str).str.strip().ne("") & frame[other_col].astype(str).str.strip().ne("")]
    units: dict = {}
    genres = frame["genre"] if "genre" in frame else pd.Series([None] * len(frame), index=frame.index)
    for anchor, other, label, lang, genre in zip(frame[anchor_col], frame[other_col], frame["label"], frame["lang"],
                                                 genres):
        key = (lang, anchor)
        if key not in units:
            group = f"{set_name}/{lang}" + (f"/{genre}" if isinstance(genre, str) and genre else "")
            units[key] = Unit(anchor.strip(), lang, set_name, group)
        unit = units[key]
        text = other.strip()
        if text != unit.anchor and all(text not in texts for texts in unit.hypotheses.values()):
            unit.hypotheses[label].append(text)
    return list(units.values())


def _finish_sentence(text: str, lang: str) -> str:
    return text if text[-1] in _TERMINAL else text + _FULL_STOP.get(lang, ".")


def _lower_first(text: str) -> str:
    # "The talks ended" -> "the talks ended"; an acronym or a name of two capitals stays
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _reported(text: str, lang: str, rng: random.Random) -> str:
    template = rng.choice(REPORTED[lang])
    name = rng.choice(NAMES[lang])
    body = template.format(name=name, s=_lower_first(text))
    if lang == "fr":
        body = re.sub(r"\bque ([aeiouhâéèêîôyAEIOUH])", r"qu'\1", body)  # elision: "qu'il", "qu'avec"
    return body[0].upper() + body[1:]


def _doc_id(split: str, lang: str, set_name: str, number: int) -> str:
    return f"{split}:{set_name}:{lang}:{number:04d}"


def _assemble(parts: list[tuple[str, str]], lang: str, rng: random.Random):
    """Join (role, text) statements into one text; return it with each statement's span."""
    text, spans = "", []
    for k, (_, statement) in enumerate(parts):
        if k:
            text += "\n" if rng.random() < 0.2 else " "
        spans.append((len(text), len(text) + len(statement)))
        text += statement
    return text, spans


def _build_document(topic: list[Unit], fillers: list[str], consistent: bool, variant: str, lang: str,
                    rng: random.Random, size: int) -> dict:
    parts: list[tuple[str, str]] = []  # (role, text): role "u{k}:anchor", "u{k}:contradiction", ...
    for k, unit in enumerate(topic):
        parts.append((f"u{k}:anchor", unit.anchor))
        for label, texts in unit.hypotheses.items():
            if consistent and label == "contradiction":
                continue
            for text in texts[:2]:
                if label == "contradiction" or rng.random() < 0.7:
                    parts.append((f"u{k}:{label}", text))
    for text in fillers[:max(0, size - len(parts))]:
        parts.append(("filler", text))
    rng.shuffle(parts)
    parts = [(role, _finish_sentence(text, lang)) for role, text in parts]
    if variant == "reported":
        parts = [(role, _reported(text, lang, rng) if rng.random() < REPORTED_SHARE else text)
                 for role, text in parts]
    record = {"lang": lang, "variant": variant, "consistent": consistent}
    if variant == "compare" and len(parts) < 2:
        variant = "plain"
        record["variant"] = variant
    if variant == "compare":
        # each unit's anchor in one text and its contradicting hypotheses in the other; every other statement
        # on a side of its own draw
        sides = [0 if role.endswith(":anchor") else 1 if role.endswith(":contradiction") else int(rng.random() < 0.5)
                 for role, _ in parts]
        halves = [[part for part, part_side in zip(parts, sides) if part_side == side] for side in (0, 1)]
        if not halves[1]:
            halves[1], halves[0] = halves[0][-1:], halves[0][:-1]
        text_a, spans_a = _assemble(halves[0], lang, rng)
        text_b, spans_b = _assemble(halves[1], lang, rng)
        offset = len(text_a) + 1  # spans of text_b are stored after text_a and one separator
        roles = [r for r, _ in halves[0]] + [r for r, _ in halves[1]]
        spans = spans_a + [(s + offset, e + offset) for s, e in spans_b]
        record.update(text=text_a, text_b=text_b)
    else:
        text, spans = _assemble(parts, lang, rng)
        roles = [r for r, _ in parts]
        record["text"] = text
    by_role = defaultdict(list)
    for role, span in zip(roles, spans):
        by_role[role].append(list(span))
    gold, ambiguous = [], []
    for k in range(len(topic)):
        for contra in by_role.get(f"u{k}:contradiction", []):
            gold.extend([anchor, contra] for anchor in by_role[f"u{k}:anchor"])
        # two hypotheses of one premise may or may not contradict each other (XNLI never says): left out
        hypotheses = [span for role, spans in by_role.items() if role.startswith(f"u{k}:") and
                      role != f"u{k}:anchor" for span in spans]
        ambiguous.extend([a, b] for n, a in enumerate(hypotheses) for b in hypotheses[n + 1:])
    record.update(contradictions=gold, ambiguous=ambiguous, statements=len(parts))
    return record


def _language_units(split: str, root=None) -> dict[str, list[Unit]]:
    """lang -> units of that language (several sets may share a language)."""
    from . import datasets

    by_lang: dict[str, list[Unit]] = defaultdict(list)
    if split == "eval":
        for set_name, (loader, set_split) in BENCH_SETS.items():
            try:
                frame = datasets.load(loader, set_split, root=root)
            except datasets.DataNotFound:
                continue
            for unit in units_from_frame(frame, set_name):
                by_lang[unit.lang].append(unit)
    elif split == "fit":
        pool = datasets.validation_set(root)
        for source, frame in pool.groupby("source", sort=True):
            for unit in units_from_frame(frame, source):
                by_lang[unit.lang].append(unit)
    else:
        raise ValueError("document benchmark splits: eval (evaluation splits), fit (the pool's validation split)")
    return by_lang


def build_documents(split: str = "eval", per_language: int | None = None, seed: int = 0, root=None,
                    langs=None, reuse_topics: bool = False) -> list[dict]:
    """Seeded documents of one split: `per_language` per language, variants in turn.

    With `reuse_topics` (the fit split, whose units are few) a unit may be the topic of several documents;
    otherwise each unit is the topic of at most one document and a language gets fewer when it runs out.
    `per_language` None: the split's default (DEFAULT_PER_LANGUAGE).
    """
    per_language = per_language or DEFAULT_PER_LANGUAGE.get(split, 0)
    documents = []
    for lang, units in sorted(_language_units(split, root).items()):
        if langs and lang not in langs:
            continue
        rng = random.Random(f"{_DRAWS}:{split}:{seed}:{lang}")
        groups: dict[str, list[Unit]] = defaultdict(list)
        related: dict[str, set] = defaultdict(set)  # statements labelled against each other anywhere in the set
        for unit in units:
            groups[unit.group].append(unit)
            for text in unit.statements:
                related[text].update(unit.statements)
        topical = [u for u in units if u.hypotheses.get("contradiction") and len(u.statements) >= 2]
        calm = [u for u in units if not u.hypotheses.get("contradiction") and u.hypotheses]
        calm += [u for u in topical if u.hypotheses.get("entailment") or u.hypotheses.get("neutral")]
        rng.shuffle(topical)
        rng.shuffle(calm)
        used: set = set()
        number = 0
        while number < per_language:
            consistent = (number % 3) == 2  # a third, spread through the variants
            pool = calm if consistent else topical
            count = 2 if rng.random() < 0.3 else 1
            if reuse_topics:
                topic = rng.sample(pool, min(count, len(pool)))
            else:
                topic = [u for u in pool if id(u) not in used][:count]
            if not topic:
                break
            # a second topic labelled against the first (SICK reuses sentences, mirrored) would bring unlabelled
            # gold pairs: keep the first alone
            if len(topic) == 2 and (set(topic[1].statements) & set(topic[0].statements)
                                    or any(related[t] & set(topic[0].statements) for t in topic[1].statements)):
                topic = topic[:1]
            used.update(id(u) for u in topic)
            variant = VARIANTS[(number // 3) % len(VARIANTS)]
            if variant == "reported" and lang not in REPORTED:
                variant = "plain"
            size = rng.randint(*STATEMENTS)
            neighbours = [u for u in groups[topic[0].group] if u not in topic]
            # one statement per filler unit (its anchor or a non-contradicting hypothesis), none labelled against
            # a statement already in the document (SICK reuses sentences across pairs): no unlabelled gold
            taken = {text for unit in topic for text in unit.statements}
            fillers = []
            for unit in rng.sample(neighbours, min(len(neighbours), 3 * size)):
                text = rng.choice([unit.anchor] + unit.hypotheses.get("entailment", [])
                                  + unit.hypotheses.get("neutral", []))
                if len(fillers) < size and text not in taken and not related[text] & taken:
                    fillers.append(text)
                    taken.add(text)
            record = _build_document(topic, fillers, consistent, variant, lang, rng, size)
            record["id"] = _doc_id(split, lang, topic[0].set, number)
            record["set"] = topic[0].set
            record["sets"] = sorted({u.set for u in topic})  # fillers come from topic[0]'s group
            documents.append(record)
            number += 1
    return documents


def bench_path(split: str, per_language: int, seed: int, root=None, cache_dir=None) -> Path:
    """Keyed by the data directory and by our Romanian NLI's content too: another copy of the data builds
    its own file, and so does an edit of data/ro_nli (`--rebuild` after the shared data itself changes)."""
    from ..files import fingerprint
    from .datasets import DataNotFound, data_dir, ro_nli_dir

    try:
        where = str(data_dir(root).resolve())
    except DataNotFound:
        where = str(root)
    try:
        ours = sorted(ro_nli_dir().glob("*.jsonl"))
    except DataNotFound:
        ours = []
    tag = fingerprint(ours, extra=[where], content=True, length=8)
    base = Path(cache_dir) if cache_dir else cache_root() / "docbench"
    return base / f"v{BENCH_VERSION}-{split}-{per_language}-seed{seed}-{tag}.jsonl"


def write_documents(documents: list[dict], path: Path) -> Path:
    body = "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in documents)
    path.parent.mkdir(parents=True, exist_ok=True)
    publish_file(path, lambda tmp: tmp.write_text(body, encoding="utf-8"))
    return path


def fit_documents(per_language: int = DEFAULT_PER_LANGUAGE["fit"], seed: int = 0, root=None) -> list[dict]:
    """The ranker's documents: built from the pool's validation split, keeping only those whose every
    statement comes from a source no model of the shipped lineage trained on (not SEEN_BY_LINEAGE)."""
    return [d for d in build_documents("fit", per_language, seed, root, reuse_topics=True)
            if not set(d["sets"]) & SEEN_BY_LINEAGE]


def benchmark(split: str = "eval", per_language: int | None = None, seed: int = 0, root=None, cache_dir=None,
              rebuild: bool = False) -> Path:
    """The benchmark file of a split, built into the cache on first use (nothing of it is committed)."""
    per_language = per_language or DEFAULT_PER_LANGUAGE.get(split)
    path = bench_path(split, per_language, seed, root, cache_dir)
    if rebuild or not path.exists():
        documents = fit_documents(per_language, seed, root) if split == "fit" else \
            build_documents(split, per_language, seed, root)
        write_documents(documents, path)
    return path


def content_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]

"""Builds eval/*.ipynb with nbformat (no outputs stored). Usage: python eval/make_notebooks.py [OUT_DIR]"""
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent

PARAMS_DOC = """Parameters come from environment variables, so CI can run this notebook on a small sample with a tiny model:

| variable | default | meaning |
|---|---|---|
{rows}"""


def params_table(rows):
    return PARAMS_DOC.format(rows="\n".join(f"| `{name}` | {default} | {meaning} |" for name, default, meaning in rows))


COMMON_ROWS = [
    ("CONTRADICT_NB_MODEL", "`default`", "preset, hub id or local model directory"),
    ("CONTRADICT_NB_THREADS", "`1`", "torch CPU threads"),
]
DATA_ROWS = [
    ("CONTRADICT_NB_SAMPLE", "`200`", "rows per data set, spread evenly over it"),
    ("CONTRADICT_NB_DATA", "`$CONTRADICT_DATA` or `../shared/data`", "labelled data; sections without it are skipped"),
]

PARAMS = '''import os

MODEL = os.environ.get("CONTRADICT_NB_MODEL", "default")
THREADS = int(os.environ.get("CONTRADICT_NB_THREADS", "1"))
SAMPLE = int(os.environ.get("CONTRADICT_NB_SAMPLE", "200"))
DATA_DIR = os.environ.get("CONTRADICT_NB_DATA") or None  # None: $CONTRADICT_DATA or ../shared/data{extra}

import contradict

contradict.set_threads(THREADS)
print(f"model {{MODEL}}, {{SAMPLE}} rows per data set, {{THREADS}} thread(s)")'''

LOAD_SAMPLE = '''from contradict.errors import ContradictError


def sample_pairs(name, split=None):
    """About SAMPLE rows spread evenly over a named data set, or None (with the reason) when it is absent."""
    try:
        frame = ev.load_pairs(name, split, DATA_DIR)
    except ContradictError as exc:
        print(f"skipped {name}: {exc}")
        return None
    return ev.select_rows(frame, sample_every=max(1, len(frame) // SAMPLE), limit=SAMPLE)'''


def write(name, cells):
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    nbformat.write(nb, OUT / name)
    print("wrote", OUT / name)


# ----------------------------------------------------------------------------------- quality report
write("quality_report.ipynb", [
    new_markdown_cell("# Model quality report\n\n"
                      "3-way NLI quality of one model on XNLI test (15 languages), RoNLI test (Romanian) and "
                      "ANLI dev (adversarial English), with the same scorer the detector uses "
                      "(`contradict.evaluation`, also available as `contradict eval`).\n\n"
                      + params_table(COMMON_ROWS + DATA_ROWS)),
    new_code_cell(PARAMS.format(extra="")),
    new_code_cell('''import matplotlib.pyplot as plt
import pandas as pd

import contradict.evaluation as ev

scorer = ev.make_scorer(MODEL)
print("temperature", scorer.temperature)'''),
    new_code_cell(LOAD_SAMPLE + '''


def evaluate(name, split=None):
    pairs = sample_pairs(name, split)
    if pairs is None:
        return None
    result = ev.evaluate_pairs(pairs, scorer, show_progress_bar=False)
    result.metrics["source"] = f"{name} ({split or 'default split'})"
    return result


def headline(result):
    m = result.metrics
    return {"rows": m["n"], "accuracy": m["accuracy"], "macro-F1": m["macro_f1"], "ECE": m["ece"],
            "contradiction ROC-AUC": m["contradiction_roc_auc"], "contradiction PR-AUC": m["contradiction_pr_auc"],
            "contradiction F1": m["contradiction_binary"]["f1"]}


def show_plots(result, title):
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    y, probs = result.rows["label"], result.probs
    ev.plot_confusion(y, probs, ax=axes[0])
    ev.plot_pr_curve(y, probs, ax=axes[1])
    ev.plot_reliability(y, probs, ax=axes[2])
    fig.suptitle(title)
    fig.tight_layout()
    plt.show()


results = {}'''),
    new_markdown_cell("## XNLI test\n\nParallel rows in 15 languages (no Romanian); the per-language table is the "
                      "figure comparable to published model cards."),
    new_code_cell('''results["xnli"] = evaluate("xnli", "test")
if results["xnli"]:
    show_plots(results["xnli"], "XNLI test")
    per_language = pd.DataFrame(results["xnli"].metrics["per_language"]).T
    display(per_language.sort_values("accuracy", ascending=False))'''),
    new_code_cell('''if results["xnli"]:
    ax = per_language["accuracy"].sort_values().plot.barh(figsize=(6, 5), xlim=(0, 1), title="XNLI accuracy per language")
    plt.show()'''),
    new_markdown_cell("## RoNLI test\n\nRomanian; gold labels mapped from 4 classes (contrastive → contradiction, "
                      "entailment and consequence → entailment, unrelated → neutral). The 4-class table shows how "
                      "the model's 3-way predictions spread over each original class."),
    new_code_cell('''results["ronli"] = evaluate("ronli", "test")
if results["ronli"]:
    show_plots(results["ronli"], "RoNLI test")
    four_way = results["ronli"].metrics["label4"]
    display(pd.DataFrame({gold: {"n": v["n"], **v["predicted"]} for gold, v in four_way.items()}).T)'''),
    new_markdown_cell("## ANLI dev (R1–R3)\n\nAdversarial English pairs; per round and per reasoning tag."),
    new_code_cell('''results["anli"] = evaluate("anli", "dev")
if results["anli"]:
    show_plots(results["anli"], "ANLI dev")
    display(pd.DataFrame(results["anli"].metrics["per_round"]).T)
    display(pd.DataFrame(results["anli"].metrics["per_tag"]).T.head(15))'''),
    new_markdown_cell("## Summary"),
    new_code_cell('''summary = pd.DataFrame({name: headline(r) for name, r in results.items() if r is not None}).T
if summary.empty:
    print("no labelled data found: set CONTRADICT_NB_DATA or CONTRADICT_DATA")
else:
    display(summary)'''),
])

# ----------------------------------------------------------------------------------- Romanian walkthrough
write("romanian_walkthrough.ipynb", [
    new_markdown_cell("# Romanian walkthrough: from raw text to ranked contradictions\n\n"
                      "The bundled article `data/ro_stiri.txt` goes through each step of the pipeline that "
                      "`Detector.find` runs: statements (sentences split into claim and source), candidate pairs, "
                      "NLI scores in both directions, and the ranking that prefers specific contradictions.\n\n"
                      + params_table(COMMON_ROWS)),
    new_code_cell(PARAMS.format(extra="")),
    new_code_cell('''from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import contradict
from contradict import Detector
from contradict.pipeline.pairs import candidate_pairs
from contradict.pipeline.ranking import rank

pd.set_option("display.max_colwidth", 120)
text = (Path(contradict.__file__).resolve().parent.parent / "data" / "ro_stiri.txt").read_text(encoding="utf-8")
print(f"{len(text):,} characters\\n")
print(text[:700], "…")'''),
    new_markdown_cell("## 1. Statements\n\nEach statement is a span of the text (`text[start:end]`); reported "
                      "speech is split into the claim and its source."),
    new_code_cell('''detector = Detector(MODEL, threshold=0.0, show_progress_bar=False)
document = detector.segment(text, lang="ro")
statements = document.statements
pd.DataFrame([{"#": s.index, "claim": s.text, "source": s.source, "span": (s.start, s.end),
               "denies": s.denies} for s in statements]).set_index("#")'''),
    new_markdown_cell("## 2. Candidate pairs\n\nShort documents are checked exhaustively; longer ones keep each "
                      "statement's nearest neighbours and statements sharing an entity, number or date."),
    new_code_cell('''pairs = candidate_pairs(statements, embed=detector._embed, max_exhaustive=detector.max_exhaustive)
n = len(statements)
print(f"{len(pairs)} candidate pairs of {n * (n - 1) // 2} possible")'''),
    new_markdown_cell("## 3. NLI scores in both directions\n\nContradiction is symmetric, so each pair is scored "
                      "as (a, b) and (b, a); the raw score is the mean contradiction probability."),
    new_code_cell('''forward = [(statements[i].text, statements[j].text) for i, j in pairs]
probs = detector.score_pairs(forward + [(b, a) for a, b in forward])
probs_ab, probs_ba = probs[:len(forward)], probs[len(forward):]
c = contradict.LABELS.index("contradiction")
matrix = np.full((n, n), np.nan)
for k, (i, j) in enumerate(pairs):
    matrix[i, j] = matrix[j, i] = (probs_ab[k, c] + probs_ba[k, c]) / 2

fig, ax = plt.subplots(figsize=(7, 6))
image = ax.imshow(matrix, cmap="Reds", vmin=0, vmax=1)
ax.set_xlabel("statement")
ax.set_ylabel("statement")
ax.set_title("mean contradiction probability")
fig.colorbar(image, ax=ax)
plt.show()'''),
    new_markdown_cell("## 4. Ranking\n\nThe detector's ranker turns the two directions' probabilities into one score. "
                      "For the default model it is the learned ranker (`models/e5-small-nli/ranker.json`): it weighs "
                      "the probabilities against each statement's background (a statement that contradicts "
                      "everything carries no specific claim), the overlap of names, numbers and dates, the evidence "
                      "tags and the sources; `ranker=\"rules\"` gives the earlier hand-written formula."),
    new_code_cell('''print(type(detector.ranker).__name__)
ranked = rank(statements, pairs, probs_ab, probs_ba, threshold=0.0, ranker=detector.ranker)
pd.DataFrame([{"score": round(x.score, 3), "nli": round(x.nli, 3), "kinds": ", ".join(x.kinds),
               "a": x.a.text, "source a": x.a.source, "b": x.b.text, "source b": x.b.source}
              for x in ranked[:10]])'''),
    new_markdown_cell("The same ranking comes out of the one-call API:"),
    new_code_cell('''found = detector.find(text, lang="ro")
assert [(x.a.index, x.b.index) for x in found] == [(x.a.index, x.b.index) for x in ranked]
for position, x in enumerate(found[:5], 1):
    print(f"{position}. {x.score:.2f}  {x.a.text}\\n          ↔ {x.b.text}\\n")'''),
])

# ----------------------------------------------------------------------------------- model comparison
write("compare_models.ipynb", [
    new_markdown_cell("# Two models side by side\n\nBoth models score the same labelled pairs; the tables and "
                      "plots compare quality, calibration and where they disagree.\n\n"
                      + params_table(COMMON_ROWS[:1] + [
                          ("CONTRADICT_NB_MODEL_B", "same as model A", "the second model"),
                          ("CONTRADICT_NB_DATASET", "`xnli`", "named data set (see `contradict.evaluation.datasets.LOADERS`)"),
                          ("CONTRADICT_NB_SPLIT", "its evaluation split", "split of that data set")]
                          + COMMON_ROWS[1:] + DATA_ROWS)
                      + "\n\nWithout labelled data a few built-in pairs are used, enough to see the notebook work."),
    new_code_cell(PARAMS.format(extra='''
MODEL_B = os.environ.get("CONTRADICT_NB_MODEL_B") or MODEL
DATASET = os.environ.get("CONTRADICT_NB_DATASET", "xnli")
SPLIT = os.environ.get("CONTRADICT_NB_SPLIT") or None''') + '''
if MODEL_B == MODEL:
    print("CONTRADICT_NB_MODEL_B is not set: comparing the model with itself")'''),
    new_code_cell('''import matplotlib.pyplot as plt
import pandas as pd

import contradict.evaluation as ev

''' + LOAD_SAMPLE + '''


# a handful of invented pairs, used when no labelled data set is available
FALLBACK = pd.DataFrame([
    ("Primăria a semnat contractul luni.", "Contractul nu a fost semnat.", "contradiction", "ro"),
    ("Podul are 420 de metri.", "Podul este lung de 420 de metri.", "entailment", "ro"),
    ("Festivalul începe vineri.", "Biletele costă 150 de lei.", "neutral", "ro"),
    ("The museum opened on 3 March.", "The museum is still closed.", "contradiction", "en"),
    ("More than 40,000 people ran.", "Many people took part in the race.", "entailment", "en"),
    ("L'école ne fermera pas.", "L'école sera fermée en septembre.", "contradiction", "fr"),
    ("Das Bad wurde 1974 gebaut.", "Das Bad hat 90.000 Besucher im Jahr.", "neutral", "de"),
    ("La fábrica emplea a 400 personas.", "La fábrica tiene unos 400 empleados.", "entailment", "es"),
], columns=["premise", "hypothesis", "label", "lang"])

pairs = sample_pairs(DATASET, SPLIT)
if pairs is None:
    pairs = FALLBACK
print(f"{len(pairs)} pairs")'''),
    new_code_cell('''results = {}
for name in dict.fromkeys([MODEL, MODEL_B]):  # the same model once
    results[name] = ev.evaluate_pairs(pairs, name, show_progress_bar=False)
A, B = results[MODEL], results[MODEL_B]
labels = {"A": MODEL, "B": MODEL_B}


def headline(m):
    return {"accuracy": m["accuracy"], "macro-F1": m["macro_f1"], "ECE": m["ece"],
            "contradiction ROC-AUC": m["contradiction_roc_auc"], "contradiction PR-AUC": m["contradiction_pr_auc"],
            "contradiction precision": m["contradiction_binary"]["precision"],
            "contradiction recall": m["contradiction_binary"]["recall"]}


pd.DataFrame({"A": headline(A.metrics), "B": headline(B.metrics)})'''),
    new_markdown_cell("## Per language"),
    new_code_cell('''per_language = pd.concat({"A": pd.DataFrame(A.metrics["per_language"]).T,
                          "B": pd.DataFrame(B.metrics["per_language"]).T}, axis=1)
per_language'''),
    new_markdown_cell("## Curves\n\nPrecision-recall of contradiction vs rest, reliability, and each pair's "
                      "contradiction probability under both models."),
    new_code_cell('''fig, axes = plt.subplots(1, 3, figsize=(15, 4))
for tag, result in (("A", A), ("B", B)):
    ev.plot_pr_curve(result.rows["label"], result.probs, ax=axes[0], label=tag)
    ev.plot_reliability(result.rows["label"], result.probs, ax=axes[1], label=tag)
axes[2].scatter(A.rows["p_contradiction"], B.rows["p_contradiction"], s=8, alpha=0.5,
                c=(A.rows["label"] == "contradiction").map({True: "tab:red", False: "tab:blue"}))
axes[2].plot([0, 1], [0, 1], color="grey", linestyle=":")
axes[2].set_xlabel("A: p(contradiction)")
axes[2].set_ylabel("B: p(contradiction)")
axes[2].set_title("red: gold contradiction")
fig.tight_layout()
plt.show()'''),
    new_markdown_cell("## Where they disagree\n\nRows one model gets right and the other wrong, and the pairs "
                      "whose contradiction probability differs most."),
    new_code_cell('''both = pd.DataFrame({"premise": pairs["premise"].values, "hypothesis": pairs["hypothesis"].values,
                     "gold": A.rows["label"], "A": A.rows["predicted"], "B": B.rows["predicted"],
                     "A p(c)": A.rows["p_contradiction"].round(3), "B p(c)": B.rows["p_contradiction"].round(3)})
print(f"same prediction on {(both['A'] == both['B']).mean():.1%} of rows")
print(f"only A right: {(A.rows['correct'] & ~B.rows['correct']).sum()}, "
      f"only B right: {(~A.rows['correct'] & B.rows['correct']).sum()}")
both.assign(gap=(both["A p(c)"] - both["B p(c)"]).abs()).sort_values("gap", ascending=False).head(10)'''),
])

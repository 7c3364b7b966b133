"""A self-contained HTML report: the text(s) with contradicting statements highlighted, and a ranked table.

One file, no network: inline CSS and a small inline script (click a row to see both statements in
the text, click a highlight to jump to its row, a slider hides pairs under a score).  Every piece of
input text is escaped; the script reads only numbers and ids from the page, never text.
"""
from __future__ import annotations

import base64
import hashlib
from collections import Counter
from html import escape
from pathlib import Path
from typing import Sequence

from ..errors import ContradictError
from ..pipeline.ranking import Contradiction
from ..pipeline.statements import Statement

# Plain-words explanations of the evidence tags (features.evidence_kinds and ranking's "denial").
KIND_HELP = {
    "negation": "one statement says something is so, the other says it is not",
    "number": "the two statements give different numbers",
    "date": "they place events at different dates or times (e.g. “before 2022” vs “since 2022”)",
    "quantity": "one says “once” or “a single”, the other “regularly” or “many”",
    "changed-figure": "the same sentence with another number or year",
    "different-sources": "the statements come from different people or outlets",
    "denial": "one statement explicitly denies the other (“That is not true”)",
}

_CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --hl: 255, 176, 0; --accent: #b3261e; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 4rem; }
h1 { font-size: 1.4rem; margin: .2rem 0; } h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
.meta { color: var(--muted); margin: 0 0 1rem; }
.legend { background: #f6f6f8; border: 1px solid var(--line); border-radius: 8px; padding: .6rem 1rem; }
.legend p { margin: .3rem 0; } .legend dl { margin: .3rem 0; display: grid; grid-template-columns: max-content 1fr;
  gap: .1rem .8rem; } .legend dd { margin: 0; }
.filter { display: flex; align-items: center; gap: .8rem; margin: 1rem 0; flex-wrap: wrap; }
.filter input { width: min(360px, 60vw); }
.texts { display: grid; gap: 1rem; }
.texts.two { grid-template-columns: 1fr 1fr; }
.doc { position: relative; white-space: pre-wrap; overflow-wrap: anywhere; border: 1px solid var(--line);
       border-radius: 8px; padding: .8rem 1rem; max-height: 70vh; overflow: auto; margin: 0; }
.doc-title { font-weight: 600; margin: 0 0 .3rem; }
mark.hl { background: rgba(var(--hl), var(--a, .5)); border-radius: 3px; padding: 0 1px; cursor: pointer; }
mark.hl a { color: inherit; text-decoration: none; }
mark.hl.off { background: none; cursor: auto; }
.flash { animation: flash 1.6s ease-out; }
@keyframes flash { 0%, 40% { outline: 3px solid var(--accent); background: rgba(var(--hl), 1); } 100% { outline: 0; } }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; border-bottom: 1px solid var(--line); padding: .45rem .5rem; }
th { position: sticky; top: 0; background: #fff; }
tbody tr { cursor: pointer; } tbody tr:hover { background: #fafafa; }
td.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
.bar { display: block; height: 5px; background: rgba(var(--hl), 1); border-radius: 3px; margin-top: 3px; }
.src { color: var(--muted); font-size: .9em; }
.kind { display: inline-block; background: #eef0f4; border-radius: 999px; padding: 0 .5rem; margin: 1px;
        font-size: .85em; }
.empty { color: var(--muted); font-style: italic; }
@media (max-width: 800px) { .texts.two { grid-template-columns: 1fr; } }
"""

# Reads only numbers (data-score) and ids (data-rows) from the page: input text never reaches the script.
_SCRIPT = """
(function () {
  var slider = document.getElementById("min-score"), shown = document.getElementById("shown");
  var rows = [].slice.call(document.querySelectorAll("tr[data-rank]"));
  var marks = [].slice.call(document.querySelectorAll("mark[data-rows]"));
  var byRank = {};
  rows.forEach(function (r) { byRank[r.dataset.rank] = r; });
  function isShown(rank) { return byRank[rank] && !byRank[rank].hidden; }
  function apply() {
    var min = parseFloat(slider.value), n = 0;
    rows.forEach(function (r) { r.hidden = parseFloat(r.dataset.score) < min; if (!r.hidden) n++; });
    marks.forEach(function (m) { m.classList.toggle("off", !m.dataset.rows.split(" ").some(isShown)); });
    shown.textContent = "score \\u2265 " + min.toFixed(2) + ": " + n + " of " + rows.length + " shown";
  }
  function flash(els) {
    els.forEach(function (e) { e.classList.remove("flash"); void e.offsetWidth; e.classList.add("flash"); });
  }
  function marksOf(rank) { return marks.filter(function (m) { return m.dataset.rows.split(" ").indexOf(rank) >= 0; }); }
  function showRow(row) {
    var spans = marksOf(row.dataset.rank), seen = [];
    spans.forEach(function (m) {  // scroll each text panel to the pair's first span in it
      var panel = m.closest(".doc");
      if (seen.indexOf(panel) < 0) { seen.push(panel); panel.scrollTop = m.offsetTop - panel.clientHeight / 3; }
    });
    if (spans.length) document.getElementById("texts").scrollIntoView({ behavior: "smooth" });
    flash(spans.concat([row]));
  }
  rows.forEach(function (r) {
    r.addEventListener("click", function (ev) { ev.preventDefault(); showRow(r); });
    r.addEventListener("keydown", function (ev) { if (ev.key === "Enter") showRow(r); });
  });
  marks.forEach(function (m) {
    var next = 0;  // a span in several pairs: each click goes to the next shown row
    m.addEventListener("click", function (ev) {
      var ranks = m.dataset.rows.split(" ").filter(isShown);
      ev.preventDefault();
      if (!ranks.length) return;
      var row = byRank[ranks[next++ % ranks.length]];
      row.scrollIntoView({ behavior: "smooth", block: "center" });
      flash(marksOf(row.dataset.rank).concat([row]));
    });
  });
  slider.addEventListener("input", apply);
  apply();
})();
"""

# Content-Security-Policy: only this exact script may run, and nothing is fetched (no images, fonts, requests),
# a second wall behind the escaping.
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode("utf-8")).digest()).decode("ascii")
_CSP = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'"


def script_hash() -> str:
    """The report script's CSP source ('sha256-…'): a page that shows the report in a frame (the
    `contradict serve` page) must allow it, since the frame inherits that page's policy."""
    return f"'sha256-{_SCRIPT_HASH}'"


Span = tuple[int, int, int, float]  # start, end, rank of the pair, its score


def _anchor(doc: int, start: int) -> str:
    """Id of the highlight that starts a statement; table cells link to it."""
    return f"t{doc}-{start}"


def _highlighted(text: str, doc: int, spans: list[Span]) -> str:
    """`text` escaped, with one <mark> per stretch covered by the same set of statements.

    Statements may overlap: the text is cut at every span
    boundary, so marks never nest or cross, and a stretch covered by several pairs lists them all.
    """
    opening: dict[int, list[tuple[int, float]]] = {}
    closing: dict[int, list[tuple[int, float]]] = {}
    for start, end, rank, score in spans:
        start, end = max(0, start), min(len(text), end)
        if start < end:
            opening.setdefault(start, []).append((rank, score))
            closing.setdefault(end, []).append((rank, score))
    bounds = sorted({0, len(text), *opening, *closing})
    active: Counter = Counter()
    out = []
    for here, after in zip(bounds, bounds[1:]):
        active.update(opening.get(here, []))
        active.subtract(closing.get(here, []))
        active = +active  # drop pairs that ended here
        piece = escape(text[here:after])
        covering = sorted(active)
        if not covering:
            out.append(piece)
            continue
        ranks = [rank for rank, _ in covering]
        title = "Contradiction " + ", ".join(f"#{rank} (score {score:.2f})" for rank, score in covering[:5])
        if len(covering) > 5:
            title += f" and {len(covering) - 5} more"
        strength = 0.3 + 0.6 * max(score for _, score in covering)
        ident = f' id="{_anchor(doc, here)}"' if here in opening else ""
        out.append(f'<mark class="hl"{ident} data-rows="{" ".join(map(str, ranks))}" '
                   f'style="--a:{strength:.2f}" title="{escape(title)}">'
                   f'<a href="#row-{ranks[0]}">{piece}</a></mark>')
    return "".join(out)


def _doc_label(doc: int, n_texts: int) -> str:
    return f"Text {doc + 1}" if n_texts > 1 else "Text"


def _panel(text: str, doc: int, spans: list[Span], n_texts: int) -> str:
    body = _highlighted(text, doc, spans) or '<span class="empty">(empty)</span>'
    return f'<div><p class="doc-title">{_doc_label(doc, n_texts)}</p><div class="doc" id="doc-{doc}">{body}</div></div>'


def _statement_cell(s: Statement, n_texts: int) -> str:
    where = f"{_doc_label(s.doc, n_texts)}, characters {s.start}–{s.end}"
    source = f'<div class="src">Source: {escape(s.source)}</div>' if s.source else ""
    return f'<td><a href="#{_anchor(s.doc, s.start)}" title="{escape(where)}">{escape(s.text)}</a>{source}</td>'


def _row(rank: int, c: Contradiction, n_texts: int) -> str:
    kinds = "".join(f'<span class="kind" title="{escape(KIND_HELP.get(k, k))}">{escape(k)}</span>' for k in c.kinds)
    return (f'<tr id="row-{rank}" data-rank="{rank}" data-score="{c.score:.6f}" tabindex="0">'
            f'<td class="num">{rank}</td>'
            f'<td class="num" title="model contradiction probability before ranking: {c.nli:.2f}">'
            f'{c.score:.2f}<span class="bar" style="width:{100 * c.score:.0f}%"></span></td>'
            f"{_statement_cell(c.a, n_texts)}{_statement_cell(c.b, n_texts)}<td>{kinds}</td></tr>")


def _legend() -> str:
    kinds = "".join(f"<dt><span class=\"kind\">{escape(k)}</span></dt><dd>{escape(v)}</dd>"
                    for k, v in KIND_HELP.items())
    return ('<section class="legend"><h2>How to read this</h2>'
            "<p><b>Highlights</b> mark statements that clash with another statement; darker means a higher "
            "score. Click a highlight to see its pair in the table, or a table row to see both statements "
            "in the text.</p>"
            "<p><b>Score</b> (0 to 1) says how confident the model is that the two statements cannot both be "
            "true, and how specific the clash is: a statement that disputes everything around it scores low. "
            "It points to what to check, not a verdict: read the sources before concluding.</p>"
            f"<p><b>Evidence</b> tags name what the two statements differ on:</p><dl>{kinds}</dl></section>")


def render_html(texts: Sequence[str], found: Sequence[Contradiction], model: str | None = None,
                title: str = "Contradictions report", min_score: float = 0.0) -> str:
    """The report page as a string.  `texts`: the one scanned text, or the two compared texts
    (each statement's `doc` says which); `min_score`: where the score slider starts."""
    texts = list(texts)
    spans: list[list[Span]] = [[] for _ in texts]
    for rank, c in enumerate(found, 1):
        for s in (c.a, c.b):
            if 0 <= s.doc < len(texts):
                spans[s.doc].append((s.start, s.end, rank, c.score))
    panels = "".join(_panel(text, doc, spans[doc], len(texts)) for doc, text in enumerate(texts))
    rows = "".join(_row(rank, c, len(texts)) for rank, c in enumerate(found, 1))
    sides = ("Statement in text 1", "Statement in text 2") if len(texts) > 1 else ("Statement A", "Statement B")
    table = ("<table><thead><tr><th>#</th><th>Score</th>" + "".join(f"<th>{side}</th>" for side in sides) +
             f"<th>Evidence</th></tr></thead><tbody>{rows}</tbody></table>" if found
             else '<p class="empty">No contradictions found.</p>')
    kind = "between two texts" if len(texts) > 1 else "inside the text"
    model_line = f" · model: <code>{escape(model)}</code>" if model else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<title>{escape(title)}</title><style>{_CSS}</style></head>
<body>
<h1>{escape(title)}</h1>
<p class="meta">{len(found)} possible contradiction{"" if len(found) == 1 else "s"} {kind}{model_line}</p>
{_legend()}
<div class="filter"><label for="min-score">Hide pairs scoring under</label>
<input type="range" id="min-score" min="0" max="1" step="0.01" value="{min(max(min_score, 0.0), 1.0):.2f}">
<output id="shown" for="min-score"></output></div>
<section id="texts" class="texts{" two" if len(texts) > 1 else ""}">{panels}</section>
<h2>Ranked pairs</h2>
{table}
<script>{_SCRIPT}</script>
</body></html>
"""


def write_html(path: str | Path, texts: Sequence[str], found: Sequence[Contradiction], model: str | None = None,
               **options) -> Path:
    """Write the report to `path` (UTF-8); returns the path."""
    path = Path(path)
    try:
        path.write_text(render_html(texts, found, model=model, **options), encoding="utf-8")
    except OSError as exc:
        raise ContradictError(f"cannot write the HTML report to {path}: {exc.strerror}") from None
    return path

"""The HTML report: escaping and markup as a string, then behaviour in a real headless browser."""
from __future__ import annotations

import html
import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import DATA, ROOT
from contradict import ContradictError
from contradict.pipeline.ranking import Contradiction
from contradict.report import render_html, write_html
from contradict.pipeline.statements import Statement

OUTPUT = ROOT / "test-output"
# Each payload, if it ran, would add a <pwned> element or retitle the page: both show in the dumped DOM.
PAYLOADS = [
    "<script>document.title='PWNED';document.body.appendChild(document.createElement('pwned'))</script>",
    "<img src=x onerror=\"document.body.appendChild(document.createElement('pwned'))\">",
    "</textarea><svg onload=\"document.body.appendChild(document.createElement('pwned'))\"></svg>",
    "\"><iframe srcdoc=\"<script>parent.document.title='PWNED'</script>\"></iframe>",
    "</mark></div></table></script><details open ontoggle=\"document.body.appendChild(document.createElement('pwned'))\">",
]


def statement(text: str, part: str, index: int = 0, doc: int = 0, source: str | None = None) -> Statement:
    start = text.index(part)
    return Statement(part, start, start + len(part), start, start + len(part), index, source=source, doc=doc)


def contradiction(a: Statement, b: Statement, score: float, kinds=()) -> Contradiction:
    return Contradiction(score=score, a=a, b=b, probs={}, kinds=list(kinds), nli=score)


class Page(HTMLParser):
    """What a browser would build from the markup: the text of each panel, the marks, the rows."""

    def __init__(self, markup: str):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.panels: dict[str, str] = {}
        self.marks: list[dict] = []
        self.rows: list[dict] = []
        self.elements: list[str] = []
        self._panel: str | None = None
        self._panel_depth = 0
        self._mark: dict | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append(tag)
        if tag == "mark":
            assert "mark" not in self.stack, "marks must not nest"
            self._mark = {**attrs, "text": ""}
            self.marks.append(self._mark)
        if tag == "tr" and "data-rank" in attrs:
            self.rows.append(attrs)
        if tag == "div" and attrs.get("class") == "doc":
            self._panel, self._panel_depth = attrs["id"], len(self.stack)
            self.panels[self._panel] = ""
        if tag not in ("meta", "input"):  # void elements never close
            self.stack.append(tag)

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1:]}>"
        self.stack.pop()
        if tag == "mark":
            self._mark = None
        if len(self.stack) == self._panel_depth:
            self._panel = None

    def handle_data(self, data):
        if self._panel is not None:
            self.panels[self._panel] += data
        if self._mark is not None:
            self._mark["text"] += data


# --------------------------------------------------------------------------- the HTML string

def test_payloads_are_escaped_everywhere():
    text = " ".join(f"Fraza {i}: {p}." for i, p in enumerate(PAYLOADS))
    sts = [statement(text, f"Fraza {i}: {p}.", i, source=p) for i, p in enumerate(PAYLOADS)]
    found = [contradiction(sts[i], sts[i + 1], 0.5, kinds=[PAYLOADS[i]]) for i in range(len(sts) - 1)]
    page_html = render_html([text], found, model=PAYLOADS[3], title=PAYLOADS[0])
    page = Page(page_html)
    assert page.panels["doc-0"] == text  # the text comes back character for character
    assert page_html.count("<script") == 1  # ours
    for tag in ("img", "svg", "iframe", "textarea", "details"):
        assert tag not in page.elements
    assert html.escape(PAYLOADS[1]) in page_html


def test_one_mark_per_highlighted_span_and_one_row_per_pair():
    text = "Ion a venit luni. Ion nu a venit luni. Maria a plecat marți. Maria a rămas acasă marți."
    a, b, c, d = (statement(text, s.strip() + ".", i) for i, s in enumerate(text.split(".")[:4]))
    found = [contradiction(a, b, 0.9, ["negation"]), contradiction(c, d, 0.4), contradiction(a, d, 0.1)]
    page = Page(render_html([text], found, model="tiny"))
    assert len(page.rows) == len(found)
    assert [m["text"] for m in page.marks] == [a.text, b.text, c.text, d.text]
    assert page.marks[0]["data-rows"] == "1 3" and page.marks[3]["data-rows"] == "2 3"
    assert page.marks[0]["id"] == f"t0-{a.start}"
    assert page.panels["doc-0"] == text


def test_overlapping_spans_are_cut_into_marks_listing_all_pairs():
    text = "Primul are zece cuvinte aici, al doilea le împarte pe unele cu el."
    wide = statement(text, text, 0)
    left = statement(text, "Primul are zece cuvinte aici", 1)
    inner = statement(text, "cuvinte aici, al doilea", 2)
    found = [contradiction(wide, inner, 0.8), contradiction(left, inner, 0.6)]
    page = Page(render_html([text], found))
    assert page.panels["doc-0"] == text
    assert [(m["text"], m["data-rows"]) for m in page.marks] == [
        ("Primul are zece ", "1 2"), ("cuvinte aici", "1 2"), (", al doilea", "1 2"),
        (" le împarte pe unele cu el.", "1")]


def test_compare_puts_each_text_in_its_own_panel():
    first, second = "Podul a fost închis în 2021.", "Podul este deschis din 2019. <b>Nimic</b> altceva."
    a = statement(first, first, 0, doc=0)
    b = statement(second, "Podul este deschis din 2019.", 0, doc=1)
    page = Page(render_html([first, second], [contradiction(a, b, 0.7, ["date"])], model="m"))
    assert page.panels == {"doc-0": first, "doc-1": second}
    assert [m["id"] for m in page.marks] == ["t0-0", "t1-0"]


def test_empty_report():
    page_html = render_html([""], [], model="m")
    assert "No contradictions found." in page_html and "<mark" not in page_html


def test_write_html_to_an_impossible_place(tmp_path):
    with pytest.raises(ContradictError, match="cannot write the HTML report"):
        write_html(tmp_path / "missing-dir" / "r.html", ["x"], [])


def test_cli_html_option(tiny_model, tmp_path):
    out = tmp_path / "report.html"
    proc = subprocess.run([sys.executable, "-m", "contradict.cli", "compare", str(DATA / "ro_stiri.txt"),
                           str(DATA / "en_news.txt"), "--model", tiny_model, "--threads", "1", "--quiet",
                           "--threshold", "0", "--top-k", "5", "--format", "json", "--html", str(out)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    page = Page(out.read_text(encoding="utf-8"))
    assert len(page.rows) == 5 and set(page.panels) == {"doc-0", "doc-1"}


# --------------------------------------------------------------------------- in a headless browser

CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")
                 if shutil.which(name)), None)
needs_browser = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")


def browser(tmp_path, page: Path, *options: str) -> str:
    """Chromium's stdout for `page` (the DOM after scripts ran, with --dump-dom)."""
    proc = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
         f"--user-data-dir={tmp_path / 'chromium-profile'}", *options, page.resolve().as_uri()],
        capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def shown_line(dom: str) -> str:
    """The filter's counter, filled in by the page's script: proof the script ran."""
    match = re.search(r'<output id="shown"[^>]*>([^<]*)</output>', dom)
    assert match and match.group(1), "the report's script did not run"
    return match.group(1)


@pytest.fixture(scope="module")
def ro_report(tiny_detector, tmp_path_factory):
    text = (DATA / "ro_stiri.txt").read_text(encoding="utf-8")
    found = tiny_detector.find(text)
    assert found
    path = write_html(tmp_path_factory.mktemp("report") / "report_ro.html", [text], found, model="tiny-test-model")
    return path, found


@needs_browser
def test_browser_shows_highlights_and_rows(ro_report, tmp_path):
    path, found = ro_report
    dom = browser(tmp_path, path, "--dump-dom")
    assert len(re.findall(r'<tr id="row-\d+"', dom)) == len(found)
    statements = {(s.doc, s.start) for c in found for s in (c.a, c.b)}
    assert len(re.findall(r"<mark ", dom)) == len(statements)  # statements of one text never overlap
    assert "hidden" not in re.findall(r'<tr id="row-1"[^>]*>', dom)[0]
    assert shown_line(dom).endswith(f"{len(found)} of {len(found)} shown")
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "report_ro.png"
    shot.unlink(missing_ok=True)
    browser(tmp_path, path, f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.stat().st_size > 10_000


@needs_browser
def test_browser_score_filter_hides_rows_and_their_highlights(tmp_path):
    text = "Unu a venit. Doi nu a venit. Trei a plecat. Patru a rămas."
    sts = [statement(text, s.strip() + ".", i) for i, s in enumerate(text.split(".")[:4])]
    found = [contradiction(sts[0], sts[1], 0.9), contradiction(sts[2], sts[3], 0.3)]
    path = write_html(tmp_path / "filtered.html", [text], found, min_score=0.5)
    dom = browser(tmp_path, path, "--dump-dom")
    assert re.search(r'<tr id="row-1"(?![^>]*hidden)[^>]*>', dom)
    assert re.search(r'<tr id="row-2"[^>]*hidden', dom)
    marks = re.findall(r'<mark class="([^"]*)"[^>]*data-rows="(\d)"', dom)
    assert marks == [("hl", "1"), ("hl", "1"), ("hl off", "2"), ("hl off", "2")]
    assert shown_line(dom).endswith("1 of 2 shown")


@needs_browser
def test_browser_runs_no_payload(tmp_path):
    text = "\n\n".join(f"Paragraful {i} citează: {p} și continuă." for i, p in enumerate(PAYLOADS))
    sts = [statement(text, f"citează: {p} și continuă.", i, source=p) for i, p in enumerate(PAYLOADS)]
    found = [contradiction(sts[i], sts[i + 1], 0.5, kinds=[PAYLOADS[i]]) for i in range(len(sts) - 1)]
    path = write_html(tmp_path / "xss.html", [text, PAYLOADS[2]], found, model=PAYLOADS[0])
    dom = browser(tmp_path, path, "--dump-dom")
    shown_line(dom)  # our script ran, so a payload that could run would have
    assert "<pwned" not in dom and "PWNED" not in re.search(r"<title>(.*?)</title>", dom).group(1)
    assert not re.search(r"<(img|svg|iframe|textarea|details)[\s>]", dom)
    assert html.escape(PAYLOADS[0], quote=False) in dom  # shown as text

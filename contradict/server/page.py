"""The page at `/`: a form, and the result shown as the HTML report itself.

The result is `contradict.report.render_html`'s page, put in a sandboxed frame (its own origin: it cannot
reach this page or the API) and offered for download as it is, so the page and the report never drift
apart.  The page's script and style are served from this module (`/static/…`), never from elsewhere; the
script writes text only through `textContent`, never as markup.
"""
from __future__ import annotations

from html import escape

from contradict.report import script_hash

PAGE_CSS = """
:root { --ink: #1d1d1f; --muted: #5f6368; --line: #d9d9de; --accent: #b3261e; --button: #1a56db; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1400px; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.4rem; margin: .2rem 0 .6rem; }
.intro { color: var(--muted); margin: 0 0 1rem; }
fieldset { border: 1px solid var(--line); border-radius: 8px; margin: 0 0 1rem; padding: .6rem 1rem; }
legend { font-weight: 600; padding: 0 .3rem; }
.texts { display: grid; gap: 1rem; }
.texts.two { grid-template-columns: 1fr 1fr; }
.texts label { font-weight: 600; display: block; margin-bottom: .2rem; }
textarea { width: 100%; min-height: 12rem; font: inherit; padding: .5rem; border: 1px solid var(--line);
           border-radius: 6px; resize: vertical; }
.file { margin-top: .3rem; color: var(--muted); font-size: .9em; }
.options { display: flex; gap: 1.2rem; flex-wrap: wrap; align-items: end; }
.options label { display: flex; flex-direction: column; font-size: .9em; color: var(--muted); }
.options input { font: inherit; padding: .25rem .4rem; width: 8rem; }
.actions { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; margin: 0 0 1rem; }
button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--button);
         background: var(--button); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--button); }
button:disabled { opacity: .5; cursor: default; }
#status { color: var(--muted); }
#status.error { color: var(--accent); font-weight: 600; }
#result { width: 100%; height: 85vh; border: 1px solid var(--line); border-radius: 8px; }
#result[hidden] { display: none; }
[hidden] { display: none !important; }
@media (max-width: 800px) { .texts.two { grid-template-columns: 1fr; } }
"""

PAGE_JS = """
(function () {
  "use strict";
  var form = document.getElementById("form"), status = document.getElementById("status");
  var frame = document.getElementById("result"), run = document.getElementById("run");
  var saveJson = document.getElementById("save-json"), saveHtml = document.getElementById("save-html");
  var second = document.getElementById("second"), texts = document.getElementById("texts");
  var last = null;

  function say(message, isError) {  // textContent: whatever the server says is shown as text
    status.textContent = message;
    status.classList.toggle("error", !!isError);
  }
  function mode() { return form.elements.mode.value; }
  function showMode() {
    var compare = mode() === "compare";
    second.hidden = !compare;
    texts.classList.toggle("two", compare);
    document.getElementById("label-a").textContent = compare ? "First text" : "Text";
  }
  [].forEach.call(form.elements.mode, function (r) { r.addEventListener("change", showMode); });
  showMode();

  function request() {
    var data = new FormData(), compare = mode() === "compare";
    data.append("mode", mode());
    [["a", "text", "file"], ["b", "text_b", "file_b"]].forEach(function (side) {
      if (side[0] === "b" && !compare) return;
      var file = document.getElementById("file-" + side[0]).files[0];
      if (file) data.append(side[2], file);  // an upload wins over the text box
      else data.append(side[1], document.getElementById("text-" + side[0]).value);
    });
    ["lang", "threshold", "top_k"].forEach(function (name) {
      var value = form.elements[name].value.trim();
      if (value) data.append(name, value);
    });
    return data;
  }

  function save(name, type, content) {
    var url = URL.createObjectURL(new Blob([content], { type: type })), link = document.createElement("a");
    link.href = url; link.download = name;
    document.body.appendChild(link); link.click(); link.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 60000);
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var headers = {}, token = form.elements.token ? form.elements.token.value : "";
    if (token) headers.Authorization = "Bearer " + token;
    run.disabled = true; saveJson.disabled = true; saveHtml.disabled = true;
    say("Reading the text\\u2026", false);
    fetch("v1/report", { method: "POST", body: request(), headers: headers })
      .then(function (response) {
        return response.json().catch(function () { return { error: "HTTP " + response.status }; })
          .then(function (body) { return { ok: response.ok, status: response.status, body: body }; });
      })
      .then(function (answer) {
        if (!answer.ok) { say(answer.body.error || ("HTTP " + answer.status), true); return; }
        last = answer.body;
        frame.srcdoc = last.html;  // the report page, sandboxed
        frame.hidden = false;
        saveJson.disabled = false; saveHtml.disabled = false;
        var n = last.contradictions.length;
        say(n + " possible contradiction" + (n === 1 ? "" : "s") + " found.", false);
      })
      .catch(function (err) { say("The server could not be reached: " + err.message, true); })
      .then(function () { run.disabled = false; });
  });

  saveJson.addEventListener("click", function () {
    if (last) save("contradictions.json", "application/json", JSON.stringify(last.contradictions, null, 2));
  });
  saveHtml.addEventListener("click", function () {
    if (last) save("contradictions-report.html", "text/html", last.html);
  });
})();
"""

# The report inside the frame inherits this page's policy, so its one script's hash is allowed too.
# Nothing is fetched from elsewhere; requests go only to this server; nothing may frame the page.
PAGE_CSP = ("default-src 'none'; "
            f"script-src 'self' {script_hash()}; "
            "style-src 'self' 'unsafe-inline'; "
            "connect-src 'self'; img-src 'self' data:; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")


def page_html(model: str, version: str, token_required: bool) -> str:
    token_field = ('<label>Access token<input name="token" type="password" autocomplete="off" '
                   'required></label>' if token_required else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Find contradictions</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="static/page.css">
<script src="static/page.js" defer></script>
</head>
<body>
<h1>Find contradictions</h1>
<p class="intro">Paste or upload a text (or two texts to compare). Each pair of statements that cannot both be
true is highlighted and ranked; the score points to what to check, not a verdict.
Model <code>{escape(model)}</code> · contradict {escape(version)} · nothing leaves this server.</p>
<form id="form">
<fieldset><legend>What to check</legend>
<label><input type="radio" name="mode" value="scan" checked> One text</label>
<label><input type="radio" name="mode" value="compare"> Compare two texts</label>
</fieldset>
<section id="texts" class="texts">
<div><label id="label-a" for="text-a">Text</label>
<textarea id="text-a" name="text" spellcheck="false" placeholder="Paste the text here"></textarea>
<div class="file">or upload a UTF-8 text file: <input id="file-a" type="file" accept=".txt,text/plain"></div></div>
<div id="second" hidden><label for="text-b">Second text</label>
<textarea id="text-b" name="text_b" spellcheck="false" placeholder="Paste the second text here"></textarea>
<div class="file">or upload: <input id="file-b" type="file" accept=".txt,text/plain"></div></div>
</section>
<fieldset><legend>Options</legend><div class="options">
<label>Language<input name="lang" placeholder="detected" maxlength="16"></label>
<label>Minimum score<input name="threshold" type="number" min="0" max="1" step="0.01" placeholder="the ranker's"></label>
<label>At most<input name="top_k" type="number" min="1" step="1" placeholder="all"></label>
{token_field}
</div></fieldset>
<div class="actions">
<button id="run" type="submit">Find contradictions</button>
<button id="save-json" class="secondary" type="button" disabled>Download JSON</button>
<button id="save-html" class="secondary" type="button" disabled>Download HTML report</button>
<span id="status" role="status" aria-live="polite"></span>
</div>
</form>
<iframe id="result" title="Result: the report" sandbox="allow-scripts" hidden></iframe>
</body></html>
"""

"""`contradict serve` as a person uses it: the real command on a free loopback port, the page driven in
headless Chromium (Selenium with Debian's chromium-driver).  Skipped when no browser is installed."""
from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading

import pytest

from conftest import ROOT

webdriver = pytest.importorskip("selenium.webdriver")
pytest.importorskip("fastapi")
from selenium.common.exceptions import WebDriverException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)
DRIVER = shutil.which("chromedriver")
pytestmark = pytest.mark.skipif(CHROMIUM is None or DRIVER is None,
                                reason="chromium and chromium-driver are not installed (apt-get install chromium "
                                       "chromium-driver)")

ARTICLE = ("Ministrul a declarat că nu există nicio relație între cei doi. "
           "Potrivit presei, cei doi se întâlnesc regulat din 2022. "
           "Purtătorul de cuvânt a spus că au vorbit o singură dată, în 2021. "
           "<img src=x onerror=\"document.body.appendChild(document.createElement('pwned'))\">")


@pytest.fixture(scope="module")
def server(tiny_model, tmp_path_factory):
    """`contradict serve` in a subprocess; yields its URL."""
    log_path = tmp_path_factory.mktemp("serve") / "stderr.log"
    log = log_path.open("w")  # a file, not a pipe: a pipe nobody reads would stall the server
    env = dict(os.environ, TOKENIZERS_PARALLELISM="false")
    env.pop("CONTRADICT_TOKEN", None)
    process = subprocess.Popen([sys.executable, "-m", "contradict.cli", "serve", "--port", "0", "--model", tiny_model,
                                "--threads", "1"], stdout=subprocess.PIPE, stderr=log, text=True,
                               cwd=ROOT, env=env)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=180)
    except queue.Empty:
        process.kill()
        pytest.fail("contradict serve printed nothing within 180 s")
    match = re.search(r"(http://127\.0\.0\.1:\d+/)", first)
    if not match:
        process.kill()
        pytest.fail(f"contradict serve did not start: {first}{log_path.read_text()}")
    yield match.group(1)
    process.send_signal(signal.SIGINT)  # Ctrl-C: uvicorn shuts down, then the CLI's usual exit for it
    try:
        assert process.wait(timeout=20) == 130
        assert "Traceback" not in log_path.read_text()
    finally:
        if process.poll() is None:
            process.kill()
        log.close()


@pytest.fixture
def browser(tmp_path):
    from selenium.webdriver.chrome.service import Service

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1300,1600", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    try:
        driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    except WebDriverException as exc:
        pytest.skip(f"chromium would not start under chromedriver: {exc.msg}")
    driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    driver.downloads = downloads
    yield driver
    driver.quit()


def in_frame(driver, selector):
    return driver.find_elements(By.CSS_SELECTOR, selector)


def test_paste_submit_see_the_pair_and_download_json(server, browser, tmp_path):
    browser.get(server)
    assert browser.title == "Find contradictions"
    browser.find_element(By.ID, "text-a").send_keys(ARTICLE)  # typed as a person would paste it
    threshold = browser.find_element(By.NAME, "threshold")
    threshold.clear()
    threshold.send_keys("0")
    browser.find_element(By.ID, "run").click()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 60).until(lambda _: "found" in status.text or "error" in status.get_attribute("class"))
    assert "possible contradiction" in status.text, status.text

    browser.switch_to.frame(browser.find_element(By.ID, "result"))
    rows = WebDriverWait(browser, 30).until(lambda d: in_frame(d, "tr[data-rank]"))
    first_pair = [m for m in in_frame(browser, "mark.hl") if "1" in m.get_attribute("data-rows").split()]
    assert len(first_pair) >= 2, "both statements of the top pair are highlighted"
    assert all(m.value_of_css_property("background-color") != "rgba(0, 0, 0, 0)" for m in first_pair)
    cells = rows[0].find_elements(By.TAG_NAME, "td")
    assert len(cells) == 5 and float(cells[1].text.strip()) >= 0.0 and cells[2].text and cells[3].text
    # the report's own script ran in the frame (the page's policy allows its hash) ...
    assert re.search(r"\d+ of \d+ shown", browser.find_element(By.ID, "shown").text)
    rows[0].click()
    # ... and the pasted markup stayed text: nothing it asked for ran or appeared
    assert not in_frame(browser, "pwned") and not in_frame(browser, "img")
    assert any("onerror" in cell.text for cell in in_frame(browser, "td, .doc"))
    shown_rows = len(rows)
    browser.switch_to.default_content()
    assert not browser.find_elements(By.CSS_SELECTOR, "pwned")

    screenshot = tmp_path / "serve-page.png"
    browser.save_screenshot(str(screenshot))
    print(f"screenshot of the page: {screenshot}")

    browser.find_element(By.ID, "save-json").click()
    saved = browser.downloads / "contradictions.json"
    WebDriverWait(browser, 30).until(lambda _: saved.is_file() and saved.stat().st_size > 0)
    found = json.loads(saved.read_text(encoding="utf-8"))
    assert isinstance(found, list) and len(found) == shown_rows
    assert {"score", "a", "b", "kinds", "probs"} <= set(found[0]) and found[0]["a"]["text"] in ARTICLE

    browser.find_element(By.ID, "save-html").click()
    report = browser.downloads / "contradictions-report.html"
    WebDriverWait(browser, 30).until(lambda _: report.is_file() and report.stat().st_size > 0)
    assert "Content-Security-Policy" in report.read_text(encoding="utf-8")
    problems = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not problems, problems  # no blocked script, no failed fetch


def test_an_upload_that_is_not_utf8_shows_the_servers_message(server, browser, tmp_path):
    upload = tmp_path / "stiri-cp1250.txt"
    upload.write_bytes("Ion mănâncă mere. Ion nu mănâncă mere.".encode("cp1250"))
    browser.get(server)
    browser.find_element(By.ID, "file-a").send_keys(str(upload))
    browser.find_element(By.ID, "run").click()
    status = browser.find_element(By.ID, "status")
    WebDriverWait(browser, 60).until(lambda _: "error" in status.get_attribute("class"))
    assert "not valid UTF-8" in status.text and "encoding" in status.text
    assert browser.find_element(By.ID, "result").get_attribute("hidden") is not None

"""`arbiter grade --report` opened in a real headless browser (Chromium through Selenium).

The page must render, log no console error, run no script (a response carrying markup stays text), and show the
figures of the summary table that `arbiter grade` prints. Needs Debian's `chromium` and `chromium-driver` and the
`selenium` package; `scripts/test` installs them when it runs as root. Without them the test is skipped with the
reason (counted "not run"); with ARBITER_REQUIRE_ALL_TESTS=1 it fails instead.
"""

import json
import os
import pathlib
import re
import shutil
import subprocess
import tempfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def arbiter_binary():
    if os.environ.get("ARBITER_BIN"):
        return os.environ["ARBITER_BIN"]
    for config in ("debug", "release"):
        candidate = ROOT / ".build" / config / "arbiter"
        if candidate.exists():
            return str(candidate)
    pytest.fail("no arbiter binary: run `swift build` first or set ARBITER_BIN")


def missing_browser():
    """The reason the browser cannot be driven here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed"
    for program in ("chromium", "chromedriver"):
        if shutil.which(program) is None:
            return f"{program} is not installed (apt-get install chromium chromium-driver, as root)"
    return None


@pytest.fixture(scope="module")
def browser():
    reason = missing_browser()
    if reason:
        if os.environ.get("ARBITER_REQUIRE_ALL_TESTS") == "1":
            pytest.fail(f"browser test cannot run: {reason} (ARBITER_REQUIRE_ALL_TESTS=1)")
        pytest.skip(f"needs a headless browser: {reason}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    yield driver
    driver.quit()


HOSTILE = '<script>window.pwned = 1; console.error("ran")</script><img src=x onerror="window.pwned=2">'


@pytest.fixture(scope="module")
def graded():
    """A small dataset graded with a report: verdicts of two reasons, an error, an unreadable row, hostile markup."""
    directory = pathlib.Path(tempfile.mkdtemp(prefix="arbiter-report-"))
    rows = [
        {"id": 1, "verifier": "exact", "response": "42", "reference": "42"},
        {"id": 2, "verifier": "exact", "response": "41", "reference": "42"},
        {"id": 3, "verifier": "exact", "response": HOSTILE, "reference": "42"},
        {"id": 4, "verifier": "exact", "response": "7", "reference": "7"},
        {"id": 5, "verifier": "exact", "response": "x", "reference": {"not": "a string"}},
    ]
    data = directory / "rows.jsonl"
    data.write_text("\n".join(json.dumps(row) for row in rows) + "\nnot json\n", encoding="utf-8")
    page = directory / "report.html"
    figures = directory / "report.json"
    result = subprocess.run(
        [arbiter_binary(), "grade", str(data), "--report", str(page), "--report-json", str(figures),
         "--output", str(directory / "answers.jsonl"), "--no-progress"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    yield {"page": page, "figures": json.loads(figures.read_text()), "summary": result.stdout}
    shutil.rmtree(directory)


def summary_figure(summary, label):
    found = re.search(rf"^{re.escape(label)}\s+(\S+)", summary, re.MULTILINE)
    assert found, f"no '{label}' in the summary table:\n{summary}"
    return found.group(1)


def test_page_renders_the_summary_without_console_errors(browser, graded):
    browser.get(graded["page"].as_uri())
    assert browser.title.startswith("Arbiter report")
    shown = {cell.get_attribute("data-figure"): cell.text
             for cell in browser.find_elements("css selector", "#summary td[data-figure]")}
    summary = graded["summary"]
    # The numbers the terminal's summary table printed are the numbers the page shows.
    for figure, label in (("rows", "rows"), ("verdicts", "verdicts"), ("errors", "errors"),
                          ("mean_score", "mean score"), ("pass_rate", "pass rate")):
        assert shown[figure] == summary_figure(summary, label), figure
    assert shown["rows"] == "6" and shown["verdicts"] == "4" and shown["errors"] == "2"
    assert shown["mean_score"] == "0.5000" and shown["pass_rate"] == "50.00%"
    # The histogram is drawn: ten bars whose counts add up to the verdicts.
    bars = browser.find_elements("css selector", "#histogram-chart rect.bar")
    assert len(bars) == 10
    assert sum(int(bar.get_attribute("data-count")) for bar in bars) == 4
    assert any(bar.size["height"] > 0 for bar in bars), "the bars have a visible height"
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe


def test_markup_in_a_response_stays_text(browser, graded):
    browser.get(graded["page"].as_uri())
    assert browser.execute_script("return window.pwned === undefined"), "a response's script ran in the report"
    assert browser.find_elements("css selector", "body script, body img") == []
    # Negative control: the hostile text is in the report (as text), so the check above looked at it.
    examples = browser.find_element("css selector", "#reasons").text
    assert "<script>window.pwned = 1;" in examples
    assert any(HOSTILE in example["response"]
               for group in graded["figures"]["reasons"] for example in group["examples"])


def test_counts_by_reason_and_error_code(browser, graded):
    browser.get(graded["page"].as_uri())
    cells = {cell.get_attribute("data-figure"): cell.text
             for cell in browser.find_elements("css selector", "td[data-figure]")}
    assert cells["reasons:equal"] == "2" and cells["reasons:not_equal"] == "2"
    assert cells["errors:invalid_reference"] == "1" and cells["errors:invalid_json"] == "1"

"""End to end in a real browser: Debian's chromium driven by Playwright against `streamlit run`.

The server runs on a free loopback port; chromium is headless with background networking
disabled (``playwright install`` is never used: it downloads a browser). Screenshots of each
page go to ``artifacts/screenshots/`` (git-ignored), for CI to keep.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES, EXCERPT_MITDB, ROOT

CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
TIMEOUT_MS = 90_000

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).is_file(),
    reason=f"chromium not found at {CHROMIUM} (.ci/run installs it with apt-get)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    """`streamlit run streamlit_app.py` on a free loopback port, stopped afterwards."""
    port = _free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().strip() == b"ok":
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not become healthy within 90 s")
    yield {"url": url, "pid": proc.pid}
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-background-networking",
                                    "--disable-dev-shm-usage"])
        yield b
        b.close()


def _open(browser, url):
    """A new tab on ``url``, once the app's own navigation is up.

    On a fresh server the first deep link runs once in Streamlit's legacy pages/ mode and
    reruns under the app's navigation (see ``pages.common._ensure_navigation``); waiting for
    the app's last page in the sidebar keeps every test clear of that first run.
    """
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(url)
    page.wait_for_selector('[data-testid="stAppViewContainer"]')
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=\"stSidebarNav\"]') || {}).innerText"
        "?.includes('Explainer')", timeout=TIMEOUT_MS)
    return page


def _wait_idle(page):
    """Wait until the script run has finished (no 'Running...' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=TIMEOUT_MS)


def _shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _upload(page, files):
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(files)
    _wait_idle(page)


def test_predict_page_upload_bad_then_good(server, browser, tmp_path):
    # The first visit of a fresh server is a deep link: it must come up under the app's own
    # navigation, not Streamlit's legacy pages/ listing (which would list the helpers).
    page = _open(browser, f"{server['url']}/predict")
    _wait_idle(page)
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Explainer" in nav and "common" not in nav and "charts" not in nav
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\nnot an image at all")
    _upload(page, [str(bad)])
    page.wait_for_selector('[data-testid="stAlertContentError"]')
    assert "broken.png" in page.locator('[data-testid="stAlertContentError"]').first.inner_text()
    good = sorted((EXAMPLES / "PVC").glob("*.png"))[0]
    _upload(page, [str(good)])
    page.get_by_text("PVC · Premature ventricular contraction").first.wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    # the bad file is still in the uploader's list: its message stays, and only its own
    errors = page.locator('[data-testid="stAlertContentError"]')
    assert errors.count() == 1 and "broken.png" in errors.first.inner_text()
    _shot(page, "predict")
    page.close()


@pytest.mark.parametrize("path,marker", [("", "The eight beat classes"),
                                         ("evaluation", "Evaluation: how good"),
                                         ("explainer", "Grad-CAM"),
                                         ("record", "Record: classify every beat")])
def test_every_page_loads_without_error(server, browser, path, marker):
    page = _open(browser, f"{server['url']}/{path}")
    _wait_idle(page)
    page.get_by_text(marker).first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    if path in ("evaluation", "explainer"):
        page.locator(".js-plotly-plot .main-svg").first.wait_for()
    if path == "evaluation":  # the figures are on the page, not their placeholders
        page.locator('[data-testid="stMetricValue"]').first.wait_for()
        assert "%" in page.locator('[data-testid="stMetricValue"]').first.inner_text()
        page.wait_for_timeout(500)
    _shot(page, path or "home")
    page.close()


def test_explainer_upload_explains_its_class(server, browser):
    page = _open(browser, f"{server['url']}/explainer")
    _wait_idle(page)
    good = sorted((EXAMPLES / "LBB").glob("*.png"))[0]
    _upload(page, [str(good)])
    # the Grad-CAM text names the predicted class (the default example is a PVC beat)
    page.get_by_text("Grad-CAM (Selvaraju et al. 2017) for LBB").first.wait_for()
    assert page.locator(".js-plotly-plot").count() >= 3  # maps, feature maps, CAM
    assert page.locator('[data-testid="stException"]').count() == 0
    _shot(page, "explainer-upload")
    page.close()


def test_record_page_classifies_an_uploaded_wfdb_record(server, browser):
    """Upload record 100 (.hea, .dat, .atr): summary, strip and agreement with the reference."""
    import re

    page = _open(browser, f"{server['url']}/record")
    _wait_idle(page)
    # the page opens on a bundled example, already classified
    page.get_by_text("Agreement with the reference annotations").first.wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    _shot(page, "record-example")
    # the strip and one beat, as the README shows them (docs/images/record.png is a copy)
    page.locator("h2", has_text="Strip").first.evaluate("e => e.scrollIntoView()")
    page.wait_for_timeout(500)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "record-strip.png"))
    page.get_by_text("WFDB record (.hea").first.click()
    _wait_idle(page)
    _upload(page, [str(EXCERPT_MITDB / f"100{ext}") for ext in (".hea", ".dat", ".atr")])
    page.get_by_text("Record **100**".replace("**", "")).first.wait_for()
    page.get_by_text("Agreement with the reference annotations").first.wait_for()
    page.locator(".js-plotly-plot .main-svg").first.wait_for()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    beat1 = page.get_by_text("Beat 1 of").first.inner_text()
    assert "predicted NOR" in beat1 and "reference symbol N (normal beat" in beat1, beat1
    metric = page.locator('[data-testid="stMetric"]',
                          has_text="class agreement").first.inner_text()
    accuracy = float(re.search(r"([0-9.]+)%", metric).group(1))
    assert accuracy > 90, metric  # record 100 is nearly all normal beats
    _shot(page, "record-upload")
    page.close()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def test_eight_sessions_at_once_each_get_their_class(server, browser):
    """8 browser sessions upload 8 different examples at the same time, on one server."""
    files = [sorted((EXAMPLES / code).glob("*.png"))[1]
             for code in ("NOR", "LBB", "RBB", "APC", "PVC", "PAB", "VFW", "VEB")]
    pages = [_open(browser, f"{server['url']}/predict") for _ in files]
    for page in pages:
        _wait_idle(page)
    t0 = time.time()
    for page, f in zip(pages, files):  # start all uploads before waiting for any result
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(
            str(f))
    for page, f in zip(pages, files):
        code = f.parent.name
        page.get_by_text(f"{code} · ").first.wait_for()
        page.locator(".js-plotly-plot .main-svg").first.wait_for()
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
    elapsed = time.time() - t0
    rss = _rss_mb(server["pid"])
    print(f"\n8 concurrent sessions answered in {elapsed:.1f} s; server RSS {rss:.0f} MB")
    assert elapsed < 120
    for page in pages:
        page.close()


def test_record_report_opens_and_prints_in_chromium(browser, tmp_path):
    """The one-page report of record 208 opens in chromium with its notice, tables and
    charts, and prints to a PDF (the browser's own "Print to PDF")."""
    from tests.test_analysis import report_of_208

    report = report_of_208(tmp_path)
    page = browser.new_page(viewport={"width": 760, "height": 1000})
    page.goto(report.as_uri())
    assert "record 208" in page.title()
    assert page.locator(".notice").inner_text().startswith("Research and teaching only")
    assert page.locator("svg").count() >= 4
    assert page.locator("table").count() == 2
    _shot(page, "report-208")
    pdf = page.pdf()
    assert pdf[:4] == b"%PDF" and len(pdf) > 10_000
    page.close()

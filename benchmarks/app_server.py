"""The app under a real browser: cold start, first render, memory, latency under load.

Run: python benchmarks/app_server.py [--rounds 5] [--cold-starts 1] [--chromium /usr/bin/chromium]

Starts `streamlit run streamlit_app.py` on a free loopback port and drives Debian's chromium
(headless, via Playwright) against it. Measures:

* cold start, with the browser already running (as a visitor's is when a sleeping app is
  woken): once with the browser's cache empty (a first visit), then ``--cold-starts`` times
  with Streamlit's and Plotly's JavaScript cached (a returning visitor; the figures move by
  tenths of a second from start to start, so a median of several is the steadier figure).
  Seconds from launching the server process to `/_stcore/health` answering, to the Home
  page's first render in the browser (its title visible), and to the first prediction shown
  on the Predict page, reached from Home by the sidebar's link as a visitor does: in
  words (the predicted class and its probability, above the chart) and with its Plotly chart
  (whose JavaScript the browser loads at a session's first chart);
* resident memory (RSS) of the server process along a visitor's path: after the first
  prediction, then after the Record page has classified a 30-min record (MIT-BIH 208
  uploaded, where `../shared/mitdb` is present; else the bundled 5-min example), then after
  the load test below, its peak (VmHWM) until then, and after the Explainer has loaded
  TensorFlow for the model's layers and gradients;
* latency from upload to result (predicted class and chart shown) on the Predict page with
  1, 4 and 8 browser sessions uploading at the same moment, `--rounds` times each:
  median (p50) and 95th percentile (p95). Each session first makes one warm-up upload: a
  session's first chart also loads Plotly's JavaScript in the browser, which is timed apart.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
CODES = ("NOR", "LBB", "RBB", "APC", "PVC", "PAB", "VFW", "VEB")
#: A drawn Plotly chart (Plotly draws two ``svg.main-svg`` layers in each chart).
RESULT = ".js-plotly-plot .main-svg"
CHART = ".js-plotly-plot"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _status_mb(pid: int, field: str = "VmRSS") -> float:
    """A memory figure of a process from /proc (VmRSS: resident now; VmHWM: peak), in MB."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _idle(page) -> None:
    page.wait_for_timeout(200)
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def _stuck(pages) -> None:
    """What the sessions that showed no result had on screen: a screenshot each (under the
    system's temporary folder) and the status and alert texts, printed."""
    folder = Path(tempfile.mkdtemp(prefix="app-server-stuck-"))
    for k, pg in enumerate(pages):
        pg.screenshot(path=str(folder / f"session-{k}.png"), full_page=True)
        texts = pg.locator('[data-testid="stStatusWidget"], [data-testid="stAlert"], '
                           '[data-testid="stException"], [data-testid="stFileUploaderFile"]'
                           ).all_inner_texts()
        print(f"session {k}: {' | '.join(t.strip() for t in texts) or 'no status or alert'}",
              file=sys.stderr)
    print(f"screenshots in {folder}", file=sys.stderr)


def _start_server() -> tuple[subprocess.Popen, str, float]:
    """Launch `streamlit run` on a free loopback port: (process, URL, launch time)."""
    port = _free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"),
         "--server.port", str(port), "--server.address", "127.0.0.1",
         "--server.headless", "true"], cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    return proc, f"http://127.0.0.1:{port}", t0


def _wait_healthy(url: str, t0: float) -> float:
    """Seconds from ``t0`` to the server's health check answering."""
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1):
                return time.perf_counter() - t0
        except OSError:
            time.sleep(0.05)


def _first_prediction(page, url: str, t0: float, image: Path) -> tuple[float, float, float]:
    """Home, then Predict by the sidebar's link, then one upload: seconds from ``t0`` to
    Home's first render, to the prediction in words and to its chart."""
    page.goto(url)
    page.get_by_text("The eight beat classes").first.wait_for()
    first_render = time.perf_counter() - t0
    # to Predict as a visitor goes: the sidebar's link (no page reload)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Predict").first.click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.wait_for(state="attached")
    _idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').first.set_input_files(str(image))
    # the predicted class and its probability, in words, above the chart
    page.get_by_text(re.compile(r"\(\d+\.\d%\)")).first.wait_for()
    first_text = time.perf_counter() - t0
    page.locator(RESULT).first.wait_for()
    first_prediction = time.perf_counter() - t0
    page.close()
    return first_render, first_text, first_prediction


def main() -> int:
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    ap.add_argument("--cold-starts", type=int, default=1,
                    help="cold starts with a warm browser cache (default 1); with more, the "
                         "median, lowest and highest are printed as well")
    args = ap.parse_args()
    examples = [sorted((ROOT / "data" / "examples" / c).glob("*.png"))[0] for c in CODES]
    cold: list[tuple[str, float, float, float, float]] = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        # The visitor's browser is running before the server starts, as it is when a sleeping
        # app is woken: launch it first. Every session is a tab of it; keep chromium from
        # throttling the tabs that are not in front, or the figures would time the browser.
        browser = p.chromium.launch_persistent_context(
            profile, executable_path=args.chromium, headless=True,
            args=["--no-sandbox", "--disable-background-networking",
                  "--disable-background-timer-throttling",
                  "--disable-renderer-backgrounding",
                  "--disable-backgrounding-occluded-windows"])
        # Cold server starts: first with the browser's cache empty (a first visit), then with
        # Streamlit's and Plotly's JavaScript in it (a returning visitor), --cold-starts times.
        # The last server stays up for the rest of the measurements.
        proc = None
        for cache in ("empty", *["warm"] * max(1, args.cold_starts)):
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
            proc, url, t0 = _start_server()
            try:
                healthy = _wait_healthy(url, t0)
                page = browser.new_page()
                page.set_default_timeout(120_000)
                cold.append((cache, healthy, *_first_prediction(page, url, t0, examples[0])))
            except BaseException:
                proc.terminate()
                raise
        try:
            rss_first = _status_mb(proc.pid)
            # the visitor's path first: Home, Predict (above), then Record on a 30-min record
            page = browser.new_page()
            page.set_default_timeout(300_000)
            page.goto(f"{url}/record")
            page.get_by_text("Agreement with the reference annotations").first.wait_for()
            record_name = "the bundled example (208, 5 min)"
            whole = ROOT.parent / "shared" / "mitdb"
            if (whole / "208.hea").is_file():
                page.get_by_text("WFDB record (.hea").first.click()
                _idle(page)
                page.locator('[data-testid="stFileUploaderDropzoneInput"]').first \
                    .set_input_files([str(whole / f"208{e}") for e in (".hea", ".dat", ".atr")])
                page.get_by_text(re.compile(r"30\.\d min")).first.wait_for()
                page.get_by_text("Agreement with the reference annotations").first.wait_for()
                record_name = "MIT-BIH 208 (30 min, uploaded)"
            _idle(page)
            rss_record = _status_mb(proc.pid)
            rows = []
            first_chart: list[float] = []
            for sessions in (1, 4, 8):
                latencies = []
                for r in range(args.rounds):
                    pages = [browser.new_page() for _ in range(sessions)]
                    for pg in pages:
                        pg.set_default_timeout(120_000)
                        pg.goto(f"{url}/predict")
                        # as a visitor does: upload once the upload box is drawn
                        pg.locator('[data-testid="stFileUploaderDropzone"]').first.wait_for()
                        _idle(pg)
                        # warm-up: the browser loads Plotly's JavaScript at a session's first
                        # chart (measured apart, as first_chart)
                        t = time.perf_counter()
                        pg.locator('[data-testid="stFileUploaderDropzoneInput"]').first \
                            .set_input_files(str(examples[-1]))
                        try:
                            pg.locator(RESULT).first.wait_for()
                        except PlaywrightTimeout:
                            _stuck([pg])
                            raise SystemExit("a session's first upload showed no result "
                                             "within 120 s") from None
                        first_chart.append(time.perf_counter() - t)
                        _idle(pg)
                    start, names = {}, {}
                    for i, pg in enumerate(pages):  # all sessions upload at the same moment
                        image = examples[(i + r) % (len(examples) - 1)]
                        names[i] = image.name
                        start[i] = time.perf_counter()
                        pg.locator('[data-testid="stFileUploaderDropzoneInput"]').first \
                            .set_input_files(str(image))
                    done: dict[int, float] = {}
                    deadline = time.perf_counter() + 120
                    while len(done) < sessions:
                        if time.perf_counter() > deadline:
                            _stuck([pg for i, pg in enumerate(pages) if i not in done])
                            raise SystemExit(
                                f"{sessions - len(done)} of {sessions} sessions showed no "
                                "result within 120 s of their upload")
                        for i, pg in enumerate(pages):
                            # the result of this upload: its heading (the image's name, its
                            # class) and a second chart drawn (the first is the warm-up's)
                            if i not in done and pg.locator(
                                    '[data-testid="stHeading"]', has_text=names[i]).count() \
                                    and pg.locator(CHART).nth(1).locator(".main-svg").count():
                                done[i] = time.perf_counter() - start[i]
                        time.sleep(0.02)
                    latencies += list(done.values())
                    for pg in pages:
                        pg.close()
                q = np.percentile(latencies, [50, 95])
                rows.append((sessions, len(latencies), q[0], q[1]))
            rss_after = _status_mb(proc.pid)
            peak = _status_mb(proc.pid, "VmHWM")
            # the Explainer needs the Keras model (layers, gradients): TensorFlow loads now
            page.goto(f"{url}/explainer")
            page.get_by_text("7. Grad-CAM").first.wait_for()
            _idle(page)
            rss_explainer = _status_mb(proc.pid)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        browser.close()
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}")
    print("Cold server start (the browser already running), seconds from launching "
          "`streamlit run`:")
    print("| browser cache | to /_stcore/health | to Home's first render | to the first "
          "prediction on Predict, in words | with its chart |")
    print("|---|---:|---:|---:|---:|")
    for cache, healthy, first_render, first_text, first_prediction in cold:
        print(f"| {cache} | {healthy:.1f} | {first_render:.1f} | {first_text:.1f} | "
              f"{first_prediction:.1f} |")
    warm = np.array([row[1:] for row in cold if row[0] == "warm"])
    if len(warm) > 1:
        for name, f in (("median", np.median), ("lowest", np.min), ("highest", np.max)):
            print(f"| warm, {name} of {len(warm)} | "
                  + " | ".join(f"{v:.2f}" for v in f(warm, 0)) + " |")
    print(f"server RSS after the first prediction: {rss_first:.0f} MB; then after the Record "
          f"page on {record_name}: {rss_record:.0f} MB; then after the load test: "
          f"{rss_after:.0f} MB; peak (VmHWM) until then: {peak:.0f} MB; then after the "
          f"Explainer (TensorFlow loaded): {rss_explainer:.0f} MB")
    print(f"a session's first chart (loads Plotly's JavaScript, one session at a time): "
          f"median {np.median(first_chart):.2f} s")
    print("| sessions at once | uploads | p50 s (upload to result) | p95 s |")
    print("|---:|---:|---:|---:|")
    for sessions, n, p50, p95 in rows:
        print(f"| {sessions} | {n} | {p50:.2f} | {p95:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

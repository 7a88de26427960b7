"""Whole-process time of the CLI, as a user types it, with each backend.

Run: python benchmarks/cli_latency.py [--repeats 3] [--record ../shared/mitdb/208]

Times `python -m ecg_core predict data/examples` (the 24 bundled example images) and
`python -m ecg_core classify-record RECORD --annotations atr` (default: MIT-BIH 208, 30 min,
2,952 beats, where ../shared/mitdb is present; else the bundled 5-min excerpt of it), each with
`--backend auto` (the LiteRT twins, no TensorFlow) and `--backend keras`, from process start
to exit; prints the median of the repeats.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def _run(args: list[str]) -> float:
    """Seconds of one CLI process, from start to exit."""
    t = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ecg_core", *args], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    whole = ROOT.parent / "shared" / "mitdb" / "208"
    ap.add_argument("--record", default=str(whole if whole.with_suffix(".hea").is_file()
                                            else ROOT / "tests" / "data" / "mitdb" / "208"))
    args = ap.parse_args()
    out = Path(tempfile.mkdtemp()) / "beats.csv"
    jobs = {"predict, 24 example images": ["predict", "data/examples"],
            f"classify-record {Path(args.record).name} --annotations atr":
                ["classify-record", args.record, "--annotations", "atr", "--out", str(out)]}
    rows = []
    for backend in ("auto", "keras"):
        for name, cmd in jobs.items():
            _run(["--backend", backend, *cmd])  # warm the file cache
            times = [_run(["--backend", backend, *cmd]) for _ in range(args.repeats)]
            rows.append((name, backend, float(np.median(times))))
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}; "
          f"median of {args.repeats}")
    print("| command | LiteRT twin (s) | Keras (s) |\n|---|---:|---:|")
    for name in jobs:
        t = {b: s for n, b, s in rows if n == name}
        print(f"| {name} | {t['auto']:.2f} | {t['keras']:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

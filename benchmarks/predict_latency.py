"""Latency of the whole prediction path for one image: decode, canonical form, model.

Run: python benchmarks/predict_latency.py [--model models/ecgnet.keras] [--repeats 50]

Measures, per bundled example image, `Classifier.predict_bytes` (the function the CLI and the
app call) and its three stages separately, after a warm-up; prints the median and 95th
percentile in milliseconds, and `model.predict` on one image for comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.canonical import canonical_form, decode_image  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402


def _ms(fn, repeats):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "ecgnet.keras"))
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    files = sorted((ROOT / "data" / "examples").glob("*/*.png"))
    blobs = [f.read_bytes() for f in files]
    for b in blobs:  # warm-up
        clf.predict_bytes(b)
    total, dec, can, mod = [], [], [], []
    for b in blobs:
        gray = decode_image(b)
        canon = canonical_form(gray)
        total += _ms(lambda: clf.predict_bytes(b), args.repeats)
        dec += _ms(lambda: decode_image(b), args.repeats)
        can += _ms(lambda: canonical_form(gray), args.repeats)
        mod += _ms(lambda: clf.predict_canonical(canon), args.repeats)
    x = canonical_form(decode_image(blobs[0]))[None, ..., None]
    clf.model.predict(x, verbose=0)
    keras_predict = _ms(lambda: clf.model.predict(x, verbose=0), 20)

    def row(name, t):
        q = np.percentile(t, [50, 95])
        return f"| {name} | {q[0]:.2f} | {q[1]:.2f} |"

    cpu = platform.processor() or platform.machine()
    print(f"Machine: {cpu}, {len(os.sched_getaffinity(0))} CPU cores, Python "
          f"{platform.python_version()}; {len(blobs)} images x {args.repeats} repeats")
    print("| stage | median ms | p95 ms |\n|---|---:|---:|")
    print(row("whole path (`Classifier.predict_bytes`)", total))
    print(row("decode (Pillow)", dec))
    print(row("canonical form", can))
    print(row("model (traced tf.function)", mod))
    print(row("for comparison: `model.predict` on one image", keras_predict))
    print(f"median whole path: {statistics.median(total):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Latency of the whole prediction path for one image: decode, canonical form, model.

Run: python benchmarks/predict_latency.py [--model models/ecgnet.keras] [--repeats 50]

Measures, per bundled example image, `Classifier.predict_bytes` (the function the CLI and the
app call) and its three stages separately, after a warm-up, for both backends in one run: the
LiteRT twin (what serves by default) and the Keras model through a traced `tf.function` (the
fallback); prints the median and 95th percentile in milliseconds, and `model.predict` on one
image for comparison. Also the start-up cost of each backend in a fresh process: seconds to a
first prediction and the resident memory (RSS) then.
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


_START = """
import resource, sys, time
t = time.perf_counter()
sys.path.insert(0, {root!r})
from ecg_core.model import Classifier
clf = Classifier.load({model!r}, backend={backend!r})
clf.predict_bytes(open({image!r}, "rb").read())
rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(time.perf_counter() - t, rss, "tensorflow" in sys.modules)
"""


def _start_up(model: str, backend: str, image: Path) -> tuple[float, float, bool]:
    """A fresh process: seconds from start to a first prediction, peak RSS (MB), and whether
    TensorFlow was imported."""
    import subprocess

    code = _START.format(root=str(ROOT), model=model, backend=backend, image=str(image))
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    return time.perf_counter() - t, float(out[1]), out[2] == "True"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=str(ROOT / "models" / "ecgnet.keras"))
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    files = sorted((ROOT / "data" / "examples").glob("*/*.png"))
    blobs = [f.read_bytes() for f in files]
    starts = {b: [_start_up(args.model, b, files[0]) for _ in range(3)]
              for b in ("auto", "keras")}
    rows = []
    for backend, label in (("auto", "LiteRT twin"), ("keras", "Keras, traced tf.function")):
        clf = Classifier.load(args.model, backend=backend)
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
        rows.append((label, clf.backend, total, dec, can, mod))
    x = canonical_form(decode_image(blobs[0]))[None, ..., None]
    clf.model.predict(x, verbose=0)
    keras_predict = _ms(lambda: clf.model.predict(x, verbose=0), 20)

    def q(t):
        a, b = np.percentile(t, [50, 95])
        return f"{a:.2f} | {b:.2f}"

    cpu = platform.processor() or platform.machine()
    print(f"Machine: {cpu}, {len(os.sched_getaffinity(0))} CPU cores, Python "
          f"{platform.python_version()}; {len(blobs)} images x {args.repeats} repeats")
    print("| stage | " + " | ".join(f"{r[0]}: median ms | p95 ms" for r in rows) + " |")
    print("|---|" + "---:|---:|" * len(rows))
    for i, name in enumerate(("whole path (`Classifier.predict_bytes`)", "decode (Pillow)",
                              "canonical form", "model")):
        print(f"| {name} | " + " | ".join(q(r[2 + i]) for r in rows) + " |")
    print(f"| for comparison: `model.predict` on one image | | | {q(keras_predict)} |")
    print()
    print("| fresh process, load the model and classify one image | LiteRT twin | Keras |")
    print("|---|---:|---:|")
    med = {b: np.median([s[0] for s in v]) for b, v in starts.items()}
    rss = {b: np.median([s[1] for s in v]) for b, v in starts.items()}
    tf_loaded = {b: any(s[2] for s in v) for b, v in starts.items()}
    print(f"| seconds (median of 3) | {med['auto']:.2f} | {med['keras']:.2f} |")
    print(f"| peak RSS, MB | {rss['auto']:.0f} | {rss['keras']:.0f} |")
    print(f"| TensorFlow imported | {'yes' if tf_loaded['auto'] else 'no'} | "
          f"{'yes' if tf_loaded['keras'] else 'no'} |")
    for label, _, total, *_ in rows:
        print(f"median whole path, {label}: {statistics.median(total):.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())

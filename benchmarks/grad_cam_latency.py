"""Latency of one Grad-CAM map, as the Explainer and the Record page compute it.

Run: python benchmarks/grad_cam_latency.py [--models ecgnet aami/ecgnet record/ecgnet]
                                           [--repeats 3]

For each model, on the 24 bundled example images, after one warm-up map: the time of
``ecg_core.explanation.grad_cam`` on the whole model (for an ensemble, one map for each network
that gives the explained class its probability, averaged) and on its first network alone (what
the pages explained before ensembles were explained whole); prints the median and 95th
percentile in milliseconds and the number of networks behind the predicted class. Keras
(TensorFlow) serves the gradients; no LiteRT twin is involved.
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

from ecg_core.canonical import decode_image  # noqa: E402
from ecg_core.explanation import deciding_networks, explained_network, grad_cam  # noqa: E402
from ecg_core.model import Classifier, resolve_model  # noqa: E402


def _stats(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
    return f"median {statistics.median(times):7.1f} ms, p95 {p95:7.1f} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", nargs="+", default=["ecgnet", "aami/ecgnet", "record/ecgnet"])
    ap.add_argument("--repeats", type=int, default=3, help="maps per image and model")
    args = ap.parse_args()
    print(f"{platform.machine()}, {os.cpu_count()} CPU cores, Python {platform.python_version()}")
    paths = sorted((ROOT / "data" / "examples").glob("*/*.png"))
    for name in args.models:
        clf = Classifier.load(resolve_model(name), backend="keras")
        model = clf.model
        first, members = explained_network(model)
        images = [clf.canonical(decode_image(p.read_bytes())) for p in paths]
        grad_cam(model, images[0])  # warm-up: traced functions, first allocations
        grad_cam(first, images[0])
        whole, alone, behind = [], [], []
        for image in images:
            for _ in range(args.repeats):
                t = time.perf_counter()
                _, idx = grad_cam(model, image)
                whole.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                grad_cam(first, image, idx)
                alone.append((time.perf_counter() - t) * 1000)
            behind.append(len(deciding_networks(model, idx)))
        print(f"\n{name} ({members} network{'s' if members > 1 else ''}; "
              f"{int(np.median(behind))} behind the predicted class, median over "
              f"{len(images)} images x {args.repeats})")
        print(f"  whole model:   {_stats(whole)}")
        print(f"  first network: {_stats(alone)}")


if __name__ == "__main__":
    main()

"""End-to-end time to classify a whole 30-minute record: read, find beats, draw, classify.

Run: python benchmarks/record_latency.py [--record ../shared/mitdb/208] [--repeats 3]

Times `read_record` + `classify_record` (the code behind the Record page and
`python -m ecg_core classify-record`) with beat positions from the reference annotations
and from the XQRS detector, after one warm-up run; prints the median of the repeats.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.records import read_record  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record", default=str(ROOT.parent / "shared" / "mitdb" / "208"))
    ap.add_argument("--model", default=str(ROOT / "models" / "ecgnet.keras"))
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}")
    print("| beat positions | record | beats | median s (read + classify) | of which read s |")
    print("|---|---|---:|---:|---:|")
    for use_ann in (True, False):
        times, reads, n = [], [], 0
        for i in range(args.repeats + 1):
            t0 = time.perf_counter()
            rec = read_record(args.record, other_lead=True)
            t1 = time.perf_counter()
            result = classify_record(rec, clf, use_annotations=use_ann)
            t2 = time.perf_counter()
            n = len(result.samples)
            if i:  # the first run warms up
                times.append(t2 - t0)
                reads.append(t1 - t0)
        label = "annotations (.atr)" if use_ann else "XQRS detection"
        print(f"| {label} | {Path(args.record).name} ({rec.duration_s / 60:.0f} min, "
              f"{rec.original_fs:g} Hz) | {n} | {statistics.median(times):.2f} | "
              f"{statistics.median(reads):.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Batch classification throughput: a Dask local cluster of 1 and 2 workers against the
single-process loop of `classify-record`, on the same records, in one run.

Run: python benchmarks/archive.py [--records ../shared/mitdb]

For each setting: wall time, records/s and beats/s (beats from the reference annotations),
and the ratio of 2 workers to 1. Then checks that the summary written by the cluster matches
`classify_record` run record by record in the loop: beats per class, row for row.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, summarise  # noqa: E402
from ecg_core.batch import classify_records, find_records, record_ids  # noqa: E402
from ecg_core.model import Classifier, resolve_model  # noqa: E402
from ecg_core.records import read_record  # noqa: E402


def main() -> int:
    import pandas as pd

    ap = argparse.ArgumentParser()
    whole = ROOT.parent / "shared" / "mitdb"
    ap.add_argument("--records", default=str(whole if whole.is_dir()
                                             else ROOT / "tests" / "data" / "mitdb"))
    args = ap.parse_args()
    model = resolve_model("ecgnet")
    paths = find_records([args.records])
    ids = record_ids(paths)
    rows = []
    # the single-process loop (what `classify-record` does, one record after another)
    clf = Classifier.load(model)
    t = time.perf_counter()
    loop = {}
    for rid, path in zip(ids, paths):
        summary = summarise(classify_record(read_record(path), clf))
        loop[rid] = summary["per_class"]
    seconds = time.perf_counter() - t
    beats = sum(sum(v.values()) for v in loop.values())
    rows.append(("single-process loop", seconds))
    matches = None
    for workers in (1, 2):
        out = Path(tempfile.mkdtemp(prefix=f"archive-{workers}-"))
        t = time.perf_counter()
        info = classify_records([args.records], out, model=model, workers=workers)
        rows.append((f"Dask local cluster, {workers} worker{'s' if workers > 1 else ''}",
                     time.perf_counter() - t))
        if workers == 2:
            summary = pd.read_parquet(info["summary"]).set_index("record")
            matches = all(int(summary.loc[rid, f"n_{c}"]) == n
                          for rid, counts in loop.items() for c, n in counts.items())
    print(f"Machine: {platform.processor() or platform.machine()}, "
          f"{len(os.sched_getaffinity(0))} CPU cores, Python {platform.python_version()}; "
          f"{len(paths)} records, {beats:,} beats ({args.records})")
    print("| setting | wall s | records/s | beats/s |\n|---|---:|---:|---:|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {len(paths) / seconds:.2f} | {beats / seconds:,.0f} |")
    one, two = rows[1][1], rows[2][1]
    print(f"2 workers / 1 worker throughput: {one / two:.2f}x; 2 workers / loop: "
          f"{rows[0][1] / two:.2f}x")
    print(f"cluster summary matches the loop, beats per class, record for record: {matches}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The composite against the committed aami/ecgnet on the AAMI protocol's own validation
records (RULE.md, addendum): the four DS1 validation records and the nine QT validation
records, every labelled beat classified on the Record page's path from its reference position
(``../other-lead-2026-11-28/score.py``'s figures), each set and the 13 pooled.

Run from the repository root:
    python models/experiments/record-context-v-guard-2026-11-28/adopt.py \
        committed=models/aami/ecgnet.keras composite=data/runs-aami-guarded/ecgnet.keras
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE.parent / "other-lead-2026-11-28"))

from score import DS1_VAL, figures  # noqa: E402

from ecg_core.analysis import classify_database  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_VAL  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+", help="NAME=MODEL.keras")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", default=str(HERE / "adoption.json"))
    args = ap.parse_args()
    shared = Path(args.shared)
    report = {}
    print("| model | set | beats | accuracy | N Se | S Se / +P | V Se / +P | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for arg in args.models:
        name, path = arg.split("=", 1)
        clf = Classifier.load(path)
        codes = clf.class_codes
        ds1 = classify_database(shared / "mitdb", clf, records=DS1_VAL)
        qt = classify_database(shared / "qtdb", clf, records=QTDB_VAL)
        pooled = {"y_true": np.concatenate([ds1["y_true"], qt["y_true"]]),
                  "probabilities": np.concatenate([ds1["probabilities"],
                                                   qt["probabilities"]])}
        report[name] = {"model": path}
        for label, res in (("V-DS1", ds1), ("V-QT", qt), ("pooled", pooled)):
            f = figures(res, codes)
            report[name][label] = f
            print(f"| {name} | {label} | {f['n']} | {f['accuracy']:.2f} | {f['N Se']:.1f} | "
                  f"{f['S Se']:.1f} / {f['S +P']:.1f} | {f['V Se']:.1f} / {f['V +P']:.1f} | "
                  f"{f['C']:.2f} |", flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

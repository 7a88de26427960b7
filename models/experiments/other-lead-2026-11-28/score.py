"""Validation figures of AAMI models on the Record page's path (RULE.md beside this file).

Every labelled beat of the DS1 validation records (V-DS1) and the nine QT Database
validation records (V-QT) is classified from its reference position
(``ecg_core.analysis.classify_database``). Writes a Markdown table to stdout and the figures
as JSON to ``--out``.

Run from the repository root:
    python models/experiments/other-lead-2026-11-28/score.py --out FILE.json NAME=MODEL.keras ...
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_database  # noqa: E402
from ecg_core.evaluation import classification_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_VAL  # noqa: E402

DS1_VAL = ("108", "119", "124", "220")


def figures(res: dict, codes) -> dict:
    """Accuracy, C = (S Se + S +P + V Se + V +P) / 4, per-class Se and +P, in %."""
    f = classification_figures(res["y_true"], res["probabilities"], codes)
    pc = f["per_class"]
    out = {"n": int(len(res["y_true"])), "accuracy": 100 * f["accuracy"],
           "C": 100 * float(np.mean([pc["S"]["sensitivity"], pc["S"]["precision"],
                                     pc["V"]["sensitivity"], pc["V"]["precision"]]))}
    for c in codes:
        if pc[c]["support"]:
            out[f"{c} n"] = int(pc[c]["support"])
            out[f"{c} Se"] = 100 * pc[c]["sensitivity"]
            out[f"{c} +P"] = 100 * pc[c]["precision"]
    out["confusion"] = f["confusion"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("models", nargs="+", help="NAME=MODEL.keras")
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    shared = Path(args.shared)
    report = {}
    for arg in args.models:
        name, path = arg.split("=", 1)
        clf = Classifier.load(path)
        codes = clf.class_codes
        ds1 = figures(classify_database(shared / "mitdb", clf, records=DS1_VAL), codes)
        qt = figures(classify_database(shared / "qtdb", clf, records=QTDB_VAL), codes)
        report[name] = {"model": path, "V-DS1": ds1, "V-QT": qt}
        print(f"| {name} | {ds1['accuracy']:.2f} | {ds1['C']:.2f} | "
              f"{ds1['S Se']:.1f} / {ds1['S +P']:.1f} | {ds1['V Se']:.1f} / {ds1['V +P']:.1f} | "
              f"{qt['accuracy']:.2f} | {qt['N Se']:.2f} | "
              f"{round(qt['V Se'] * qt['V n'] / 100)} of {qt['V n']} |", flush=True)
    Path(args.out).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

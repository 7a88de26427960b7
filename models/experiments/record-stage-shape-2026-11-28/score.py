"""Validation figures of the record-context stage with shape features (RULE.md beside this
file).

1. DS1-OOF: reads the out-of-fold outputs written by ``oof.py``; for each of the 22 DS1
   records, fits each candidate stage on the other 21 records and reads that record; pools.
2. V-QT36: fits each candidate on all 22 DS1 records and lets the committed ``aami/ecgnet``
   read the 36 QT records open to training and validation through it, on the Record page's
   path from the reference beat positions (``ecg_core.analysis.classify_database``).

Writes a Markdown table to stdout and every figure (with confusion matrices) as JSON to --out.

Run from the repository root (after ``shape.py``):
    python models/experiments/record-stage-shape-2026-11-28/score.py \
        --oof data/record-stage-oof.npz --shape data/record-stage-shape.npz \
        --out models/experiments/record-stage-shape-2026-11-28/validation.json
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
from ecg_core.evaluation import ectopic_figures as figures  # noqa: E402
from ecg_core.evaluation import ectopic_table  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.record_stage import apply_stage, fit_stage, stage_features  # noqa: E402

CANDIDATES = {"C": {"shape": True, "typical": "all"},
              "D": {"shape": True, "typical": "typical half"}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--oof", required=True)
    ap.add_argument("--shape", required=True)
    ap.add_argument("--model", default=str(ROOT / "models" / "aami" / "ecgnet.keras"))
    ap.add_argument("--shared", default=str(ROOT.parent / "shared"))
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    z = np.load(args.oof)
    codes = tuple(str(c) for c in z["codes"])
    y, raw, rec = z["y"], z["raw"], z["record"]
    context = np.load(args.shape)["context"]
    result: dict = {"DS1-OOF": {"baseline": figures(y, z["committed"], codes)}, "V-QT36": {}}
    for name, options in CANDIDATES.items():
        feats = stage_features(raw, context, rec, **options)
        probs = np.zeros_like(raw)
        for r in np.unique(rec):
            test = rec == r
            stage = fit_stage(feats[~test], y[~test], codes, **options)
            probs[test] = apply_stage(stage, feats[test])
        result["DS1-OOF"][name] = figures(y, probs, codes)
        print(name, "DS1-OOF done", flush=True)
    clf = Classifier.load(args.model)
    result["V-QT36"]["baseline"] = figures(
        *_qt(clf, args.shared), codes)
    for name, options in CANDIDATES.items():
        feats = stage_features(raw, context, rec, **options)
        clf.record_stage = fit_stage(feats, y, codes, **options)
        result["V-QT36"][name] = figures(*_qt(clf, args.shared), codes)
        print(name, "V-QT36 done", flush=True)
    print()
    print(ectopic_table(result, ("baseline", *CANDIDATES), "reading"))
    Path(args.out).write_text(json.dumps(result, indent=1))
    return 0


def _qt(clf, shared):
    d = classify_database(Path(shared) / "qtdb", clf, records=QTDB_TRAIN + QTDB_VAL)
    return d["y_true"], d["probabilities"]


if __name__ == "__main__":
    sys.exit(main())

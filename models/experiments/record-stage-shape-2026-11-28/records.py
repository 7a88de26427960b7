"""Per-record ventricular beats of candidates C and D against the baseline on DS1-OOF
(RESULT.md), read after the decision. Run from the repository root after shape.py:
    python models/experiments/record-stage-shape-2026-11-28/records.py \
        data/record-stage-oof.npz data/record-stage-shape.npz
"""
import sys

import numpy as np

sys.path.insert(0, '.')
from ecg_core.record_stage import apply_stage, fit_stage, stage_features  # noqa: E402

z = np.load(sys.argv[1])
context = np.load(sys.argv[2])["context"]
codes = tuple(str(c) for c in z['codes'])
y, raw, rec = z['y'], z['raw'], z['record']
pred = {"base": z['committed'].argmax(1)}
for name, typical in (("C", "all"), ("D", "typical half")):
    feats = stage_features(raw, context, rec, shape=True, typical=typical)
    p = np.zeros_like(raw)
    for r in np.unique(rec):
        t = rec == r
        p[t] = apply_stage(fit_stage(feats[~t], y[~t], codes, shape=True, typical=typical),
                           feats[t])
    pred[name] = p.argmax(1)
print("record | V beats | V found base / C / D | N called ectopic base / C / D | "
      "median QRS corr of V beats")
for r in np.unique(rec):
    t = rec == r
    v = t & (y == 2)
    found = " / ".join(str(((pred[k] == 2) & v).sum()) for k in pred)
    fp = " / ".join(str(((pred[k] != 0) & t & (y == 0)).sum()) for k in pred)
    corr = f"{np.median(context[v, 5]):.2f}" if v.any() else "-"
    print(f"{r} | {v.sum()} | {found} | {fp} | {corr}")

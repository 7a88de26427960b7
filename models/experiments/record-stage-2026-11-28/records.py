"""Per-record breakdown of candidate A against the baseline on DS1-OOF (RESULT.md), read after
the decision. Run from the repository root after oof.py:
    python models/experiments/record-stage-2026-11-28/records.py data/record-stage-oof.npz
"""
import sys
import numpy as np
sys.path.insert(0, '.')
from ecg_core.record_stage import stage_features, fit_stage, apply_stage
z = np.load(sys.argv[1])
codes = tuple(str(c) for c in z['codes'])
y, raw, rec = z['y'], z['raw'], z['record']
feats = stage_features(raw, z['rhythm'], rec)
pa = np.zeros_like(raw)
for r in np.unique(rec):
    t = rec == r
    pa[t] = apply_stage(fit_stage(feats[~t], y[~t], codes), feats[t])
base = z['committed'].argmax(1); a = pa.argmax(1)
print("record | V beats | V share | base V found | A V found | S beats | base S TP/FP | A S TP/FP | N->ectopic base/A")
for r in np.unique(rec):
    t = rec == r
    nv = (y[t]==2).sum(); ns=(y[t]==1).sum()
    print(r, nv, f"{nv/t.sum():.2f}", ((base[t]==2)&(y[t]==2)).sum(), ((a[t]==2)&(y[t]==2)).sum(), ns,
          f"{((base[t]==1)&(y[t]==1)).sum()}/{((base[t]==1)&(y[t]!=1)).sum()}",
          f"{((a[t]==1)&(y[t]==1)).sum()}/{((a[t]==1)&(y[t]!=1)).sum()}",
          f"{((base[t]!=0)&(y[t]==0)).sum()}/{((a[t]!=0)&(y[t]==0)).sum()}")
print("normal beats called ectopic, baseline / A:", ((base != 0) & (y == 0)).sum(), "/",
      ((a != 0) & (y == 0)).sum())

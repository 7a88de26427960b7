"""A look, before any rule: is a supraventricular premature beat the committed reading misses
(reads N) marked by a P wave unlike its neighbours' (its own stretch before the QRS correlating
poorly with theirs) and by a short RR interval, as the normal beats are not?

DS1 only (22 records), beats as built, each read by the committed reading (E2, shift, R95,
AF-fold) from the cross-validation outputs that never saw its patient. Writes measure.json.

    python models/experiments/atrial-beat-2026-12-05/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import atrial_correlation, irregular_rr, rr_intervals  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "unlike_measure", EXPERIMENTS / "unlike-qrs-2026-12-05" / "measure.py")
_u = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_u)


def main() -> int:
    y, q, names, samples, codes, sim, snr = _u.committed()
    from ecg_core.conditioning import condition_signal
    from ecg_core.records import read_record

    pred = q.argmax(axis=1)
    n, s, v = codes.index("N"), codes.index("S"), codes.index("V")
    pc, ratio, irr = (np.full(len(y), np.nan), np.full(len(y), np.nan),
                      np.zeros(len(y), bool))
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_u._m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        pc[idx] = atrial_correlation(sig, samples[idx], rec.fs, pred[idx] != v)
        prev, _, local = rr_intervals(samples[idx], rec.fs)
        ratio[idx] = prev / local
        irr[idx] = irregular_rr(samples[idx], rec.fs)
    groups = {"S beats read N": (y == s) & (pred == n), "S beats read S": (y == s) & (pred == s),
              "N beats read N": (y == n) & (pred == n), "N beats read S": (y == n) & (pred == s)}
    qs = [10, 25, 50, 75, 90]
    out = {"own P correlation quantiles 10/25/50/75/90 (n)": {
        k: [round(float(x), 3) for x in np.nanpercentile(pc[m], qs)] + [int(m.sum())]
        for k, m in groups.items()},
        "RR before / local mean RR quantiles": {
        k: [round(float(x), 3) for x in np.nanpercentile(ratio[m], qs)] for k, m in groups.items()}}
    grid = {}
    for t in (0.3, 0.5, 0.7):
        for r in (0.8, 0.9, 1.0, 9.0):
            cand = (pred == n) & (pc < t) & (ratio < r) & ~irr
            grid[f"P corr<{t} RR ratio<{r} regular"] = {
                "S found": int((cand & (y == s)).sum()),
                "non-S called S": int((cand & (y != s)).sum())}
    out["promote N to S where"] = grid
    missed = groups["S beats read N"]
    out["missed S by record"] = {r: int((missed & (names == r)).sum())
                                 for r in sorted(set(names[missed]))}
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A look, before any rule: the supraventricular premature beats the committed reading misses
(reads N): are they premature against the local rhythm, with a P wave unlike their neighbours'
(``atrial_correlation``), as the normal beats read N are not?

DS1 (the 22 patients, each read by the cross-validation networks that never saw it, committed
readings) and the 36 QT validation records through the committed aami/ecgnet. No DS2 record, no
held-out QT record. Writes measure.json.

    python models/experiments/s-premature-p-2026-12-05/measure.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import atrial_correlation, record_readings, rr_intervals  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "atrial_measure", EXPERIMENTS / "atrial-activity-2026-12-05" / "measure.py")
_m = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_m)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())


def marks(q, sig, samples, fs, v):
    """Per beat: RR before / local mean RR, RR after / local mean RR, atrial correlation
    (beats not read V)."""
    prev, nxt, local = rr_intervals(samples, fs)
    corr = atrial_correlation(sig, samples, fs, q.argmax(axis=1) != v)
    return prev / local, nxt / local, corr


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    n_, s_, v = codes.index("N"), codes.index("S"), codes.index("V")
    parts = {k: [] for k in ("y", "pred", "name", "prem", "post", "corr")}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        q = record_readings(p[idx], sig, samples[idx], fs, codes,
                            dominant_qrs={"threshold": 2.0,
                                          "cluster": CARD["dominant_qrs"]["cluster"]},
                            af_fold=CARD["af_fold"], v_template=CARD["v_template"]
                            ).probabilities
        a, b, c = marks(q, sig, samples[idx], fs, v)
        for k, val in zip(parts, (y[idx], q.argmax(axis=1), np.array([name] * len(idx)), a, b,
                                  c)):
            parts[k].append(val)
    sets = {"DS1-OOF": {k: np.concatenate(val) for k, val in parts.items()}}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    parts = {k: [] for k in ("y", "pred", "name", "prem", "post", "corr")}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([x in _m._dq.AAMI for x in res.reference])
        a, b, c = marks(res.probabilities, model_signal(rec, clf), res.samples, res.fs, v)
        yy = np.array([codes.index(_m._dq.AAMI[x]) for x in np.array(res.reference)[keep]])
        for k, val in zip(parts, (yy, res.probabilities.argmax(axis=1)[keep],
                                  np.array([name] * int(keep.sum())), a[keep], b[keep],
                                  c[keep])):
            parts[k].append(val)
    sets["QT36"] = {k: np.concatenate(val) for k, val in parts.items()}
    out = {}
    qs = [10, 25, 50, 75, 90]
    for part, d in sets.items():
        yy, pred, nm = d["y"], d["pred"], d["name"]
        groups = {"S read S": (yy == s_) & (pred == s_), "S read N": (yy == s_) & (pred == n_),
                  "N read N": (yy == n_) & (pred == n_), "N read S": (yy == n_) & (pred == s_)}
        po = {g: {"n": int(m.sum()),
                  **{k: [round(float(x), 3) for x in np.nanpercentile(d[k][m], qs)]
                     for k in ("prem", "post", "corr")}} for g, m in groups.items()}
        po["S read N by record"] = {k: int(((yy == s_) & (pred == n_) & (nm == k)).sum())
                                    for k in sorted(set(nm[(yy == s_) & (pred == n_)]))}
        grid = {}
        for a in (0.8, 0.85, 0.9):
            for c in (0.5, 0.7, 0.8):
                cand = (pred == n_) & (d["prem"] < a) & (d["corr"] < c)
                grid[f"read N, RR before < {a} x local, atrial correlation < {c}"] = {
                    "S found": int((cand & (yy == s_)).sum()),
                    "not S": int((cand & (yy != s_)).sum()),
                    "not S by record (top 5)": dict(sorted(
                        ((k, int((cand & (yy != s_) & (nm == k)).sum()))
                         for k in set(nm[cand & (yy != s_)])), key=lambda t: -t[1])[:5])}
        po["read S where"] = grid
        out[part] = po
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A look, before any rule: are the beats the committed reading calls S wrongly, on new
patients, beats that come on time (RR interval before them about the local mean) after the
same P wave as their neighbours, as the true S beats it finds are not?

DS1 (22 records, each read by the cross-validation networks that never saw it, committed
reading: E2, shift, dominant-QRS with its V-cluster part, AF-fold) and the 36 QT validation
records (QTDB_TRAIN + QTDB_VAL) read by the committed aami/ecgnet. No DS2 record, no held-out
QT record. Writes measure.json.

    python models/experiments/sinus-s-2026-12-05/measure.py
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
RATIOS = (0.90, 0.95, 0.97, 1.0)
CORRS = (0.8, 0.9, 0.95)


def features(sig, samples, fs, pred, v):
    """Own P correlation (beats read V left out of the templates) and RR before / local mean."""
    pc = atrial_correlation(sig, samples, fs, pred != v)
    prev, _, local = rr_intervals(samples, fs)
    return pc, prev / local


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()  # E2, shift, R95
    n, s, v = codes.index("N"), codes.index("S"), codes.index("V")
    q = p.copy()
    pc, ratio = np.full(len(y), np.nan), np.full(len(y), np.nan)
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        got = record_readings(p[idx], sig, samples[idx], fs, codes,
                              dominant_qrs={"threshold": 2.0,
                                            "cluster": CARD["dominant_qrs"]["cluster"]},
                              af_fold=CARD["af_fold"])
        q[idx] = got.probabilities
        pc[idx], ratio[idx] = features(sig, samples[idx], fs, q[idx].argmax(axis=1), v)
    sets = {"DS1-OOF": (y, q.argmax(axis=1), names, pc, ratio)}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    yq, predq, nq, pcq, rq = [], [], [], [], []
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([x in _m._dq.AAMI for x in res.reference])
        pr = res.probabilities.argmax(axis=1)
        a, b = features(model_signal(rec, clf), res.samples, res.fs, pr, v)
        yq.append(np.array([codes.index(_m._dq.AAMI[x]) for x in np.array(res.reference)[keep]]))
        predq.append(pr[keep]), nq.append(np.array([name] * int(keep.sum())))
        pcq.append(a[keep]), rq.append(b[keep])
    sets["QT36"] = tuple(map(np.concatenate, (yq, predq, nq, pcq, rq)))
    out = {}
    qs = [10, 25, 50, 75, 90]
    for part, (yy, pred, nm, c, r) in sets.items():
        groups = {"S beats read S": (yy == s) & (pred == s),
                  "other beats read S": (yy != s) & (pred == s)}
        part_out = {"own P correlation quantiles 10/25/50/75/90 (n)": {
            k: [round(float(x), 3) for x in np.nanpercentile(c[m], qs)] + [int(m.sum())]
            for k, m in groups.items()},
            "RR before / local mean quantiles": {
            k: [round(float(x), 3) for x in np.nanpercentile(r[m], qs)]
            for k, m in groups.items()}}
        grid = {}
        for t in CORRS:
            for rr in RATIOS:
                cand = (pred == s) & (c >= t) & (r >= rr)
                grid[f"P corr>={t} RR ratio>={rr}"] = {
                    "S lost": int((cand & (yy == s)).sum()),
                    "false S removed": int((cand & (yy != s)).sum()),
                    "S lost by record": {k: int((cand & (yy == s) & (nm == k)).sum())
                                         for k in sorted(set(nm[cand & (yy == s)]))}}
        part_out["read N where"] = grid
        part_out["S beats"] = int((yy == s).sum())
        part_out["S calls"] = int((pred == s).sum())
        out[part] = part_out
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

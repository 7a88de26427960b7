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
LONG_S = 120.0  # the longer look back: the median RR of the beats in the 2 minutes before
LONG_RATIOS = (0.8, 0.85, 0.9)


def features(sig, samples, fs, pred, v):
    """Own P correlation (beats read V left out of the templates), RR before / local mean, and
    RR before / the median RR before over the preceding LONG_S seconds."""
    pc = atrial_correlation(sig, samples, fs, pred != v)
    prev, _, local = rr_intervals(samples, fs)
    t = np.asarray(samples) / fs
    start = np.searchsorted(t, t - LONG_S)
    long = np.array([np.nanmedian(prev[a:i]) if i - a >= 8 else np.nan
                     for i, a in enumerate(start)])
    return pc, prev / local, prev / long, local / np.nanmean(prev)


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()  # E2, shift, R95
    n, s, v = codes.index("N"), codes.index("S"), codes.index("V")
    q = p.copy()
    pc, ratio, lr, rec_r = (np.full(len(y), np.nan) for _ in range(4))
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        got = record_readings(p[idx], sig, samples[idx], fs, codes,
                              dominant_qrs={"threshold": 2.0,
                                            "cluster": CARD["dominant_qrs"]["cluster"]},
                              af_fold=CARD["af_fold"])
        q[idx] = got.probabilities
        pc[idx], ratio[idx], lr[idx], rec_r[idx] = features(sig, samples[idx], fs,
                                                            q[idx].argmax(axis=1), v)
    sets = {"DS1-OOF": (y, q.argmax(axis=1), names, pc, ratio, lr, rec_r)}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    yq, predq, nq, pcq, rq, lq, gq = [], [], [], [], [], [], []
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([x in _m._dq.AAMI for x in res.reference])
        pr = res.probabilities.argmax(axis=1)
        a, b, c, g = features(model_signal(rec, clf), res.samples, res.fs, pr, v)
        yq.append(np.array([codes.index(_m._dq.AAMI[x]) for x in np.array(res.reference)[keep]]))
        predq.append(pr[keep]), nq.append(np.array([name] * int(keep.sum())))
        pcq.append(a[keep]), rq.append(b[keep]), lq.append(c[keep]), gq.append(g[keep])
    sets["QT36"] = tuple(map(np.concatenate, (yq, predq, nq, pcq, rq, lq, gq)))
    out = {}
    qs = [10, 25, 50, 75, 90]
    for part, (yy, pred, nm, c, r, lng, rec_ratio) in sets.items():
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
        part_out["RR before / median of the 2 min before, quantiles"] = {
            k: [round(float(x), 3) for x in np.nanpercentile(lng[m], qs)]
            for k, m in groups.items()}
        grid = {}
        for t in (0.8, 0.9):
            for rr in (0.95, 0.97):
                for lr_ in LONG_RATIOS:
                    cand = (pred == s) & (c >= t) & (r >= rr) & (lng >= lr_)
                    grid[f"P corr>={t} RR ratio>={rr} long ratio>={lr_}"] = {
                        "S lost": int((cand & (yy == s)).sum()),
                        "false S removed": int((cand & (yy != s)).sum()),
                        "S lost by record": {k: int((cand & (yy == s) & (nm == k)).sum())
                                             for k in sorted(set(nm[cand & (yy == s)]))}}
        part_out["read N where (with the longer look back)"] = grid
        cand = (pred == s) & (c >= 0.8) & (r >= 0.97) & (lng >= 0.85)
        part_out["local mean RR / record mean RR of those read N at 0.8, 0.97, 0.85: "
                 "quantiles, false S / true S"] = {
            k: [round(float(x), 3) for x in np.nanpercentile(rec_ratio[m], qs)]
            if m.any() else [] for k, m in (("false S", cand & (yy != s)),
                                            ("true S", cand & (yy == s)))}
        part_out["local mean RR / record mean RR quantiles"] = {
            k: [round(float(x), 3) for x in np.nanpercentile(rec_ratio[m], qs)]
            for k, m in groups.items()}
        part_out["S beats"] = int((yy == s).sum())
        part_out["S calls"] = int((pred == s).sum())
        out[part] = part_out
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

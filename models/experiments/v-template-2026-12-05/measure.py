"""A look, before any rule: are the ventricular beats the committed reading misses (reads N or
S) shaped like the record's own V calls (the median QRS of the beats it reads V), as the
normal beats are not? A Holter analyser sorts beats into morphology templates this way.

DS1 (22 records, each read by the cross-validation networks that never saw it, committed
reading) and the 36 QT validation records through the committed aami/ecgnet. No DS2 record, no
held-out QT record. Writes measure.json.

    python models/experiments/v-template-2026-12-05/measure.py
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
from ecg_core.beats import _qrs_stretches, record_readings  # noqa: E402
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


def template_marks(sig, samples, fs, called_v):
    """Per beat: cosine with the V calls' median QRS and with the typical QRS (NaN where there
    is no V cluster of at least 3 calls, or no whole stretch), and the cluster's similarity."""
    stretch, whole = _qrs_stretches(sig, samples, fs)
    n = len(samples)
    to_v, to_t = np.full(n, np.nan), np.full(n, np.nan)
    inside = called_v[whole]
    if whole.sum() < 3 or inside.sum() < 3:
        return to_v, to_t, np.nan
    typical = np.median(stretch, axis=0)
    vt = np.median(stretch[inside], axis=0)
    norms = np.linalg.norm(stretch, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        to_v[whole] = stretch @ vt / (norms * np.linalg.norm(vt))
        to_t[whole] = stretch @ typical / (norms * np.linalg.norm(typical))
    cluster = float(vt @ typical / (np.linalg.norm(vt) * np.linalg.norm(typical)))
    return to_v, to_t, cluster


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    n_, s_, v = codes.index("N"), codes.index("S"), codes.index("V")
    q = p.copy()
    to_v, to_t, clus = (np.full(len(y), np.nan) for _ in range(3))
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        q[idx] = record_readings(p[idx], sig, samples[idx], fs, codes,
                                 dominant_qrs={"threshold": 2.0,
                                               "cluster": CARD["dominant_qrs"]["cluster"]},
                                 af_fold=CARD["af_fold"]).probabilities
        to_v[idx], to_t[idx], clus[idx] = template_marks(sig, samples[idx], fs,
                                                         q[idx].argmax(axis=1) == v)
    sets = {"DS1-OOF": (y, q.argmax(axis=1), names, to_v, to_t, clus, q[:, v])}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    parts = [[] for _ in range(7)]
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([x in _m._dq.AAMI for x in res.reference])
        pr = res.probabilities.argmax(axis=1)
        a, b, c = template_marks(model_signal(rec, clf), res.samples, res.fs, pr == v)
        vals = (np.array([codes.index(_m._dq.AAMI[x]) for x in np.array(res.reference)[keep]]),
                pr[keep], np.array([name] * int(keep.sum())), a[keep], b[keep],
                np.full(int(keep.sum()), c), res.probabilities[keep, v])
        for lst, val in zip(parts, vals):
            lst.append(val)
    sets["QT36"] = tuple(np.concatenate(x) for x in parts)
    out = {}
    qs = [10, 25, 50, 75, 90]
    for part, (yy, pred, nm, tv, tt, cl, pv) in sets.items():
        groups = {"V beats read N or S": (yy == v) & np.isin(pred, [n_, s_]),
                  "V beats read V": (yy == v) & (pred == v),
                  "other beats read N or S": (yy != v) & np.isin(pred, [n_, s_])}
        po = {"to the V calls' median QRS, quantiles (n)": {
            k: [round(float(x), 3) for x in np.nanpercentile(tv[m], qs)] + [int(m.sum())]
            for k, m in groups.items()},
            "to the typical QRS, quantiles": {
            k: [round(float(x), 3) for x in np.nanpercentile(tt[m], qs)]
            for k, m in groups.items()}}
        grid = {}
        for t in (0.8, 0.85, 0.9, 0.95):
            for margin in (0.1, 0.2, 0.3):
                for cmax in (0.9, 0.8):
                    cand = (np.isin(pred, [n_, s_]) & (tv >= t) & (tv - tt >= margin)
                            & (cl < cmax))
                    grid[f"to V >= {t}, to V - to typical >= {margin}, cluster < {cmax}"] = {
                        "V found": int((cand & (yy == v)).sum()),
                        "non-V called V": int((cand & (yy != v)).sum()),
                        "non-V by record": {k: int((cand & (yy != v) & (nm == k)).sum())
                                            for k in sorted(set(nm[cand & (yy != v)]))}}
        po["read V where"] = grid
        po["V beats"] = int((yy == v).sum())
        po["V beats missed"] = int(groups["V beats read N or S"].sum())
        out[part] = po
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A look, before any rule: how would the committed V-template reading (one template, then
group templates) do with a lower match bound (0.90, 0.92 instead of 0.95) or a smaller margin
over the typical QRS (0.05 instead of 0.10)? DS1-OOF (the 22 patients read by the
cross-validation networks that never saw them) and the 36 QT validation records through the
committed model with the card's readings but the V-template reading's bounds changed. No DS2
record, no held-out QT record. Writes measure.json.

    python models/experiments/v-template-match-2026-12-05/measure.py
"""

from __future__ import annotations

import copy
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record  # noqa: E402
from ecg_core.beats import record_readings  # noqa: E402
from ecg_core.evaluation import ectopic_figures  # noqa: E402
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
VARIANTS = {"committed (0.95, 0.10)": (0.95, 0.10), "0.92, 0.10": (0.92, 0.10),
            "0.90, 0.10": (0.90, 0.10), "0.95, 0.05": (0.95, 0.05)}


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    v = codes.index("V")
    out = {"DS1-OOF": {}, "QT36": {}}
    for label, (thr, margin) in VARIANTS.items():
        tpl = dict(CARD["v_template"], threshold=thr, margin=margin)
        q = p.copy()
        for name in sorted(set(names)):
            idx = np.flatnonzero(names == name)
            idx = idx[np.argsort(samples[idx])]
            sig, fs = signals[name]
            q[idx] = record_readings(p[idx], sig, samples[idx], fs, codes,
                                     dominant_qrs={"threshold": 2.0,
                                                   "cluster": CARD["dominant_qrs"]["cluster"]},
                                     af_fold=CARD["af_fold"], v_template=tpl).probabilities
        f = ectopic_figures(y, q, codes)
        pred = q.argmax(axis=1)
        f["false V by record (top 5)"] = dict(sorted(
            ((k, int(((pred == v) & (y != v) & (names == k)).sum())) for k in set(names)),
            key=lambda t: -t[1])[:5])
        f.pop("confusion", None)
        out["DS1-OOF"][label] = f
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    yq, qs = [], {label: [] for label in VARIANTS}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        keep = None
        for label, (thr, margin) in VARIANTS.items():
            c = copy.copy(clf)
            c.v_template = dict(CARD["v_template"], threshold=thr, margin=margin)
            res = classify_record(rec, c)
            keep = np.array([s in _m._dq.AAMI for s in res.reference])
            qs[label].append(res.probabilities[keep])
        yq.append(np.array([codes.index(_m._dq.AAMI[s])
                            for s in np.array(res.reference)[keep]]))
    yq = np.concatenate(yq)
    for label in VARIANTS:
        f = ectopic_figures(yq, np.concatenate(qs[label]), codes)
        f.pop("confusion", None)
        out["QT36"][label] = f
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    for part, rows in out.items():
        for label, f in rows.items():
            print(part, label, {k: round(f[k], 2) for k in ("accuracy", "S Se", "S +P", "V Se",
                                                           "V +P")},
                  f.get("false V by record (top 5)", ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())

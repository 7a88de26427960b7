"""A look, before any rule: in each record, is the median QRS of the beats the committed
reading calls V (the "V cluster") unlike the record's typical QRS where those calls are
right, and alike it where they are wrong?

DS1 only for the deciding material (22 records, beats as built, each read by the committed
reading from the cross-validation outputs that never saw its patient) and the 36 QT
validation records (QTDB_TRAIN + QTDB_VAL) read by the committed aami/ecgnet. No DS2 record,
no held-out QT record. Writes measure.json.

    python models/experiments/v-cluster-2026-12-05/measure.py
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
from ecg_core.beats import _qrs_stretches  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
SHARED = ROOT.parent / "shared"
_spec = importlib.util.spec_from_file_location(
    "unlike_measure", EXPERIMENTS / "unlike-qrs-2026-12-05" / "measure.py")
_u = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_u)
AAMI = {"N": "N", "L": "N", "R": "N", "e": "N", "j": "N", "A": "S", "a": "S", "J": "S",
        "S": "S", "V": "V", "E": "V", "F": "F"}


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    na, nb = np.linalg.norm(a), np.linalg.norm(b)
    return float(a @ b / (na * nb)) if na > 0 and nb > 0 else float("nan")


def cluster_row(sig, samples, fs, called_v, true_v, sim) -> dict:
    stretch, whole = _qrs_stretches(sig, samples, fs)
    full = np.full((len(samples), stretch.shape[1]), np.nan)
    full[whole] = stretch
    typical = np.nanmedian(full, axis=0)
    cv = called_v & whole
    row = {"beats": int(len(samples)), "called V": int(called_v.sum()),
           "true V among them": int((called_v & true_v).sum()),
           "true V": int(true_v.sum())}
    if cv.sum() >= 3:
        vt = np.nanmedian(full[cv], axis=0)
        row["V cluster vs typical"] = round(cosine(vt, typical), 3)
        # each V call: alike the V cluster's median or the typical QRS?
        to_v = np.array([cosine(full[i], vt) for i in np.flatnonzero(cv)])
        row["V calls nearer typical than V cluster"] = int((sim[cv] > to_v).sum())
        row["of them true V"] = int(((sim[cv] > to_v) & true_v[cv]).sum())
        row["median similarity of V calls"] = round(float(np.nanmedian(sim[cv])), 3)
    return row


def main() -> int:
    y, q, names, samples, codes, sim, _snr = _u.committed()
    v = codes.index("V")
    pred = q.argmax(axis=1)
    out = {"DS1-OOF": {}, "QT36": {}}
    signals = _u._m  # the atrial-activity module holds the conditioned signals' reader
    _, _, _, _, _, sigs = signals.committed_reading()
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = sigs[name]
        out["DS1-OOF"][name] = cluster_row(sig, samples[idx], fs, pred[idx] == v,
                                           y[idx] == v, sim[idx])
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        sig = model_signal(rec, clf)
        keep = np.array([s in AAMI for s in res.reference])
        tv = np.array([AAMI.get(s) == "V" for s in res.reference])
        cv = np.array([c == "V" for c in res.predicted]) & keep
        out["QT36"][name] = cluster_row(sig, res.samples, res.fs, cv, tv & keep,
                                        res.qrs_similarity)
    (HERE / "measure.json").write_text(json.dumps(out, indent=1))
    for part, rows in out.items():
        print(part)
        for name, row in rows.items():
            if row["called V"] or row["true V"]:
                print(" ", name, row)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A look (disclosed) before any rule: the beats the committed readings (with the last check on
both leads) leave read S on DS1-OOF and on QT36, by their true class and by the cosine
similarity of their QRS on both leads side by side with the record's typical two-lead QRS
(counted under each bound). No DS2 record, no held-out QT record.

    python models/experiments/s-unlike-qrs-2026-12-06/look.py > look.txt
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

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import _qrs_stretches, _side_by_side, record_readings  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "align_score", HERE.parent / "qrs-alignment-2026-12-05" / "score.py")
_a = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_a)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = CARD["qrs_alignment"]["max_shift_ms"] / 1000.0
LEVELS = (0.3, 0.5, 0.7, 0.8)


def joined_similarity(sig, other, pos, fs):
    """Each beat's two-lead QRS against the typical two-lead QRS (NaN where missing)."""
    st, whole = _side_by_side(*_qrs_stretches(sig, pos, fs, ALIGN_S),
                              *_qrs_stretches(other, pos, fs, ALIGN_S))
    out = np.full(len(pos), np.nan)
    if st is None:
        return out
    t = np.median(st, axis=0)
    n = np.linalg.norm(st, axis=1) * np.linalg.norm(t)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[whole] = np.where(n > 0, st @ t / n, np.nan)
    return out


def one(rows, name, p, sig, other, pos, fs, truth, codes):
    """Append (set, record, true class, joined similarity, one-lead similarity, V share)."""
    r = record_readings(p, sig, pos, fs, codes, dominant_qrs=CARD["dominant_qrs"],
                        af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                        other_signal=other, qrs_align_s=ALIGN_S)
    called = r.probabilities.argmax(1) == codes.index("S")
    if not called.any():
        return
    j = joined_similarity(sig, other, pos, fs)
    for k in np.flatnonzero(called):
        rows.append((name, truth[k], j[k], r.qrs_similarity[k], called.mean()))


def main():
    rows = {"DS1-OOF": [], "QT36": []}
    y, p, names, samples, codes = _a.ds1_oof()
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(_a._m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        truth = np.array([codes[c] for c in y[idx]])
        one(rows["DS1-OOF"], name, p[idx], sig, other, samples[idx], rec.fs, truth, codes)
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    bare = copy.copy(clf)
    bare.dominant_qrs = bare.af_fold = bare.v_template = None
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_a._m._dq.SHARED / "qtdb" / name, annotator="atr", other_lead=True)
        res = classify_record(rec, bare)
        other = condition_signal(rec.other_signal, rec.fs, clf.conditioning)
        truth = np.array([_a._m._dq.AAMI.get(s, "-") for s in res.reference])
        one(rows["QT36"], name, res.probabilities, model_signal(rec, clf), other, res.samples,
            res.fs, truth, tuple(clf.class_codes))
    for key, rr in rows.items():
        print(f"\n## {key}: beats read S after the committed readings: {len(rr)}")
        truth = np.array([r[1] for r in rr])
        j = np.array([r[2] for r in rr], dtype=float)
        rec = np.array([r[0] for r in rr])
        for cls in sorted(set(truth)):
            m = truth == cls
            print(f"true {cls}: {m.sum()}, joined similarity quantiles 10/50/90 "
                  f"{np.round(np.nanquantile(j[m], [0.1, 0.5, 0.9]), 3)}")
        for t in LEVELS:
            sel = j < t
            per = {}
            for r_, c_ in zip(rec[sel], truth[sel]):
                per.setdefault(r_, {}).setdefault(c_, 0)
                per[r_][c_] += 1
            print(f"joined < {t}: " + ", ".join(f"{c} {(sel & (truth == c)).sum()}"
                                                  for c in sorted(set(truth))) + f"   {per}")


if __name__ == "__main__":
    main()

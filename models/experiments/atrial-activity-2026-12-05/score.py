"""Validation figures of RULE.md (beside this file): AF-fold, S folded into N where the
rhythm is irregular and the stretch before the QRS inconsistent (atrial fibrillation).

1. DS1-OOF: the committed reading (E2, shift, R95) from the saved out-of-fold outputs, as
   ``measure.py`` reads it, without and with AF-fold.
2. QT36: the committed ``aami/ecgnet`` (with R95) on the 36 QT validation records (Record page
   path, reference beats), without and with AF-fold.

    python models/experiments/atrial-activity-2026-12-05/score.py
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
from ecg_core.beats import irregular_rr  # noqa: E402
from ecg_core.evaluation import ectopic_figures  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("atrial_measure", HERE / "measure.py")
_m = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_m)
THRESHOLD = 0.5
BASELINE, CANDIDATE = "committed reading (E2 + R95)", "with AF-fold"


def af_fold(probs, samples, signal, fs, codes):
    """RULE.md's candidate on one record (samples in time order): probabilities float (n, k)
    -> float64 (n, k), and the flagged beats bool (n,)."""
    q = np.array(probs, dtype=np.float64)
    usable = q.argmax(axis=1) != codes.index("V")
    _, score = _m.atrial_consistency(signal, samples, fs, usable)
    with np.errstate(invalid="ignore"):
        flag = irregular_rr(samples, fs) & (score < THRESHOLD)
    n, s = codes.index("N"), codes.index("S")
    q[flag, n] += q[flag, s]
    q[flag, s] = 0.0
    return q, flag


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    q, flagged = p.copy(), np.zeros(len(y), bool)
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        q[idx], flagged[idx] = af_fold(p[idx], samples[idx], sig, fs, codes)
    result = {"DS1-OOF": {BASELINE: ectopic_figures(y, p, codes),
                          CANDIDATE: ectopic_figures(y, q, codes)},
              "DS1-OOF flagged by record": {
                  r: int(flagged[names == r].sum()) for r in sorted(set(names))
                  if flagged[names == r].any()}}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    assert clf.dominant_qrs, "the committed reading includes R95"
    yq, pq, qq, qflag = [], [], [], {}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([s in _m._dq.AAMI for s in res.reference])
        yq.append(np.array([codes.index(_m._dq.AAMI[s])
                            for s in np.array(res.reference)[keep]]))
        folded, flag = af_fold(res.probabilities, res.samples, model_signal(rec, clf), res.fs,
                               codes)
        pq.append(res.probabilities[keep]), qq.append(folded[keep])
        if flag.any():
            qflag[name] = int(flag.sum())
    yq, pq, qq = map(np.concatenate, (yq, pq, qq))
    result["QT36"] = {BASELINE: ectopic_figures(yq, pq, codes),
                      CANDIDATE: ectopic_figures(yq, qq, codes)}
    result["QT36 flagged by record"] = qflag
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["QT36"][BASELINE], result["QT36"][CANDIDATE]
    checks = {
        "(1) accuracy >= baseline + 0.5": [c["accuracy"], b["accuracy"] + 0.5],
        "(2) S +P >= baseline + 3": [c["S +P"], b["S +P"] + 3],
        "(3) S Se >= baseline - 3": [c["S Se"], b["S Se"] - 3],
        "(4) V Se >= baseline - 0.5": [c["V Se"], b["V Se"] - 0.5],
        "(4) V +P >= baseline - 0.5": [c["V +P"], b["V +P"] - 0.5],
        "(5) QT36 accuracy >= baseline - 0.1": [qc["accuracy"], qb["accuracy"] - 0.1],
        "(6) QT36 S Se >= baseline - 5": [qc["S Se"], qb["S Se"] - 5],
    }
    result["checks"] = {k: [v, bound, v >= bound] for k, (v, bound) in checks.items()}
    result["qualifies"] = all(ok for *_, ok in result["checks"].values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print("| reading | set | acc | N Se | S Se | S +P | V Se | V +P | C |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for dset in ("DS1-OOF", "QT36"):
        for name in (BASELINE, CANDIDATE):
            f = result[dset][name]
            print(f"| {name} | {dset} | {f['accuracy']:.2f} | {f['N Se']:.1f} | "
                  f"{f['S Se']:.1f} | {f['S +P']:.1f} | {f['V Se']:.1f} | {f['V +P']:.1f} | "
                  f"{f['C']:.2f} |")
    print(json.dumps({k: result[k] for k in ("DS1-OOF flagged by record",
                                             "QT36 flagged by record")}))
    for k, (value, bound, ok) in result["checks"].items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


if __name__ == "__main__":
    sys.exit(main())

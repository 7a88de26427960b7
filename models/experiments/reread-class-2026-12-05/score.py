"""Validation figures of RULE.md (beside this file): where the dominant-QRS reading's re-read
beats go. R95 (committed: next most likely class), R95-N (V's probability given to N) and
R95-NS (V and F set to 0: the more likely of N and S).

1. DS1-OOF (deciding): the committed composite (E2) from the saved out-of-fold outputs, as
   ``../dominant-qrs-2026-12-05/score.py`` reads it, with each reading.
2. QT36: the committed ``aami/ecgnet`` on the 36 QT validation records (Record page path,
   reference beats), its outputs before the reading, then each reading.

Run from the repository root (about 4 min on 2 cores):
    python models/experiments/reread-class-2026-12-05/score.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.calibration import shift_probabilities  # noqa: E402
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.dataset import load_split  # noqa: E402
from ecg_core.evaluation import ectopic_figures, ectopic_table  # noqa: E402
from ecg_core.model import Classifier  # noqa: E402
from ecg_core.protocols import DS1_CV_PROTOCOLS, QTDB_TRAIN, QTDB_VAL  # noqa: E402
from ecg_core.records import read_record  # noqa: E402
from ecg_core.training import class_mix_log_ratio  # noqa: E402

HERE = Path(__file__).resolve().parent
EXPERIMENTS = HERE.parent
_spec = importlib.util.spec_from_file_location(
    "dominant_qrs_score", EXPERIMENTS / "dominant-qrs-2026-12-05" / "score.py")
_dq = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_dq)
READINGS = ("R95", "R95-N", "R95-NS")


def read(probs: np.ndarray, r: np.ndarray, codes: list[str], how: str) -> np.ndarray:
    """One record's probabilities (float (n, k)) read by R95 with the re-read beats going
    where ``how`` says (RULE.md)."""
    v = codes.index("V")
    base = _dq.r95(probs, r, v)
    moved = (probs.argmax(axis=1) == v) & (base.argmax(axis=1) != v)
    q = np.array(probs, dtype=np.float64)
    if how == "R95":
        return base
    if how == "R95-N":
        n = codes.index("N")
        q[moved, n] += q[moved, v]
        q[moved, v] = 0.0
    elif how == "R95-NS":
        q[np.ix_(moved, [v, codes.index("F")])] = 0.0
        q[moved] /= q[moved].sum(axis=1, keepdims=True)
    return q


def main() -> int:
    local, _ = _dq._rn._recipe("ds1-cv-2026-11-28")
    record, _ = _dq._rn._recipe("record-rr-cv-2026-11-28")
    ys, ps, rs, recs, start, codes = [], [], [], [], 0, None
    for protocol in DS1_CV_PROTOCOLS:
        _, y, rows = load_split(_dq.DATA, "test", protocol)
        sl = slice(start, start + len(y))
        start += len(y)
        card = _dq._fold_card(protocol)
        ratio = class_mix_log_ratio(card, _dq.DATA)[0]
        codes = codes or [c["code"] for c in card["classes"]]
        v = codes.index("V")
        p = shift_probabilities(_dq._rn.guarded(local[sl], record[sl], v), _dq.SHIFT * ratio)
        r = np.full(len(y), np.nan)
        names = np.array([row["record"] for row in rows])
        for name in sorted(set(names)):
            idx = np.flatnonzero(names == name)
            rec = read_record(_dq.SHARED / "mitdb" / name, lead="MLII", annotator=None)
            sig = condition_signal(rec.signal, rec.fs, "bandpass")
            samples = np.array([int(rows[i]["sample"]) for i in idx])
            order = np.argsort(samples)
            r[idx[order]] = _dq.similarity(sig, samples[order], rec.fs)
        ys.append(y), ps.append(p), rs.append(r), recs.append(names)
        print(protocol, "read", flush=True)
    y, p, r, names = map(np.concatenate, (ys, ps, rs, recs))
    result: dict = {"DS1-OOF": {}, "QT36": {}, "DS1-OOF re-read beats to": {}}
    moved = None
    for how in READINGS:
        q = p.copy()
        for name in sorted(set(names)):
            idx = np.flatnonzero(names == name)
            q[idx] = read(p[idx], r[idx], codes, how)
        result["DS1-OOF"][how] = ectopic_figures(y, q, codes)
        if moved is None:
            moved = (p.argmax(1) == codes.index("V")) & (q.argmax(1) != codes.index("V"))
        result["DS1-OOF re-read beats to"][how] = {
            "beats": int(moved.sum()),
            "true class -> read": dict(Counter(f"{codes[a]}->{codes[b]}" for a, b in
                                               zip(y[moved], q[moved].argmax(1))))}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    clf.dominant_qrs = None  # the outputs before the reading; each reading is applied below
    yq, pq, sq = [], [], []
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([s in _dq.AAMI for s in res.reference])
        yq.append(np.array([codes.index(_dq.AAMI[s]) for s in np.array(res.reference)[keep]]))
        pq.append((res.probabilities, keep))
        sq.append(_dq.similarity(model_signal(rec, clf), res.samples, res.fs))
    yq = np.concatenate(yq)
    for how in READINGS:
        qq = np.concatenate([read(pr, s, codes, how)[keep] for (pr, keep), s in zip(pq, sq)])
        result["QT36"][how] = ectopic_figures(yq, qq, codes)
    b, bq = result["DS1-OOF"]["R95"], result["QT36"]["R95"]
    result["checks"] = {}
    for how in READINGS[1:]:
        c, cq = result["DS1-OOF"][how], result["QT36"][how]
        checks = {
            "(1) C >= baseline + 1": [c["C"], b["C"] + 1, c["C"] >= b["C"] + 1],
            "(2) accuracy >= baseline": [c["accuracy"], b["accuracy"],
                                         c["accuracy"] >= b["accuracy"]],
            "(3) QT36 accuracy >= baseline - 0.5": [cq["accuracy"], bq["accuracy"] - 0.5,
                                                    cq["accuracy"] >= bq["accuracy"] - 0.5],
            "(4) S Se >= baseline - 3": [c["S Se"], b["S Se"] - 3, c["S Se"] >= b["S Se"] - 3],
            "(5) QT36 S Se >= baseline - 5": [cq["S Se"], bq["S Se"] - 5,
                                              cq["S Se"] >= bq["S Se"] - 5],
        }
        result["checks"][how] = {"checks": checks,
                                 "qualifies": all(ok for *_, ok in checks.values())}
    qualifying = [h for h in READINGS[1:] if result["checks"][h]["qualifies"]]
    adopted = max(qualifying, key=lambda h: (result["DS1-OOF"][h]["C"], h == "R95-N"),
                  default=None)
    result["adopted"] = adopted
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print(ectopic_table({"DS1-OOF": result["DS1-OOF"], "V-QT36": result["QT36"]},
                        list(READINGS), "reading"))
    for how in READINGS:
        f = result["QT36"][how]
        print(f"QT36 {how}: S Se / +P {f['S Se']:.1f} / {f['S +P']:.1f}")
    print(json.dumps(result["DS1-OOF re-read beats to"]))
    for how in READINGS[1:]:
        for k, (value, bound, ok) in result["checks"][how]["checks"].items():
            print(f"{how} {k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("adopted:", adopted or "none")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""RULE.md's deciding run: the committed reading with and without the V-template reading with
its QRS-width guard (``ecg_core.beats.v_template_reading``, applied last), on DS1-OOF and the 36
QT validation records.
No DS2 record, no held-out QT record. Writes validation.json.

    python models/experiments/v-template-guard-2026-12-05/score.py
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
from ecg_core.beats import record_readings, v_template_reading  # noqa: E402
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
BASELINE, CANDIDATE = "committed", "with the guarded V-template reading"
SETTINGS = {"threshold": 0.95, "margin": 0.10, "cluster_threshold": 0.90,
            "min_width_gain_s": 0.010}


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()  # E2, shift, R95
    v = codes.index("V")
    base, cand = p.copy(), p.copy()
    fired = {}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        base[idx] = record_readings(p[idx], sig, samples[idx], fs, codes,
                                    dominant_qrs={"threshold": 2.0,
                                                  "cluster": CARD["dominant_qrs"]["cluster"]},
                                    af_fold=CARD["af_fold"]).probabilities
        cand[idx], promoted, _ = v_template_reading(base[idx], sig, samples[idx], fs, v,
                                                    **SETTINGS)
        if promoted.any():
            fired[name] = [int(promoted.sum()), int((promoted & (y[idx] == v)).sum())]
    result = {"DS1-OOF": {BASELINE: ectopic_figures(y, base, codes),
                          CANDIDATE: ectopic_figures(y, cand, codes)},
              "DS1-OOF read V by record (all, true V)": fired}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    yq, pq, qq, qfired = [], [], [], {}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        got, promoted, _ = v_template_reading(res.probabilities, model_signal(rec, clf),
                                              res.samples, res.fs, v, **SETTINGS)
        keep = np.array([s in _m._dq.AAMI for s in res.reference])
        yq.append(np.array([codes.index(_m._dq.AAMI[s])
                            for s in np.array(res.reference)[keep]]))
        pq.append(res.probabilities[keep]), qq.append(got[keep])
        if promoted.any():
            qfired[name] = int(promoted.sum())
    yq, pq, qq = map(np.concatenate, (yq, pq, qq))
    result["QT36"] = {BASELINE: ectopic_figures(yq, pq, codes),
                      CANDIDATE: ectopic_figures(yq, qq, codes)}
    result["QT36 read V by record"] = qfired
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["QT36"][BASELINE], result["QT36"][CANDIDATE]
    checks = {
        "(1) V Se >= committed + 2": [c["V Se"], b["V Se"] + 2],
        "(1) V +P >= committed - 3": [c["V +P"], b["V +P"] - 3],
        "(1) accuracy >= committed - 0.1": [c["accuracy"], b["accuracy"] - 0.1],
        "(1) S Se >= committed - 1": [c["S Se"], b["S Se"] - 1],
        "(2) QT36 accuracy >= committed - 0.05": [qc["accuracy"], qb["accuracy"] - 0.05],
        "(2) QT36 V +P >= committed - 2": [qc["V +P"], qb["V +P"] - 2],
        "(2) QT36 V Se not lower": [qc["V Se"], qb["V Se"]]}
    result["checks"] = {k: [val, bound, val >= bound] for k, (val, bound) in checks.items()}
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
    print(json.dumps({k: result[k] for k in ("DS1-OOF read V by record (all, true V)",
                                             "QT36 read V by record")}))
    for k, (value, bound, ok) in result["checks"].items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


if __name__ == "__main__":
    sys.exit(main())

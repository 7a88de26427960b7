"""RULE.md's deciding run: the committed readings with and without a second V-template pass on
both leads side by side (candidate U), on DS1-OOF and the 36 QT validation records. No DS2
record, no held-out QT record. Writes validation.json (and /tmp/look/ds1oof.npz for
``measure.py``).

    python models/experiments/v-template-two-leads-2026-12-05/score.py
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
from ecg_core.conditioning import condition_signal  # noqa: E402
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
BASELINE, CANDIDATE = "committed", "U: and on both leads"
VT = CARD["v_template"]


def two_lead_pass(probabilities, signal, other, positions, fs, v):
    """RULE.md's candidate: the second pass on both leads side by side."""
    return v_template_reading(
        probabilities, signal, positions, fs, v, threshold=VT["threshold"],
        margin=VT["margin"], cluster_threshold=VT["cluster_threshold"],
        min_width_gain_s=VT["min_width_gain_ms"] / 1000.0, group_cut=VT["group_cut"],
        min_group=VT["min_group"], max_share=VT.get("max_share", 0.5),
        min_calls=VT.get("min_calls", 3), other_signal=other)[:2]


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
    v = codes.index("V")
    base, cand = p.copy(), p.copy()
    fired, leads = {}, {}
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        sig, fs = signals[name]
        base[idx] = record_readings(p[idx], sig, samples[idx], fs, codes,
                                    dominant_qrs={"threshold": 2.0,
                                                  "cluster": CARD["dominant_qrs"]["cluster"]},
                                    af_fold=CARD["af_fold"], v_template=VT).probabilities
        rec = read_record(_m._dq.SHARED / "mitdb" / name, lead="MLII", annotator=None,
                          other_lead=True)
        leads[name] = rec.other_lead
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        cand[idx], promoted = two_lead_pass(base[idx], sig, other, samples[idx], fs, v)
        if promoted.any():
            fired[name] = [int(promoted.sum()), int((promoted & (y[idx] == v)).sum())]
    Path("/tmp/look").mkdir(exist_ok=True)
    np.savez("/tmp/look/ds1oof.npz", y=y, p=p, out=base, names=names, samples=samples,
             codes=np.array(codes))
    result = {"DS1-OOF": {BASELINE: ectopic_figures(y, base, codes),
                          CANDIDATE: ectopic_figures(y, cand, codes)},
              "DS1-OOF read V by record (all, true V)": fired, "DS1 second leads": leads}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    yq, pq, qq, qfired, qleads = [], [], [], {}, {}
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(_m._dq.SHARED / "qtdb" / name, annotator="atr", other_lead=True)
        res = classify_record(rec, clf)
        qleads[name] = [rec.lead, rec.other_lead]
        got, promoted = res.probabilities, np.zeros(len(res.samples), bool)
        if rec.other_signal is not None:
            other = condition_signal(rec.other_signal, rec.fs, clf.conditioning)
            got, promoted = two_lead_pass(res.probabilities, model_signal(rec, clf), other,
                                          res.samples, res.fs, v)
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
    result["QT36 leads"] = qleads
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["QT36"][BASELINE], result["QT36"][CANDIDATE]
    checks = {
        "(1) V Se >= committed + 1": [c["V Se"], b["V Se"] + 1],
        "(1) V +P >= committed - 1": [c["V +P"], b["V +P"] - 1],
        "(1) accuracy >= committed - 0.05": [c["accuracy"], b["accuracy"] - 0.05],
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
    raise SystemExit(main())

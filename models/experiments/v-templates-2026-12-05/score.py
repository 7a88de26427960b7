"""RULE.md's deciding run: the committed reading with and without the group templates of the
V calls (``group_template_reading`` below, applied after the committed readings), on DS1-OOF
and the 36 QT validation records. No DS2 record, no held-out QT record. Writes
validation.json.

    python models/experiments/v-templates-2026-12-05/score.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.analysis import classify_record, model_signal  # noqa: E402
from ecg_core.beats import _qrs_stretches, qrs_width_s, record_readings  # noqa: E402
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
BASELINE, CANDIDATE = "committed", "with the group templates"


def group_template_reading(probabilities, signal, positions, fs, v_index, *, cut=0.10,
                           min_group=5, threshold=0.95, margin=0.10, cluster_threshold=0.90,
                           min_width_gain_s=0.010, max_share=0.5, min_calls=3):
    """RULE.md's candidate: beats read as another class matching a group template of the V
    calls are read V. Returns (float32 (n, k), bool (n,))."""
    q = np.array(probabilities, dtype=np.float64)
    n = len(q)
    promoted = np.zeros(n, bool)
    called = q.argmax(axis=1) == v_index if n else np.zeros(0, bool)
    if not n or not min_calls <= called.sum() <= max_share * n:
        return q.astype(np.float32), promoted
    stretch, whole = _qrs_stretches(signal, positions, fs)
    inside = called[whole]
    norms = np.linalg.norm(stretch, axis=1)
    usable = inside & (norms > 0)
    if usable.sum() < min_group or whole.sum() < 3:
        return q.astype(np.float32), promoted
    typical = np.median(stretch, axis=0)
    nt = np.linalg.norm(typical)
    if nt <= 1e-12:
        return q.astype(np.float32), promoted
    labels = fcluster(linkage(stretch[usable], method="average", metric="cosine"), t=cut,
                      criterion="distance")
    with np.errstate(invalid="ignore", divide="ignore"):
        to_t = np.where(norms > 0, stretch @ typical / (norms * nt), np.nan)
    hit = np.zeros(len(stretch), bool)
    for lab in np.unique(labels):
        members = stretch[usable][labels == lab]
        if len(members) < min_group:
            continue
        tpl = np.median(members, axis=0)
        nv = np.linalg.norm(tpl)
        if nv <= 1e-12 or tpl @ typical / (nv * nt) >= cluster_threshold or \
                qrs_width_s(tpl, fs) - qrs_width_s(typical, fs) < min_width_gain_s - 1e-9:
            continue
        with np.errstate(invalid="ignore", divide="ignore"):
            to_v = np.where(norms > 0, stretch @ tpl / (norms * nv), np.nan)
            hit |= ~inside & (to_v >= threshold) & (to_v - to_t >= margin)
    rows = np.flatnonzero(whole)[hit]
    top = q[rows].argmax(axis=1)
    q[rows, top], q[rows, v_index] = q[rows, v_index], q[rows, top]
    promoted[rows] = True
    return q.astype(np.float32), promoted


def main() -> int:
    y, p, names, samples, codes, signals = _m.committed_reading()
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
                                    af_fold=CARD["af_fold"],
                                    v_template=CARD["v_template"]).probabilities
        cand[idx], promoted = group_template_reading(base[idx], sig, samples[idx], fs, v)
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
        got, promoted = group_template_reading(res.probabilities, model_signal(rec, clf),
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
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["QT36"][BASELINE], result["QT36"][CANDIDATE]
    checks = {
        "(1) V Se >= committed + 2": [c["V Se"], b["V Se"] + 2],
        "(1) V +P >= committed - 2": [c["V +P"], b["V +P"] - 2],
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
    sys.exit(main())

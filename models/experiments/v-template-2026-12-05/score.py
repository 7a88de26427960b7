"""RULE.md's deciding run: the committed reading with and without the V-template reading
(``v_template_reading`` below, applied last; not in the library, as it did not qualify), on DS1-OOF and the 36 QT validation records.
No DS2 record, no held-out QT record. Writes validation.json.

    python models/experiments/v-template-2026-12-05/score.py
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
BASELINE, CANDIDATE = "committed", "with the V-template reading"


def v_template_reading(probabilities: np.ndarray, signal: np.ndarray, positions: np.ndarray,
                       fs: float, v_index: int, *, threshold: float = 0.95,
                       margin: float = 0.10, cluster_threshold: float = 0.90,
                       tightness: float = 0.90, max_share: float = 0.5, min_calls: int = 3
                       ) -> tuple[np.ndarray, np.ndarray]:
    """The V-template reading of one record's beats: a beat read N or S (any class but V)
    whose QRS is shaped like the record's own V calls is read V.

    The V template is the sample-wise median of the QRS stretches (as :func:`qrs_similarity`
    takes them) of the beats read V. Where at least ``min_calls`` beats are read V (no more
    than ``max_share`` of all), the template differs from the typical QRS (cosine under
    ``cluster_threshold``; else :func:`v_cluster_reading`'s case) and the V calls form a tight
    cluster (the median of their cosine similarities to the template at least ``tightness``),
    each other beat whose QRS has cosine similarity at least ``threshold`` with the template,
    and more than its similarity with the typical QRS by at least ``margin``, is read V: its V
    probability and its largest probability are swapped. Holter analysers label beats by
    morphology templates the same way.

    Args:
        probabilities: float array, shape (n, k), one record's class probabilities.
        signal, positions, fs: as for :func:`qrs_similarity`.
        v_index: the column of class V.
        threshold, margin, cluster_threshold, tightness, max_share, min_calls: as above.

    Returns:
        ``(probabilities, promoted)``: float32 (n, k), rows summing to 1, and bool (n,), the
        beats read V by this reading.

    Raises:
        ValueError: if the shapes do not match.
    """
    p = np.asarray(probabilities, dtype=np.float64)
    pos = np.asarray(positions).reshape(-1)
    if p.ndim != 2 or len(p) != len(pos) or not 0 <= v_index < p.shape[1]:
        raise ValueError(f"Probabilities of shape {p.shape} and {len(pos)} positions do not "
                         "match.")
    promoted = np.zeros(len(p), dtype=bool)
    q = p.copy()
    called_v = p.argmax(axis=1) == v_index if len(p) else np.zeros(0, bool)
    if not len(p) or not min_calls <= called_v.sum() <= max_share * len(p):
        return q.astype(np.float32), promoted
    stretch, whole = _qrs_stretches(signal, pos, fs)
    inside = called_v[whole]
    if whole.sum() < 3 or inside.sum() < min_calls:
        return q.astype(np.float32), promoted
    typical = np.median(stretch, axis=0)
    template = np.median(stretch[inside], axis=0)
    nt, nv = np.linalg.norm(typical), np.linalg.norm(template)
    if nt <= 1e-12 or nv <= 1e-12:
        return q.astype(np.float32), promoted
    norms = np.linalg.norm(stretch, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        to_v = np.where(norms > 0, stretch @ template / (norms * nv), np.nan)
        to_t = np.where(norms > 0, stretch @ typical / (norms * nt), np.nan)
    if template @ typical / (nt * nv) >= cluster_threshold or \
            not np.nanmedian(to_v[inside]) >= tightness:
        return q.astype(np.float32), promoted
    with np.errstate(invalid="ignore"):
        hit = ~inside & (to_v >= threshold) & (to_v - to_t >= margin)
    rows = np.flatnonzero(whole)[hit]
    top = q[rows].argmax(axis=1)
    q[rows, top], q[rows, v_index] = q[rows, v_index], q[rows, top]
    promoted[rows] = True
    return q.astype(np.float32), promoted


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
        cand[idx], promoted = v_template_reading(base[idx], sig, samples[idx], fs, v)
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
        got, promoted = v_template_reading(res.probabilities, model_signal(rec, clf),
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

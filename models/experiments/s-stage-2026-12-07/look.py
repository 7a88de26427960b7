"""A look (disclosed) on DS1-OOF only: could a learned second stage tell S from N among the
beats the committed readings read N or S, better than those readings do? Per beat: the
readings' N, S and V probabilities, how early it comes and how long the pause after it is
(rr_prematurity), its RR before and after over the record's median RR, its QRS similarity to
the record's typical QRS, how alike its stretch before the QRS is to its neighbours'
(atrial_correlation) and the irregular-rhythm flag. A gradient-boosted tree model
(scikit-learn HistGradientBoostingClassifier) is fitted leaving one record out at a time, so
that every record is read by a stage that never saw it. No DS2 record, no QT record.
Writes look.txt and oof-features.npz (under data/, not committed).

    python models/experiments/s-stage-2026-12-07/look.py
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT))

from ecg_core.beats import (atrial_correlation, irregular_rr, qrs_similarity,  # noqa: E402
                            record_readings, rr_prematurity)
from ecg_core.conditioning import condition_signal  # noqa: E402
from ecg_core.evaluation import ectopic_figures  # noqa: E402
from ecg_core.records import read_record  # noqa: E402

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location(
    "align_score", HERE.parent / "qrs-alignment-2026-12-05" / "score.py")
_a = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_a)
CARD = json.loads((ROOT / "models" / "aami" / "ecgnet.card.json").read_text())
ALIGN_S = CARD["qrs_alignment"]["max_shift_ms"] / 1000.0
SHARED = ROOT.parent / "shared"
CACHE = ROOT / "data" / "s-stage-oof-features.npz"
NAMES = ("log N", "log S", "log V", "RR before / reference", "RR after / reference",
         "RR before / record median", "RR after / record median", "QRS similarity",
         "atrial correlation", "irregular")


def record_features(p, sig, other, pos, fs, codes):
    """The committed readings' probabilities (float32 (n, k)) and the stage's features
    (float64 (n, len(NAMES))) of one record's beats in time order."""
    got = record_readings(p, sig, pos, fs, codes, dominant_qrs=CARD["dominant_qrs"],
                          af_fold=CARD["af_fold"], v_template=CARD["v_template"],
                          other_signal=other, qrs_align_s=ALIGN_S,
                          premature_s=CARD["premature_s"])
    q = np.asarray(got.probabilities, dtype=np.float64)
    before, after = rr_prematurity(pos, fs, CARD["premature_s"]["reference_beats"])
    rr = np.diff(pos.astype(np.float64)) / fs
    med = np.median(rr) if len(rr) else np.nan
    pre, post = np.full(len(pos), np.nan), np.full(len(pos), np.nan)
    pre[1:], post[:-1] = rr / med, rr / med
    v = codes.index("V")
    x = np.column_stack([
        np.log(q[:, codes.index("N")] + 1e-6), np.log(q[:, codes.index("S")] + 1e-6),
        np.log(q[:, v] + 1e-6), before, after, pre, post,
        qrs_similarity(sig, pos, fs, ALIGN_S),
        atrial_correlation(sig, pos, fs, usable=q.argmax(1) != v),
        irregular_rr(pos, fs).astype(float)])
    return q.astype(np.float32), x


def ds1_features():
    """DS1-OOF labels, committed readings, features and record names (cached under data/)."""
    if CACHE.exists():
        z = np.load(CACHE)
        return z["y"], z["q"], z["x"], z["names"], list(z["codes"])
    y, p, names, samples, codes = _a.ds1_oof()
    q = np.zeros_like(p, dtype=np.float32)
    x = np.full((len(y), len(NAMES)), np.nan)
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        idx = idx[np.argsort(samples[idx])]
        rec = read_record(SHARED / "mitdb" / name, lead="MLII", annotator=None, other_lead=True)
        sig = condition_signal(rec.signal, rec.fs, "bandpass")
        other = condition_signal(rec.other_signal, rec.fs, "bandpass")
        q[idx], x[idx] = record_features(p[idx], sig, other, samples[idx], rec.fs, codes)
        print(name, flush=True)
    np.savez_compressed(CACHE, y=y, q=q, x=x, names=names, codes=np.array(codes))
    return y, q, x, names, list(codes)


def loro_stage(y, q, x, names, codes, threshold=0.5, **params):
    """Each record's N/S calls re-decided by a stage fitted on the other 21 records' beats
    read N or S. Returns the new probabilities-like array's argmax (int (n,))."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    n_, s_ = codes.index("N"), codes.index("S")
    pred = q.argmax(1)
    ns = (pred == n_) | (pred == s_)
    out = pred.copy()
    for name in sorted(set(names)):
        test = ns & (names == name)
        train = ns & (names != name)
        m = HistGradientBoostingClassifier(random_state=0, **params)
        m.fit(x[train], (y[train] == s_).astype(int))
        if test.any():
            ps = m.predict_proba(x[test])[:, 1]
            out[test] = np.where(ps > threshold, s_, n_)
    return out


def main() -> int:
    y, q, x, names, codes = ds1_features()
    lines = []
    def row(label, pred):
        f = ectopic_figures(y, np.eye(len(codes))[pred], codes)
        lines.append(f"{label}: " + ", ".join(f"{k} {v:.2f}" for k, v in f.items()
                                           if isinstance(v, float)))
        print(lines[-1], flush=True)
    row("committed readings", q.argmax(1))
    for params in ({"max_depth": 3, "max_iter": 100}, {"max_depth": 3, "max_iter": 200,
                   "learning_rate": 0.05}, {"max_leaf_nodes": 15, "max_iter": 100}):
        for th in (0.3, 0.5):
            row(f"stage {params}, threshold {th}", loro_stage(y, q, x, names, codes, th, **params))
    (HERE / "look.txt").write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

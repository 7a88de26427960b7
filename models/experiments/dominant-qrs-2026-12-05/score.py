"""Validation figures of R95, the dominant-QRS reading of RULE.md (beside this file): a beat
read V keeps that reading only where its QRS differs from its record's typical QRS.

1. DS1-OOF (deciding): the committed composite (E2) from the saved out-of-fold outputs of
   ``../ds1-cv-2026-11-28/`` (local context, V) and ``../record-rr-cv-2026-11-28/`` (record
   context, the rest), class-mix shift 0.25 after the temperature, as
   ``../record-noise-2026-12-05/score.py`` reads its baseline; without and with R95, the QRS
   stretches from the band-passed MLII of each DS1 record at its built beats' R peaks.
2. V-QT36: the committed ``aami/ecgnet`` on the 36 QT validation records (Record page path,
   reference beats), without and with R95.

Run from the repository root (about 5 min on 2 cores):
    python models/experiments/dominant-qrs-2026-12-05/score.py
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
DATA = ROOT / "data" / "aami-bp-leads"
SHARED = ROOT.parent / "shared"
SHIFT, THRESHOLD = 0.25, 0.95
BEFORE_S, AFTER_S = 0.10, 0.15
BASELINE, CANDIDATE = "committed composite (E2)", "with R95"
_spec = importlib.util.spec_from_file_location(
    "record_noise_score", EXPERIMENTS / "record-noise-2026-12-05" / "score.py")
_rn = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_rn)
AAMI = {"N": "N", "L": "N", "R": "N", "e": "N", "j": "N", "A": "S", "a": "S", "J": "S",
        "S": "S", "V": "V", "E": "V", "F": "F", "/": "Q", "f": "Q", "Q": "Q"}


def similarity(signal: np.ndarray, positions: np.ndarray, fs: float) -> np.ndarray:
    """Cosine similarity of each beat's QRS stretch (BEFORE_S before to AFTER_S after R, less
    its median) with the record's typical QRS (the sample-wise median of the stretches).
    float64 (n,); NaN where the stretch runs off the signal."""
    x = np.asarray(signal, dtype=np.float64)
    b, a = int(round(BEFORE_S * fs)), int(round(AFTER_S * fs))
    pos = np.asarray(positions, dtype=np.int64)
    ok = (pos - b >= 0) & (pos + a < len(x))
    out = np.full(len(pos), np.nan)
    if ok.sum() < 3:
        return out
    seg = x[pos[ok][:, None] + np.arange(-b, a)[None]]
    seg = seg - np.median(seg, axis=1, keepdims=True)
    typical = np.median(seg, axis=0)
    out[ok] = seg @ typical / (np.linalg.norm(seg, axis=1) * np.linalg.norm(typical) + 1e-12)
    return out


def r95(probs: np.ndarray, r: np.ndarray, v: int) -> np.ndarray:
    """The reading of RULE.md on one record's probabilities (float (n, k)) and similarities."""
    q = np.array(probs, dtype=np.float64)
    called_v = q.argmax(axis=1) == v
    if called_v.mean() > 0.5:
        return q
    veto = called_v & (r >= THRESHOLD)
    q[veto, v] = 0.0
    q[veto] /= q[veto].sum(axis=1, keepdims=True)
    return q


def main() -> int:
    local, _ = _rn._recipe("ds1-cv-2026-11-28")
    record, _ = _rn._recipe("record-rr-cv-2026-11-28")
    ys, ps, rs, recs, start = [], [], [], [], 0
    codes = None
    for protocol in DS1_CV_PROTOCOLS:
        _, y, rows = load_split(DATA, "test", protocol)
        sl = slice(start, start + len(y))
        start += len(y)
        card = _fold_card(protocol)
        ratio = class_mix_log_ratio(card, DATA)[0]
        codes = codes or [c["code"] for c in card["classes"]]
        v = codes.index("V")
        p = shift_probabilities(_rn.guarded(local[sl], record[sl], v), SHIFT * ratio)
        r = np.full(len(y), np.nan)
        names = np.array([row["record"] for row in rows])
        for name in sorted(set(names)):
            idx = np.flatnonzero(names == name)
            rec = read_record(SHARED / "mitdb" / name, lead="MLII", annotator=None)
            sig = condition_signal(rec.signal, rec.fs, "bandpass")
            samples = np.array([int(rows[i]["sample"]) for i in idx])
            order = np.argsort(samples)
            r[idx[order]] = similarity(sig, samples[order], rec.fs)
        ys.append(y), ps.append(p), rs.append(r), recs.append(names)
        print(protocol, "read", flush=True)
    y, p, r, names = map(np.concatenate, (ys, ps, rs, recs))
    q = p.copy()
    for name in sorted(set(names)):
        idx = np.flatnonzero(names == name)
        q[idx] = r95(p[idx], r[idx], v)
    result = {"DS1-OOF": {BASELINE: ectopic_figures(y, p, codes),
                          CANDIDATE: ectopic_figures(y, q, codes)}}
    moved = (p.argmax(1) == v) & (q.argmax(1) != v)
    result["DS1-OOF moved from V"] = {
        "beats": int(moved.sum()),
        "by true class": dict(Counter(codes[i] for i in y[moved])),
        "to": dict(Counter(codes[i] for i in q[moved].argmax(1))),
        "by record": dict(Counter(names[moved]).most_common())}
    clf = Classifier.load(ROOT / "models" / "aami" / "ecgnet.keras")
    yq, pq, qq = [], [], []
    for name in QTDB_TRAIN + QTDB_VAL:
        rec = read_record(SHARED / "qtdb" / name, annotator="atr")
        res = classify_record(rec, clf)
        keep = np.array([s in AAMI for s in res.reference])
        sim = similarity(model_signal(rec, clf), res.samples, res.fs)
        yq.append(np.array([codes.index(AAMI[s]) for s in np.array(res.reference)[keep]]))
        pq.append(res.probabilities[keep])
        qq.append(r95(res.probabilities, sim, v)[keep])
    yq, pq, qq = map(np.concatenate, (yq, pq, qq))
    result["V-QT36"] = {BASELINE: ectopic_figures(yq, pq, codes),
                        CANDIDATE: ectopic_figures(yq, qq, codes)}
    b, c = result["DS1-OOF"][BASELINE], result["DS1-OOF"][CANDIDATE]
    qb, qc = result["V-QT36"][BASELINE]["accuracy"], result["V-QT36"][CANDIDATE]["accuracy"]
    checks = {
        "(1) C >= baseline + 3": [c["C"], b["C"] + 3, c["C"] >= b["C"] + 3],
        "(2) accuracy >= baseline - 0.5": [c["accuracy"], b["accuracy"] - 0.5,
                                           c["accuracy"] >= b["accuracy"] - 0.5],
        "(3) V-QT36 accuracy >= baseline - 0.5": [qc, qb - 0.5, qc >= qb - 0.5],
        "(4) S Se >= baseline - 5": [c["S Se"], b["S Se"] - 5, c["S Se"] >= b["S Se"] - 5],
        "(4) V Se >= baseline - 3": [c["V Se"], b["V Se"] - 3, c["V Se"] >= b["V Se"] - 3],
    }
    result["checks"] = checks
    result["qualifies"] = all(ok for *_, ok in checks.values())
    (HERE / "validation.json").write_text(json.dumps(result, indent=1))
    print(ectopic_table(result, [BASELINE, CANDIDATE], "reading"))
    print(json.dumps(result["DS1-OOF moved from V"]))
    for k, (value, bound, ok) in checks.items():
        print(f"{k}: {value:.2f} against {bound:.2f}: {'holds' if ok else 'fails'}")
    print("qualifies" if result["qualifies"] else "does not qualify")
    return 0


def _fold_card(protocol: str) -> dict:
    """The record-context fold network's card (recipe and classes) of 2026-11-28."""
    return json.loads((EXPERIMENTS / "record-rr-cv-2026-11-28"
                       / f"{protocol}.card.json").read_text())


if __name__ == "__main__":
    sys.exit(main())
